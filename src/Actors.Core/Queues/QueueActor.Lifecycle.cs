using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Actors.Protocol;
using static Actors.Protocol.QueueEvents;
using static Actors.Protocol.QueueQueries;

namespace Actors.Queues;

/// <summary>
/// Emptying and ending the queue partition: an operator's purge of what waits for delivery, and the retirement of a
/// partition whose queue is being deleted (<see cref="Retiring"/>).
/// </summary>
internal sealed partial class QueueActor
{
    private readonly List<IActorRef> _retireRequesters = new();
    private int _retiredMessages;
    private long _retireTo = -1;
    private int _retireDeletesPending;

    /// <summary>
    /// Purges what waits for delivery: the messages leave the dispatch order at once (nothing of them starts while the
    /// purge is written), and the requester hears the count once the one <see cref="MessagesPurged"/> event is stored.
    /// </summary>
    private void OnPurgeQueue(QueueLifecycle.Purge command)
    {
        var ids = _state.BeginPurge();
        var replyTo = Sender;
        if (ids.IsEmpty)
        {
            replyTo.Tell(new QueueLifecycle.Purged(_queueId, 0));
            return;
        }
        _log.Info("Queue {0}: purging {1} waiting message(s)", Partitions.EntityId(_queueId, _partition), ids.Length);
        _writer.BufferDecision(new MessagesPurged(ids, Now),
            onCommitted: () => replyTo.Tell(new QueueLifecycle.Purged(_queueId, ids.Length)),
            onRejected: () => replyTo.Tell(new QueueUnavailable(_queueId, $"Queue '{_queueId}' could not store the purge; nothing was purged. Retry it.")));
        Flush();
        Dispatch();
    }

    /// <summary>
    /// The queue is being deleted: consumers hear <see cref="ConsumerProtocol.ConsumerCancelled"/> and are let go, the
    /// pool takes no more deliveries, and once the writes in flight and any compaction under way are done the journal
    /// and snapshots are deleted (see <see cref="Retiring"/>).
    /// </summary>
    private void OnRetire(QueueLifecycle.RetirePartition command)
    {
        _retireRequesters.Add(Sender);
        _retiredMessages = _state.PendingCount;
        foreach (var consumer in _pool.Consumers.ToList())
        {
            Context.Unwatch(consumer);
            consumer.Tell(new ConsumerProtocol.ConsumerCancelled(_queueId));
        }
        _pool.Retire();
        // Nothing writes to the archive or the redrive jobs' stream from now on.
        Context.Stop(_redriveJobs);
        if (_archive is not null) Context.Stop(_archive);
        _log.Info("Queue {0}: deleting ({1} message(s) held)", Partitions.EntityId(_queueId, _partition), _retiredMessages);
        Become(Retiring);
        Flush();
        DeleteJournalWhenQuiet();
    }

    /// <summary>
    /// Final mode of a partition whose queue is being deleted: intake answers "unknown queue", workers' reports are
    /// ignored, and the journal's and snapshot store's deletes are awaited; then the requester hears
    /// <see cref="QueueLifecycle.PartitionRetired"/> and the host stops the queue for good.
    /// </summary>
    private void Retiring()
    {
        Command<DeleteMessagesSuccess>(_ => RetireDeleteDone(), s => _retireTo >= 0 && s.ToSequenceNr == _retireTo);
        Command<DeleteMessagesFailure>(f => RetireFailed(f.Cause), f => _retireTo >= 0 && f.ToSequenceNr == _retireTo);
        // The archive's and the redrive jobs' streams (deleted to the end, long.MaxValue): what fails there is disk space only.
        Command<DeleteMessagesSuccess>(_ => RetireDeleteDone(), s => _retireTo >= 0 && s.ToSequenceNr == long.MaxValue);
        Command<DeleteMessagesFailure>(f => AuxiliaryDeleteFailed(f.Cause), f => _retireTo >= 0 && f.ToSequenceNr == long.MaxValue);
        Command<DeleteSnapshotsSuccess>(_ => RetireDeleteDone(), s => _retireTo >= 0 && s.Criteria.MaxSequenceNr == long.MaxValue);
        Command<DeleteSnapshotsFailure>(f => RetireFailed(f.Cause), f => _retireTo >= 0 && f.Criteria.MaxSequenceNr == long.MaxValue);
        // A compaction under way finishes first, so no snapshot is saved after the deletes.
        CompactionReplies(ended: DeleteJournalWhenQuiet);
        Command<Tick>(_ => DeleteJournalWhenQuiet());
        // A second delete under way: answered with the first.
        Command<QueueLifecycle.RetirePartition>(_ => _retireRequesters.Add(Sender));
        Command<IWithQueueId>(message =>
        {
            if (QueueHost.Unavailable(message, RejectionCode.UnknownQueue, $"Queue '{_queueId}' does not exist.") is { } reply) Sender.Tell(reply);
        });
        Command<Terminated>(_ => { });
    }

    private void DeleteJournalWhenQuiet()
    {
        if (_retireTo >= 0 || !_writer.IsIdle || _compaction.InProgress) return;
        _retireTo = LastSequenceNr;
        _retireDeletesPending = 5;
        DeleteMessages(_retireTo);
        DeleteSnapshots(new SnapshotSelectionCriteria(long.MaxValue));
        // The queue's other streams: the archive of payloads and results, and the redrive jobs (whose actors stopped).
        var persistence = Akka.Persistence.Persistence.Instance.Apply(Context.System);
        var journal = persistence.JournalFor(JournalPluginId);
        var redrivePersistenceId = RedriveJobActor.PersistenceIdFor(_queueId, _partition);
        journal.Tell(new DeleteMessagesTo(PayloadArchive.PersistenceIdFor(PersistenceId), long.MaxValue, Self));
        journal.Tell(new DeleteMessagesTo(redrivePersistenceId, long.MaxValue, Self));
        persistence.SnapshotStoreFor(SnapshotPluginId).Tell(new DeleteSnapshots(redrivePersistenceId, new SnapshotSelectionCriteria(long.MaxValue)), Self);
    }

    private void AuxiliaryDeleteFailed(Exception cause)
    {
        _log.Warning(cause, "Queue {0}: could not delete its archive or redrive-job stream; they hold nothing a new queue of the name reads", _queueId);
        RetireDeleteDone();
    }

    private void RetireDeleteDone()
    {
        if (--_retireDeletesPending > 0) return;
        _log.Info("Queue {0}: deleted", Partitions.EntityId(_queueId, _partition));
        foreach (var requester in _retireRequesters) requester.Tell(new QueueLifecycle.PartitionRetired(_queueId, _retiredMessages));
        Context.Parent.Tell(new QueueHost.QueueRetired(_queueId));
    }

    private void RetireFailed(Exception cause)
    {
        _log.Error(cause, "Queue {0}: could not delete its journal; the queue restarts and the delete can be repeated", _queueId);
        foreach (var requester in _retireRequesters) requester.Tell(new QueueUnavailable(_queueId, $"Queue '{_queueId}' could not delete its journal: {cause.Message}. Delete it again."));
        Context.Stop(Self);
    }
}

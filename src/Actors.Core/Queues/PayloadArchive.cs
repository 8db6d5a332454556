using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using static Actors.Protocol.QueueEvents;

namespace Actors.Queues;

/// <summary>
/// A queue partition's archive: a second journal stream (<c>queue-{name}-{partition}-archive</c>, see
/// <see cref="PersistenceIdFor"/>) that holds dead letters' payloads and succeeded results once they leave the queue's
/// memory, so compaction of the queue's own stream never deletes them and never has to keep old events for them. It
/// keeps no state: memory holds only the sequence number of the <see cref="PayloadsArchived"/> event that has an item,
/// reads go through the SQL read journal by that number, and the queue deletes the archive's prefix once no snapshot
/// refers to it (<see cref="Trim"/>). It skips recovery (only its highest sequence number is read), so it starts at
/// once however much it holds.
/// </summary>
internal sealed class PayloadArchive : ReceivePersistentActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private long _deletedTo;

    /// <summary>An archive that writes to <paramref name="persistenceId"/>.</summary>
    public PayloadArchive(string persistenceId)
    {
        PersistenceId = persistenceId;
        Command<Store>(store =>
        {
            var replyTo = Sender;
            Persist(new PayloadsArchived(store.Items), _ => replyTo.Tell(new Stored(store.Items, LastSequenceNr)));
        });
        Command<Trim>(trim =>
        {
            if (trim.ToSequenceNr <= _deletedTo) return;
            _deletedTo = trim.ToSequenceNr;
            DeleteMessages(trim.ToSequenceNr);
        });
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning(f.Cause, "Archive {0}: could not delete events up to {1}; the next trim tries again", PersistenceId, f.ToSequenceNr));
    }

    /// <inheritdoc />
    public override string PersistenceId { get; }

    /// <summary>Nothing to replay: the archive's events are read by sequence number when needed.</summary>
    public override Recovery Recovery => Recovery.None;

    /// <summary>The archive's persistence id for the queue stream <paramref name="queuePersistenceId"/>.</summary>
    public static string PersistenceIdFor(string queuePersistenceId) => queuePersistenceId + "-archive";

    /// <summary>Props for the archive of the queue stream <paramref name="queuePersistenceId"/>.</summary>
    public static Props Props(string queuePersistenceId) =>
        Akka.Actor.Props.Create(() => new PayloadArchive(PersistenceIdFor(queuePersistenceId)));

    /// <inheritdoc />
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        _log.Error(cause, "Archive {0}: the journal rejected a write", PersistenceId);
        if (@event is PayloadsArchived archived) Context.Parent.Tell(new StoreFailed(archived.Items));
    }

    /// <summary>Store <paramref name="Items"/> in one event; answered with <see cref="Stored"/> once it is written.</summary>
    public sealed record Store(ImmutableArray<ArchivedPayload> Items);

    /// <summary><paramref name="Items"/> are in archive event <paramref name="SequenceNr"/>.</summary>
    public sealed record Stored(ImmutableArray<ArchivedPayload> Items, long SequenceNr);

    /// <summary>The write of <paramref name="Items"/> was rejected; they stay where they were.</summary>
    public sealed record StoreFailed(ImmutableArray<ArchivedPayload> Items);

    /// <summary>Delete the archive's events up to <paramref name="ToSequenceNr"/>: nothing refers to them any more.</summary>
    public sealed record Trim(long ToSequenceNr);
}

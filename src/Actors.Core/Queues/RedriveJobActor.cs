using System.Collections.Immutable;
using Actors.Protocol;
using Actors.State;
using Akka.Actor;
using Akka.Event;
using Akka.Pattern;
using Akka.Persistence;
using static Actors.Protocol.RedriveJobs;

namespace Actors.Queues;

/// <summary>
/// The persisted redrive jobs of one queue partition: a child of its <see cref="QueueActor"/> (so in a cluster it
/// moves with the sharding entity), with its own journal stream <c>queue-{name}-{partition}-redrive</c>, which leaves
/// the queue's events and snapshot format as they are. It stores each job's selection and progress and drives the
/// queue: one chunk of ids per tick (<c>RedrivePerSecond</c>), the next only after the queue answers that the chunk's
/// <see cref="QueueEvents.DeadLettersRedrivenEvent"/> committed. A chunk the queue could not store is sent again
/// later, with backoff; a chunk sent again after a crash is harmless, as the queue skips ids no longer dead-lettered.
/// On recovery it resumes where its last stored progress was. When a job ends, a snapshot of the jobs still active
/// replaces the stream's events, so the stream stays short.
/// <para>Behaviours: <see cref="Idle"/> (the tick sends the next chunk), <see cref="AwaitingChunk"/> (one chunk is
/// with the queue) and <see cref="BackingOff"/> (after a failed chunk, until the retry timer fires).</para>
/// </summary>
internal sealed class RedriveJobActor : ReceivePersistentActor, IWithTimers
{
    /// <summary>Longest a chunk may wait for the queue's answer before it counts as failed.</summary>
    public static readonly TimeSpan ChunkTimeout = TimeSpan.FromSeconds(30);

    /// <summary>First wait after a failed chunk; it doubles with each failure in a row, up to <see cref="MaxBackoff"/>.</summary>
    public static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest wait after failed chunks.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly string _queueId;
    private readonly int _partition;
    private readonly IActorRef _queue;
    private readonly int _chunkSize;
    private readonly TimeSpan _tickInterval;
    private readonly TimeProvider _time;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private RedriveJobBook _book;
    private int _failuresInARow;
    // Who waits for the start or cancel being stored, answered also when the journal does not store it.
    private (IRedriveJobEvent Event, IActorRef Requester)? _awaitingStore;

    public RedriveJobActor(string queueId, int partition, IActorRef queue, int chunkSize, TimeSpan tickInterval, TimeProvider time)
    {
        _queueId = queueId;
        _partition = partition;
        _queue = queue;
        _chunkSize = chunkSize;
        _tickInterval = tickInterval;
        _time = time;
        _book = new RedriveJobBook(partition);
        PersistenceId = PersistenceIdFor(queueId, partition);

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is RedriveJobsSnapshot snapshot) _book = RedriveJobBook.FromSnapshot(_partition, snapshot);
        });
        Recover<IRedriveJobEvent>(evt => _book.Apply(evt));
        Recover<RecoveryCompleted>(_ =>
        {
            TickWhileJobsRun();
            ReportJobs();
            if (!_book.IsEmpty) _log.Info("Queue {0}: resuming {1} redrive job(s)", _queueId, _book.Statuses().Length);
            Become(Idle);
        });
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The journal's persistence id of a queue partition's redrive jobs.</summary>
    public static string PersistenceIdFor(string queueId, int partition) => QueueActor.PersistenceIdFor(queueId, partition) + "-redrive";

    /// <summary>
    /// Props of the actor behind a backoff supervisor, so a journal failure (which stops it) is followed by a restart
    /// and recovery. Messages to the supervisor reach the actor with their sender; while it is stopped, whoever sent one
    /// (the queue forwards requests, so the requester) is answered with <see cref="QueueQueries.QueueUnavailable"/>.
    /// </summary>
    public static Props SupervisedProps(string queueId, int partition, IActorRef queue, int chunkSize, TimeSpan tickInterval, TimeProvider time)
    {
        var props = Akka.Actor.Props.Create(() => new RedriveJobActor(queueId, partition, queue, chunkSize, tickInterval, time));
        var unavailable = new QueueQueries.QueueUnavailable(queueId, $"Queue '{queueId}': its redrive jobs are restarting after a journal failure; retry.");
        return BackoffSupervisor.Props(Backoff.OnStop(props, "jobs", TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), 0.2, maxNrOfRetries: -1)
            .WithReplyWhileStopped(unavailable));
    }

    private DateTime Now => _time.GetUtcNow().UtcDateTime;

    // ---------------------------------------------------------------- behaviours

    /// <summary>No chunk is with the queue: the next tick sends the oldest job's next chunk.</summary>
    private void Idle()
    {
        Requests();
        Command<Tick>(_ => SendNextChunk());
    }

    /// <summary><paramref name="chunk"/> is with the queue; ticks wait for its answer.</summary>
    private void AwaitingChunk(RedriveChunkPlan chunk)
    {
        Requests();
        Command<Tick>(_ => { });
        Command<RedriveProtocol.ChunkStored>(stored =>
        {
            if (stored.JobId != chunk.JobId || stored.End != chunk.End) return;
            Timers.Cancel("chunk-timeout");
            _failuresInARow = 0;
            Become(Idle);
            // A job cancelled while its chunk was with the queue records no more progress.
            if (_book.Status(chunk.JobId) is null) return;
            Persist(new RedriveChunkDone(chunk.JobId, chunk.End), done =>
            {
                _book.Apply(done);
                ReportJobs();
                FinishIfComplete(chunk.JobId);
            });
        });
        Command<RedriveProtocol.ChunkFailed>(failed =>
        {
            if (failed.JobId == chunk.JobId && failed.End == chunk.End) BackOff(failed.Reason);
        });
        Command<ChunkTimedOut>(_ => BackOff($"the queue did not answer within {ChunkTimeout}"));
    }

    /// <summary>A chunk failed: nothing is sent until the retry timer fires.</summary>
    private void BackingOff()
    {
        Requests();
        Command<Tick>(_ => { });
        Command<RetryNow>(_ => Become(Idle));
    }

    /// <summary>What every behaviour answers: start, list and cancel, and the snapshot cleanup's replies.</summary>
    private void Requests()
    {
        Command<RedriveProtocol.StartJob>(OnStart);
        Command<ListRedriveJobs>(_ => Sender.Tell(new RedriveJobList(_queueId, _book.Statuses())));
        Command<CancelRedriveJob>(OnCancel);
        Command<SaveSnapshotSuccess>(saved =>
        {
            DeleteMessages(saved.Metadata.SequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(saved.Metadata.SequenceNr - 1));
        });
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "Queue {0}: redrive-job snapshot failed; the events stay until the next one", _queueId));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning(f.Cause, "Queue {0}: could not delete redrive-job events", _queueId));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning(f.Cause, "Queue {0}: could not delete old redrive-job snapshots", _queueId));
    }

    // ---------------------------------------------------------------- requests

    private void OnStart(RedriveProtocol.StartJob start)
    {
        var jobId = start.JobId;
        var evt = new RedriveJobStarted(jobId, start.Ids, Now, start.RequestedBy);
        _awaitingStore = (evt, start.ReplyTo);
        Persist(evt, started =>
        {
            _awaitingStore = null;
            _book.Apply(started);
            _log.Info("Queue {0}: redrive job {1} started for {2} dead letter(s) at up to {3} a tick", _queueId, jobId, started.Ids.Length, _chunkSize);
            start.ReplyTo.Tell(new DeadLetterCommands.DeadLettersRedriven(_queueId, 0, [_book.Status(jobId)!]));
            ReportJobs();
            TickWhileJobsRun();
        });
    }

    private void OnCancel(CancelRedriveJob cancel)
    {
        var sender = Sender;
        if (_book.Status(cancel.JobId) is not { } status)
        {
            sender.Tell(new RedriveJobCancelResult(_queueId, cancel.JobId, false, null));
            return;
        }
        var evt = new RedriveJobCancelled(cancel.JobId, Now, cancel.RequestedBy);
        _awaitingStore = (evt, sender);
        Persist(evt, cancelled =>
        {
            _awaitingStore = null;
            _book.Apply(cancelled);
            _log.Info("Queue {0}: redrive job {1} cancelled after {2} of {3}", _queueId, cancel.JobId, status.Redriven, status.Total);
            sender.Tell(new RedriveJobCancelResult(_queueId, cancel.JobId, true, status));
            JobEnded();
        });
    }

    // ---------------------------------------------------------------- chunks

    private void SendNextChunk()
    {
        if (_book.NextChunk(_chunkSize) is not { } chunk) return;
        if (chunk.Ids.IsEmpty)
        {
            // Every id was handled before the job could be marked finished (a crash in between).
            FinishIfComplete(chunk.JobId);
            return;
        }
        _queue.Tell(new RedriveProtocol.Chunk(chunk.JobId, chunk.End, chunk.Ids));
        Timers.StartSingleTimer("chunk-timeout", ChunkTimedOut.Instance, ChunkTimeout);
        Become(() => AwaitingChunk(chunk));
    }

    private void BackOff(string reason)
    {
        Timers.Cancel("chunk-timeout");
        _failuresInARow++;
        var delay = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, MinBackoff.Ticks * (1L << Math.Min(_failuresInARow - 1, 16))));
        _log.Warning("Queue {0}: a redrive chunk was not stored ({1}); retrying in {2}", _queueId, reason, delay);
        Timers.StartSingleTimer("retry", RetryNow.Instance, delay);
        Become(BackingOff);
    }

    private void FinishIfComplete(string jobId)
    {
        if (!_book.IsComplete(jobId)) return;
        var total = _book.Status(jobId)!.Total;
        Persist(new RedriveJobFinished(jobId, Now), finished =>
        {
            _book.Apply(finished);
            _log.Info("Queue {0}: redrive job {1} finished ({2} dead letters)", _queueId, jobId, total);
            JobEnded();
        });
    }

    /// <summary>The tick runs only while a job is active, so an idle queue's jobs actor costs no timer.</summary>
    private void TickWhileJobsRun()
    {
        if (_book.IsEmpty) Timers.Cancel("tick");
        else if (!Timers.IsTimerActive("tick")) Timers.StartPeriodicTimer("tick", Tick.Instance, _tickInterval);
    }

    /// <summary>A job left the book: the snapshot of the rest replaces the stream's events.</summary>
    private void JobEnded()
    {
        ReportJobs();
        TickWhileJobsRun();
        SaveSnapshot(_book.ToSnapshot());
    }

    /// <summary>The queue keeps the jobs' statuses for its stats.</summary>
    private void ReportJobs() => _queue.Tell(new RedriveProtocol.JobsChanged(_book.Statuses()));

    // ---------------------------------------------------------------- journal failures

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        _log.Error(cause, "Queue {0}: the journal rejected a redrive-job event {1}", _queueId, @event.GetType().Name);
        AnswerRequester(@event, $"the journal rejected the write: {cause.Message}");
        // A rejected progress event is written again when the chunk is sent again (its ids are skipped then).
        if (@event is RedriveChunkDone) BackOff("its progress was not stored");
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        _log.Error(cause, "Queue {0}: the journal failed to store a redrive-job event; the job actor restarts with backoff", _queueId);
        AnswerRequester(@event, $"the journal is unavailable: {cause.Message}");
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    /// <summary>A start or cancel the journal did not store: its requester learns at once (nothing changed).</summary>
    private void AnswerRequester(object @event, string reason)
    {
        if (_awaitingStore is not { } awaiting || !ReferenceEquals(awaiting.Event, @event)) return;
        _awaitingStore = null;
        var what = @event is RedriveJobStarted ? "the redrive job" : "the cancellation of the redrive job";
        awaiting.Requester.Tell(new QueueQueries.QueueUnavailable(_queueId, $"Queue '{_queueId}' could not store {what}: {reason}; retry it."));
    }

    // ---------------------------------------------------------------- self messages

    private sealed class Tick : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly Tick Instance = new();
        private Tick() { }
    }

    private sealed class RetryNow : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly RetryNow Instance = new();
        private RetryNow() { }
    }

    private sealed class ChunkTimedOut : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly ChunkTimedOut Instance = new();
        private ChunkTimedOut() { }
    }
}

/// <summary>What a queue partition and its <see cref="RedriveJobActor"/> tell each other (always on the same node).</summary>
internal static class RedriveProtocol
{
    /// <summary>Queue → jobs: start a job for these sorted ids and answer <paramref name="ReplyTo"/> once it is stored.</summary>
    public sealed record StartJob(string JobId, ImmutableArray<long> Ids, string? RequestedBy, IActorRef ReplyTo);

    /// <summary>Jobs → queue: redrive these ids (those still dead-lettered), then answer with <see cref="ChunkStored"/> or <see cref="ChunkFailed"/>.</summary>
    public sealed record Chunk(string JobId, int End, ImmutableArray<long> Ids);

    /// <summary>Queue → jobs: the chunk's write committed.</summary>
    public sealed record ChunkStored(string JobId, int End);

    /// <summary>Queue → jobs: the chunk was not stored; it is to be sent again later.</summary>
    public sealed record ChunkFailed(string JobId, int End, string Reason);

    /// <summary>Jobs → queue: the active jobs now, for the queue's stats.</summary>
    public sealed record JobsChanged(ImmutableArray<RedriveJobStatus> Jobs);
}

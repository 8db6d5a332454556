using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Handlers;
using Actors.Monitoring;
using Actors.Protocol;
using Actors.State;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Routing;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueEvents;
using static Actors.Protocol.QueueQueries;
using static Actors.Protocol.WorkerProtocol;

namespace Actors.Queues;

/// <summary>
/// One queue partition: an event-sourced actor whose journal holds every accepted message and its fate. It is a
/// switchboard: it receives, persists, applies and replies, and leaves each concern to a plain class it owns —
/// <see cref="GroupCommitWriter"/> (buffers and writes in flight; producers are answered from the write's callback,
/// never before), <see cref="WorkerPool"/> (which worker or attached consumer gets the next delivery, at most prefetch each),
/// <see cref="PayloadReader"/> (payloads read back from the journal), <see cref="DeadLetterOperations"/> and
/// <see cref="CompactionPolicy"/> (snapshots and deletes), <see cref="OutcomeWaiters"/> (callers waiting for outcomes); its child <see cref="RedriveJobActor"/> persists redrive jobs
/// larger than one chunk and feeds their chunks back to it; the pure <see cref="QueueState"/> decides what may run
/// next and what a failure leads to.
/// <para>Modes are behaviours. Recovering is Akka.Persistence's replay (the <c>Recover</c> handlers; commands wait in
/// its stash) and ends in <see cref="Running"/>. Running becomes <see cref="Compacting"/> while a snapshot is saved and
/// the events it covers are deleted (writes wait for the save and each slice of the deletes), and returns to Running after. A <see cref="Drain"/> in either
/// leads to <see cref="Draining"/>, which is final: intake is closed, the pool retired, and a compaction under way or
/// due is finished there.</para>
/// </summary>
internal sealed partial class QueueActor : ReceivePersistentActor, IWithTimers
{
    /// <summary>Messages per enqueue event; about 100 is where a bigger row stops paying off.</summary>
    public const int MessagesPerEvent = 100;

    /// <summary>Most messages one journal write carries; the rest wait for the next write.</summary>
    public const int MessagesPerWrite = 5_000;

    /// <summary>
    /// Journal writes in flight at once on a journal with parallel writers (PostgreSQL): the next write is prepared
    /// while the previous one is being committed. SQLite has one writer, so there one write at a time carries all
    /// that arrived meanwhile (measured ~10% more throughput than two).
    /// </summary>
    public static int WritesInFlightFor(JournalKind journal) => journal == JournalKind.Sqlite ? 1 : 2;

    /// <summary>Acknowledgements per acknowledgement event.</summary>
    public const int AcksPerEvent = 1_000;

    private static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// A snapshot is due once the events since the last one carry a quarter of the queue's messages: recovery then
    /// replays at most that, and a snapshot (which stores no payload the journal holds) costs ~30 bytes a message.
    /// </summary>
    public const int SnapshotReplayFraction = 4;

    /// <summary>Most bytes one archive write carries (at least one item).</summary>
    public const long ArchiveBytesPerWrite = 16 * 1024 * 1024;

    /// <summary>Most journal events one read of payloads covers.</summary>
    public const int EventsPerPayloadRead = 64;

    /// <summary>
    /// Most scheduled messages made ready in one turn of the actor: when more are due at once, the rest follow in the
    /// next turns, so producers' commands are handled in between.
    /// </summary>
    public const int PromotionsPerTurn = 5_000;

    /// <summary>Longest the due timer is set for; it is set again when it fires, so far-off due times need no long timers.</summary>
    private static readonly TimeSpan LongestDueTimer = TimeSpan.FromMinutes(1);

    private readonly string _queueId;
    private readonly int _partition;
    private readonly QueueOptions _options;
    private readonly HandlerRegistry _handlers;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;
    private readonly TimeSpan _drainTimeout;
    private readonly QueueClusterOptions _cluster;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Random _random = new();
    private readonly Action<IQueueEvent> _onCommitted;

    private QueueState _state;
    private QueueMetrics _metrics;

    private readonly QueueIntake _intake;
    private readonly GroupCommitWriter _writer;
    private readonly WorkerPool _pool;
    private readonly PayloadReader _payloads;
    private readonly DeadLetterOperations _deadLetters;
    private readonly CompactionPolicy _compaction;
    private readonly OutcomeWaiters _waiters;
    private readonly DispatchGate _gate;
    private IMaterializer? _materializer;
    private SqlReadJournal? _readJournal;
    private DateTime? _dueTimerAt;
    private IActorRef _redriveJobs = ActorRefs.Nobody;
    private ImmutableArray<RedriveJobs.RedriveJobStatus> _redriveStatuses = [];
    private IActorRef? _archive;
    private ImmutableArray<ArchivedPayload>? _archiving;
    private long _archivedTo;
    private long _archiveTrimTo;
    private long _previousSnapshotArchiveTrimTo;
    private DateTime _archivePausedUntil;
    private bool _archiveReading;
    private long _archiveMissing;
    private int _archiveMisses;

    public QueueActor(string queueId, int partition, QueueOptions options, HandlerRegistry handlers, IServiceProvider services, TimeProvider time, TimeSpan drainTimeout, QueueClusterOptions cluster, JournalKind journal)
    {
        _cluster = cluster;
        _partition = partition;
        _queueId = queueId;
        _options = options;
        _handlers = handlers;
        _services = services;
        _time = time;
        _drainTimeout = drainTimeout;
        _state = new QueueState(queueId, options);
        _metrics = new QueueMetrics(Now);
        _intake = new QueueIntake(queueId, time, DeclaredQueues.Of(Context.System) is { } declared ? declared.Contains : null);
        _writer = new GroupCommitWriter(WritesInFlightFor(journal));
        _pool = new WorkerPool(options.Prefetch);
        _payloads = new PayloadReader(options.PayloadMemoryBytes, time);
        _deadLetters = new DeadLetterOperations(queueId, options.RedrivePerSecond, TickInterval);
        _compaction = new CompactionPolicy(options.SnapshotEvery);
        _waiters = new OutcomeWaiters(options.MaxWaiters);
        _gate = new DispatchGate(options, Now);
        _onCommitted = OnCommitted;
        PersistenceId = PersistenceIdFor(queueId, partition);

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is not QueueSnapshot snapshot) return;
            _state = QueueState.FromSnapshot(_queueId, _options, snapshot);
            _compaction.Recovered(offer.Metadata.SequenceNr, QueueState.PayloadLowWatermark(snapshot, ifNone: offer.Metadata.SequenceNr + 1));
        });
        Recover<IQueueEvent>(evt =>
        {
            _state.Apply(evt, LastSequenceNr);
            if (evt is MessagesEnqueued enqueued) _payloads.CountEnqueued(enqueued);
        });
        Recover<RecoveryCompleted>(_ => OnRecovered());
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The journal's persistence id of a queue partition.</summary>
    public static string PersistenceIdFor(string queueId, int partition = 0) => $"queue-{queueId}-{partition}";

    /// <summary>Props for the actor of one queue partition.</summary>
    public static Props Props(string queueId, int partition, QueueOptions options, HandlerRegistry handlers, IServiceProvider services, TimeProvider time, TimeSpan drainTimeout, QueueClusterOptions cluster, JournalKind journal) =>
        Akka.Actor.Props.Create(() => new QueueActor(queueId, partition, options, handlers, services, time, drainTimeout, cluster, journal));

    private DateTime Now => _time.GetUtcNow().UtcDateTime;

    // ---------------------------------------------------------------- behaviours

    /// <summary>The normal mode: intake open, writes start as soon as the writer allows.</summary>
    private void Running()
    {
        OpenIntake();
        CommonCommands();
        Command<Drain>(_ => BeginDrain(Sender));
    }

    /// <summary>A snapshot is being saved and the events and snapshots it covers deleted: writes wait for the save and each delete (see <see cref="CompactionPolicy"/>).</summary>
    private void Compacting()
    {
        OpenIntake();
        CommonCommands();
        CompactionReplies(ended: () => Become(Running));
        Command<Drain>(_ => BeginDrain(Sender));
    }

    /// <summary>
    /// Shutting down: intake is closed, the pool retired (no new deliveries), and the queue waits until its writes and
    /// outstanding deliveries are done, or the drain times out, to answer <paramref name="requester"/> (Nobody once answered).
    /// </summary>
    private void Draining(IActorRef requester)
    {
        ClosedIntake();
        CommonCommands();
        CompactionReplies(ended: static () => { });
        Command<DrainCheck>(_ => CheckDrained(requester));
        Command<DrainTimedOut>(_ => FinishDrain(requester));
        Command<Drain>(_ => { });
    }

    /// <summary>Handlers every mode after recovery shares.</summary>
    private void CommonCommands()
    {
        Command<Completed>(OnCompleted);
        Command<Failed>(OnFailed);
        Command<Tick>(_ => OnTick());
        Command<DueTick>(_ => OnDue());
        Command<PermitTick>(_ => Dispatch());
        Command<CancelMessage>(OnCancel);
        Command<KeyCommands.ChangeKey>(OnChangeKey);
        Command<PauseCommands.Pause>(OnPause);
        Command<PauseCommands.Resume>(OnResume);
        Command<FindByIdempotencyKey>(OnFindByIdempotencyKey);
        Command<Routees>(OnRoutees);
        Command<ConsumerProtocol.Attach>(OnAttach);
        Command<ConsumerProtocol.Detach>(OnDetach);
        Command<Terminated>(OnTerminated);
        Command<GetMessage>(query => AnswerMessage(query.MessageId, Sender));
        Command<OutcomeWaits.WaitForOutcome>(OnWaitForOutcome);
        Command<OutcomeWaits.StopWaiting>(stop => _waiters.Remove(stop.MessageId, stop.CorrelationId));
        Command<PayloadsRead>(OnPayloadsRead);
        Command<PayloadReadFailed>(OnPayloadReadFailed);
        Command<PayloadArchive.Stored>(OnArchived);
        Command<PayloadArchive.StoreFailed>(failed => OnArchiveFailed(failed.Items));
        Command<ArchivedPayloadsRead>(OnArchivedPayloadsRead);
        Command<ArchivedPayloadReadFailed>(failed =>
        {
            _archiveReading = false;
            _archivePausedUntil = Now + PayloadReader.PauseAfterFailure;
            _log.Warning(failed.Cause, "Queue {0}: could not read archived payloads; retrying in a second", _queueId);
        });
        Command<GetPlacement>(_ => Sender.Tell(Placement()));
        Command<RefreshWorkers>(_ => RefreshClusterPool());
        Command<ReplaceWorkers>(_ => RequestReplacements());
        Command<AutoscaleTick>(_ => OnAutoscaleTick());
        Command<DeadLetterCommands.ListDeadLetters>(query => Sender.Tell(_deadLetters.Page(_state, query)));
        Command<DeadLetterCommands.GroupDeadLetters>(_ => Sender.Tell(new DeadLetterCommands.DeadLetterGroups(_queueId, _state.GroupDeadLetters())));
        Command<DeadLetterCommands.RedriveDeadLetters>(OnRedrive);
        Command<RedriveProtocol.Chunk>(OnRedriveChunk);
        Command<RedriveProtocol.JobsChanged>(changed => _redriveStatuses = changed.Jobs);
        Command<RedriveJobs.ListRedriveJobs>(list => _redriveJobs.Forward(list));
        Command<RedriveJobs.CancelRedriveJob>(cancel => _redriveJobs.Forward(cancel));
        Command<DeadLetterCommands.PurgeDeadLetters>(OnPurge);
        Command<QueueLifecycle.Purge>(OnPurgeQueue);
        Command<QueueLifecycle.RetirePartition>(OnRetire);
        FollowUpCommands();
    }

    private void OpenIntake()
    {
        Command<Enqueue>(OnEnqueue);
        Command<EnqueueBatch>(OnEnqueueBatch);
        Command<GetStats>(_ => Sender.Tell(Stats(accepting: true)));
    }

    private void ClosedIntake()
    {
        Command<Enqueue>(command => Sender.Tell(_intake.ShuttingDown(command)));
        Command<EnqueueBatch>(batch => Sender.Tell(_intake.ShuttingDown(batch)));
        Command<GetStats>(_ => Sender.Tell(Stats(accepting: false)));
    }

    // ---------------------------------------------------------------- recovery

    private void OnRecovered()
    {
        // Ids carry the partition in their high bits (see Partitions).
        _intake.ContinueAfter(Math.Max(_state.LastId, Partitions.IdBase(_partition)));
        _metrics = new QueueMetrics(Now);
        Become(Running);
        if (PoolSize > 0) StartPool(PoolSize);
        StartAutoscale();
        Timers.StartPeriodicTimer("tick", Tick.Instance, TickInterval);
        ArmDueTimer();
        _redriveJobs = Context.ActorOf(RedriveJobActor.SupervisedProps(_queueId, _partition, Self, _deadLetters.RedriveChunkSize, TickInterval, _time), "redrive-jobs");
        _log.Info("Queue {0} recovered: {1} pending, {2} dead-lettered, last id {3}", Partitions.EntityId(_queueId, _partition), _state.PendingCount, _state.DeadLetterCount, _state.LastId);
        Context.Parent.Tell(new QueueHost.QueueRecovered(_queueId));
    }

    // ---------------------------------------------------------------- intake

    private void OnEnqueue(Enqueue command)
    {
        if (_intake.Enqueue(command, Sender, _state, _writer) is { } rejected) Sender.Tell(rejected);
        else Flush();
    }

    private void OnEnqueueBatch(EnqueueBatch batch)
    {
        if (_intake.EnqueueBatch(batch, Sender, _state, _writer) is { } result) Sender.Tell(result);
        else Flush();
    }

    // ---------------------------------------------------------------- group commit

    /// <summary>
    /// Starts journal writes for what is buffered, as many as the writer allows, unless the
    /// <see cref="CompactionPolicy"/> holds writes (a snapshot is due or under way). While draining, tells the queue to
    /// check whether the drain is done once nothing is left to write or deliver.
    /// </summary>
    private void Flush()
    {
        while (!_compaction.HoldsWrites && _writer.CanStartWrite) PersistAllAsync(_writer.StartWrite().Events, _onCommitted);
        // Persist callbacks run outside the behaviours, so the Draining behaviour (which knows whom to answer) checks.
        if (_pool.Retired && _writer.IsIdle && _pool.Outstanding == 0) Self.Tell(DrainCheck.Instance);
    }

    private void OnCommitted(IQueueEvent evt)
    {
        var write = _writer.CommitNext(out var index);
        if (WritePathBreakdown.Enabled) WritePathBreakdown.Committed(evt);
        ApplyCommitted(evt, write.Replies[index]);
        write.Callbacks[index]?.Invoke();
        ArchiveRetained();
        if (write.IsDone) OnWriteDone(write);
    }

    private void ApplyCommitted(IQueueEvent evt, List<IReplyTarget>? replies)
    {
        // In a persist callback LastSequenceNr is the sequence number of the event being confirmed.
        _state.Apply(evt, LastSequenceNr);
        RecordCommitted(evt);
        var now = Now;
        switch (evt)
        {
            case MessagesEnqueued enqueued:
                _payloads.CountEnqueued(enqueued);
                _metrics.RecordArrivals(enqueued.Messages.Length, now);
                _writer.Accept(_queueId, enqueued, replies!);
                _intake.Committed(enqueued);
                ArmDueTimer();
                Dispatch();
                break;
            case MessagesAcked acked:
                for (var i = 0; i < acked.Acks.Length; i++) _metrics.RecordCompletion(now);
                break;
            case RetryScheduled retry:
                if (retry.DueAt <= now && _state.PromoteDue(now, PromotionsPerTurn) > 0) Dispatch();
                ArmDueTimer();
                break;
            case QueueResumed:
                Dispatch();
                break;
            case DeadLettered or Discarded or MessageCancelled:
                _metrics.RecordCompletion(now);
                break;
            case MessagesExpired expired:
                for (var i = 0; i < expired.Ids.Length; i++) _metrics.RecordCompletion(now);
                break;
        }
        NotifyWaiters(evt);
        SendFollowUps(now);
    }

    private void OnWriteDone(PendingWrite write)
    {
        if (!_writer.Complete(write)) return;
        RecordWrite(write);
        _compaction.OnWriteDone(write.Events, _state.PendingCount + _state.DeadLetterCount);
        // A finished keyed message lets the next one of its key start.
        if (_state.ActiveKeys > 0) Dispatch();
        StartSnapshotIfDue();
        ContinueCleanup();
        Flush();
    }

    // ---------------------------------------------------------------- journal failures

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        _log.Error(cause, "Queue {0}: the journal rejected a write of {1}", _queueId, @event.GetType().Name);
        // The whole write was one atomic write, so all of it was rejected; later calls for its other events find nothing.
        if (_writer.RemoveWriteOf(@event) is not { } write) return;
        // A snapshot that became due, or a delete, while this write was in flight was waiting for it.
        _compaction.OnWriteDone([], _state.PendingCount + _state.DeadLetterCount);
        StartSnapshotIfDue();
        ContinueCleanup();
        var reason = $"The journal rejected the write: {cause.Message}";
        for (var i = write.Committed; i < write.Events.Count; i++)
            if (write.Events[i] is MessagesEnqueued enqueued) _intake.Released(enqueued, reason);
        _writer.Reject(write, _queueId, reason, _state.ReturnToReady);
        Flush();
        Dispatch();
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        _log.Error(cause, "Queue {0}: the journal failed to store a write; the queue stops and restarts with backoff", _queueId);
        Context.Parent.Tell(new QueueHost.QueueStopping(_queueId));
        _writer.FailAll(_queueId, $"The journal is unavailable: {cause.Message}");
        _intake.FailAll($"The journal is unavailable: {cause.Message}");
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        _log.Error(reason, "Queue {0}: recovery failed; the queue restarts with backoff", _queueId);
        Context.Parent.Tell(new QueueHost.QueueStopping(_queueId));
        base.OnRecoveryFailure(reason, message);
    }

    // ---------------------------------------------------------------- shutdown

    private void BeginDrain(IActorRef requester)
    {
        _pool.Retire();
        Become(() => Draining(requester));
        // Deliveries handed to workers but not started are returned to the queue by the next restart.
        Timers.StartSingleTimer("drain", DrainTimedOut.Instance, _drainTimeout);
        CheckDrained(requester);
    }

    private void CheckDrained(IActorRef requester)
    {
        if (!_writer.IsIdle || _pool.Outstanding > 0) return;
        FinishDrain(requester);
    }

    private void FinishDrain(IActorRef requester)
    {
        if (requester.IsNobody()) return;
        var unfinished = _pool.Outstanding;
        requester.Tell(new Drained(_queueId, unfinished));
        _log.Info("Queue {0} drained ({1} deliveries unfinished, redelivered after restart)", _queueId, unfinished);
        Become(() => Draining(ActorRefs.Nobody));
        Timers.Cancel("drain");
    }

    // ---------------------------------------------------------------- reports

    private QueueStats Stats(bool accepting) =>
        QueueReports.Stats(_queueId, _state, _metrics, StatsWorkers, Now, accepting) with
        {
            RedriveJobs = _redriveStatuses.IsEmpty ? null : _redriveStatuses, Limits = _gate.Stats(), Autoscale = AutoscaleReport(), Consumers = _pool.ConsumerCount,
        };

    private QueuePlacement Placement() =>
        QueueReports.Placement(_queueId, _partition, ((ExtendedActorSystem)Context.System).Provider.DefaultAddress, _pool.AliveWorkers);
}

using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Handlers;
using Actors.Protocol;
using Actors.State;
using Actors.Workers;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Cluster.Routing;
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
/// never before), <see cref="WorkerPool"/> (which worker gets the next delivery, at most prefetch each),
/// <see cref="PayloadReader"/> (payloads read back from the journal), <see cref="DeadLetterOperations"/> and
/// <see cref="CompactionPolicy"/> (snapshots and deletes), <see cref="OutcomeWaiters"/> (callers waiting for outcomes); its child <see cref="RedriveJobActor"/> persists redrive jobs
/// larger than one chunk and feeds their chunks back to it; the pure <see cref="QueueState"/> decides what may run
/// next and what a failure leads to.
/// <para>Modes are behaviours. Recovering is Akka.Persistence's replay (the <c>Recover</c> handlers; commands wait in
/// its stash) and ends in <see cref="Running"/>. Running becomes <see cref="Compacting"/> while a snapshot is saved and
/// the events it covers are deleted (writes wait), and returns to Running after. A <see cref="Drain"/> in either
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

    /// <summary>A snapshot is being saved and the events and snapshots it covers deleted: writes wait (see <see cref="CompactionPolicy"/>).</summary>
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
        Command<Routees>(OnRoutees);
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
        Command<DeadLetterCommands.ListDeadLetters>(query => Sender.Tell(_deadLetters.Page(_state, query)));
        Command<DeadLetterCommands.GroupDeadLetters>(_ => Sender.Tell(new DeadLetterCommands.DeadLetterGroups(_queueId, _state.GroupDeadLetters())));
        Command<DeadLetterCommands.RedriveDeadLetters>(OnRedrive);
        Command<RedriveProtocol.Chunk>(OnRedriveChunk);
        Command<RedriveProtocol.JobsChanged>(changed => _redriveStatuses = changed.Jobs);
        Command<RedriveJobs.ListRedriveJobs>(list => _redriveJobs.Forward(list));
        Command<RedriveJobs.CancelRedriveJob>(cancel => _redriveJobs.Forward(cancel));
        Command<DeadLetterCommands.PurgeDeadLetters>(OnPurge);
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

    // ---------------------------------------------------------------- recovery and pool

    private void OnRecovered()
    {
        // Ids carry the partition in their high bits (see Partitions).
        _intake.ContinueAfter(Math.Max(_state.LastId, Partitions.IdBase(_partition)));
        _metrics = new QueueMetrics(Now);
        Become(Running);
        StartPool(_options.Workers);
        Timers.StartPeriodicTimer("tick", Tick.Instance, TickInterval);
        ArmDueTimer();
        _redriveJobs = Context.ActorOf(RedriveJobActor.SupervisedProps(_queueId, _partition, Self, _deadLetters.RedriveChunkSize, TickInterval, _time), "redrive-jobs");
        _log.Info("Queue {0} recovered: {1} pending, {2} dead-lettered, last id {3}", Partitions.EntityId(_queueId, _partition), _state.PendingCount, _state.DeadLetterCount, _state.LastId);
        Context.Parent.Tell(new QueueHost.QueueRecovered(_queueId));
    }

    /// <summary>
    /// Starts the consumer pool: a pool router that deploys and supervises the workers (restarting one that
    /// crashes, within <see cref="WorkerPool.Supervision"/>'s limits). The queue learns the routees and sends each delivery to a chosen one, so it knows which worker
    /// holds what and can watch them. In a cluster the router is cluster-aware: it deploys <c>size</c> workers on
    /// every node with the worker role, including nodes that join later, and the queue asks it for its workers
    /// every <see cref="QueueClusterOptions.WorkerRefresh"/> to start using new ones.
    /// </summary>
    private void StartPool(int size)
    {
        var supervisor = WorkerPool.Supervision();
        var name = _pool.NextRouterName();
        var props = _cluster.Enabled
            ? Worker.ClusterProps().WithRouter(new ClusterRouterPool(new RoundRobinPool(0).WithSupervisorStrategy(supervisor),
                new ClusterRouterPoolSettings(totalInstances: size * 10_000, maxInstancesPerNode: size, allowLocalRoutees: true, useRole: ClusterRoles.Worker)))
            : Worker.Props(_handlers, _services).WithRouter(new RoundRobinPool(size).WithSupervisorStrategy(supervisor));
        var router = Context.ActorOf(props, name);
        _pool.UseRouter(router);
        Context.Watch(router);
        router.Tell(GetRoutees.Instance);
        if (_cluster.Enabled) Timers.StartPeriodicTimer("refresh-workers", RefreshWorkers.Instance, _cluster.WorkerRefresh);
    }

    private void OnRoutees(Routees routees)
    {
        var members = new HashSet<IActorRef>();
        foreach (var routee in routees.Members)
            if (routee is ActorRefRoutee { Actor: var worker }) members.Add(worker);
        foreach (var worker in _pool.Learn(members)) Context.Watch(worker);
        Dispatch();
    }

    private void OnTerminated(Terminated terminated)
    {
        if (terminated.ActorRef.Equals(_archive))
        {
            // The archive stops when its journal write fails; a new one is started at the next archive write.
            _archive = null;
            if (_archiving is { } items) OnArchiveFailed(items);
            return;
        }
        if (_pool.IsRouter(terminated.ActorRef))
        {
            // A pool router stops itself when its last routee is gone; start a fresh pool of the missing size.
            // Replacements still pending are part of the missing size.
            _pool.TakeReplacements();
            Timers.Cancel(ReplaceWorkers.Key);
            var missing = _cluster.Enabled ? _options.Workers : _options.Workers - _pool.AliveCount;
            if (!_pool.Retired && missing > 0) StartPool(missing);
            return;
        }
        if (!_pool.TryRemove(terminated.ActorRef, out var slot)) return;
        TakeBack(slot, new ErrorInfo("WorkerStopped", "The worker stopped before finishing the delivery.", null, terminated.ActorRef.Path.ToString(), Now));
        if (!terminated.AddressTerminated) ReplaceWorker();
        Dispatch();
    }

    /// <summary>A worker is gone: every delivery it still held goes back to the queue at once, as a failed attempt.</summary>
    private void TakeBack(int slot, ErrorInfo error)
    {
        foreach (var message in _state.InFlightAt(slot))
        {
            if (_state.TryBeginFailure(message.Id, message.Attempt, out var failing))
            {
                _pool.Release(slot);
                Decide(failing, error, RequestedFailureAction.RetryAfter, TimeSpan.Zero);
            }
        }
    }

    /// <summary>
    /// Keeps a local pool at its size: asks the router for a replacement worker, at once or after the backoff the
    /// <see cref="WorkerPool"/> sets when workers keep dying. A cluster-aware pool is topped up by
    /// <see cref="RefreshClusterPool"/>.
    /// </summary>
    private void ReplaceWorker()
    {
        if (_pool.Retired || _cluster.Enabled) return;
        var delay = _pool.ScheduleReplacement(Now);
        if (delay <= TimeSpan.Zero) RequestReplacements();
        else if (!Timers.IsTimerActive(ReplaceWorkers.Key)) Timers.StartSingleTimer(ReplaceWorkers.Key, ReplaceWorkers.Instance, delay);
    }

    /// <summary>
    /// Tops up a cluster-aware pool and learns its workers. Such a router deploys workers only when it hears of the
    /// cluster's members; handing it the current state makes it deploy again on nodes where workers stopped (abandoned,
    /// or past their restart limit), at most once per <see cref="QueueClusterOptions.WorkerRefresh"/>.
    /// </summary>
    private void RefreshClusterPool()
    {
        _pool.Router.Tell(Akka.Cluster.Cluster.Get(Context.System).State);
        _pool.Router.Tell(GetRoutees.Instance);
    }

    private void RequestReplacements()
    {
        var count = _pool.TakeReplacements();
        if (count == 0) return;
        _pool.Router.Tell(new AdjustPoolSize(count));
        // Learn the new workers' addresses.
        _pool.Router.Tell(GetRoutees.Instance);
    }

    private void Dispatch()
    {
        if (_pool.Retired) return;
        var now = Now;
        var held = false;
        while (_state.ReadyCount > 0)
        {
            var slot = _pool.PickWorker();
            if (slot < 0) break;
            if (_gate.Limited && !_gate.MayStart(_pool.Outstanding, now))
            {
                held = true;
                ArmPermitTimer(now);
                break;
            }
            // Null when the next messages' payloads are still being read back from the journal.
            if (_state.Dispatch(slot, now) is not { } message) break;
            _gate.Started(now);
            if (message.FailedAttempts == 0) _metrics.RecordWait(now - message.EnqueuedAt, now);
            _pool.Take(slot).Tell(new Deliver(_queueId, message.Id, message.Attempt, message.Type, message.Payload, message.Headers, message.EnqueuedAt, _options.Lease));
        }
        if (!held) _gate.Unheld();
        ExpireDue(now);
        ReadPayloads();
        ReadArchivedPayloads();
    }

    /// <summary>
    /// The rate limit holds dispatch back: a timer for its next token, so the delivery starts then rather than at the
    /// next tick. Waits of a tick or longer are left to the tick, which dispatches too.
    /// </summary>
    private void ArmPermitTimer(DateTime now)
    {
        if (_gate.RetryAt(now) is not { } at || Timers.IsTimerActive(PermitTick.Key)) return;
        var delay = at - now;
        if (delay < TickInterval) Timers.StartSingleTimer(PermitTick.Key, PermitTick.Instance, delay > TimeSpan.Zero ? delay : TimeSpan.Zero);
    }

    // ---------------------------------------------------------------- time: due messages, expiry, cancellation

    /// <summary>
    /// Keeps one timer at the earliest due time (delayed messages and retries), so a message starts as soon as it is
    /// due rather than at the next tick; the tick promotes due messages too, as a fallback.
    /// </summary>
    private void ArmDueTimer()
    {
        if (_state.NextDueAt is not { } due || (_dueTimerAt is { } armed && armed <= due)) return;
        var delay = due - Now;
        _dueTimerAt = due;
        Timers.StartSingleTimer("due", DueTick.Instance, delay <= TimeSpan.Zero ? TimeSpan.Zero : delay < LongestDueTimer ? delay : LongestDueTimer);
    }

    private void OnDue()
    {
        _dueTimerAt = null;
        PromoteDue();
        ArmDueTimer();
    }

    /// <summary>
    /// Makes due messages ready, at most <see cref="PromotionsPerTurn"/> at a time: when more are due, the rest follow
    /// after the commands already in the mailbox, so a burst due at once never stalls intake.
    /// </summary>
    private void PromoteDue()
    {
        if (_state.PromoteDue(Now, PromotionsPerTurn) == PromotionsPerTurn) Self.Tell(DueTick.Instance);
        Dispatch();
    }

    /// <summary>Writes the expiry of messages that were not started before they expired (found on the way to a worker, or by their expiry time).</summary>
    private void ExpireDue(DateTime now)
    {
        var ending = _state.TakeExpired(now);
        if (ending.Count == 0) return;
        var deadLetter = _options.ExpiredAction == ExpiredMessageAction.DeadLetter;
        _log.Info("Queue {0}: {1} message(s) expired before they started; {2}", _queueId, ending.Count, deadLetter ? "dead-lettered" : "dropped");
        _writer.BufferDecision(new MessagesExpired(ending.Select(m => m.Id).ToImmutableArray(), now, deadLetter));
        Flush();
    }

    /// <summary>
    /// Cancels a message: it leaves the dispatch order (or its worker's slot, whose handler's token is fired) at once,
    /// and the requester hears the outcome once the cancellation is stored.
    /// </summary>
    private void OnCancel(CancelMessage command)
    {
        var outcome = _state.BeginCancel(command.MessageId, out var previous, out var slot, out var attempt);
        if (outcome != CancelOutcome.Cancelled)
        {
            Sender.Tell(new CancelResult(_queueId, command.MessageId, outcome, previous, command.CorrelationId));
            return;
        }
        if (slot >= 0)
        {
            _pool.Release(slot);
            _pool.HolderOf(slot)?.Tell(new CancelDelivery(_queueId, command.MessageId, attempt));
        }
        var replyTo = Sender;
        _writer.BufferDecision(new MessageCancelled(command.MessageId, Now),
            onCommitted: () => replyTo.Tell(new CancelResult(_queueId, command.MessageId, CancelOutcome.Cancelled, previous, command.CorrelationId)),
            onRejected: () => replyTo.Tell(new CancelResult(_queueId, command.MessageId, CancelOutcome.JournalUnavailable, previous, command.CorrelationId)));
        Flush();
        Dispatch();
    }

    // ---------------------------------------------------------------- payloads kept in the journal

    /// <summary>Reads the next payloads the state wants from the journal, when the <see cref="PayloadReader"/> says so.</summary>
    private void ReadPayloads()
    {
        if (!_payloads.TryStart(_state, out var from, out var to)) return;
        ReadEvents(from, to).PipeTo(Self,
            success: read => new PayloadsRead(read),
            failure: e => new PayloadReadFailed(e));
    }

    /// <summary>A run of this queue's events (or, with <paramref name="persistenceId"/>, its archive's), through the SQL read journal.</summary>
    private Task<IImmutableList<EventEnvelope>> ReadEvents(long from, long to, string? persistenceId = null)
    {
        _materializer ??= Context.Materializer();
        try
        {
            // Opening the read journal waits (up to 5 s) for the write journal to start, and throws if it has not.
            _readJournal ??= PersistenceQuery.Get(Context.System).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        }
        catch (AggregateException e)
        {
            return Task.FromException<IImmutableList<EventEnvelope>>(e);
        }
        return _readJournal.CurrentEventsByPersistenceId(persistenceId ?? PersistenceId, from, to).RunWith(Sink.Seq<EventEnvelope>(), _materializer);
    }

    private void OnPayloadsRead(PayloadsRead read)
    {
        var attached = 0;
        foreach (var envelope in read.Events)
            if (envelope.Event is MessagesEnqueued enqueued) attached += _state.AttachPayloads(envelope.SequenceNr, enqueued);
        var wanted = _state.PayloadsWanted;
        if (_payloads.OnRead(attached, wanted) is { } missing) DeadLetterPayloadsMissing(missing);
        else if (attached == 0)
            _log.Error("Queue {0}: the journal returned none of the payloads wanted from sequence number {1}; trying again in a second", _queueId, wanted);
        Dispatch();
    }

    /// <summary>The journal lost event <paramref name="sequenceNr"/>: what waits on its payloads is dead-lettered, so the queue moves on.</summary>
    private void DeadLetterPayloadsMissing(long sequenceNr)
    {
        var decisions = _state.GiveUpPayloads(sequenceNr, Now);
        _log.Error("Queue {0}: the journal no longer has event {1} ({2} reads came back without it); dead-lettering the {3} message(s) whose payload it held, reason {4}",
            _queueId, sequenceNr, PayloadReader.ReadsBeforeGivingUp, decisions.Count, QueueState.PayloadMissingReason);
        foreach (var decision in decisions) _writer.BufferDecision(decision);
        Flush();
    }

    private void OnPayloadReadFailed(PayloadReadFailed failed)
    {
        _payloads.OnFailed();
        _log.Warning(failed.Cause, "Queue {0}: could not read payloads from the journal; retrying in a second", _queueId);
    }

    /// <summary>Answers <paramref name="replyTo"/> with what the queue knows of a message, its payload and result read back when only the journal or archive holds them.</summary>
    private void AnswerMessage(long messageId, IActorRef replyTo)
    {
        var info = _state.Describe(messageId);
        if (info is null)
        {
            replyTo.Tell(new MessageNotFound(_queueId, messageId));
            return;
        }
        if (_state.ArchivedResultSeq(messageId) is { } resultSeq)
        {
            PayloadReader.WithArchivedFrom(ReadEvents(resultSeq, resultSeq, ArchiveId), info, messageId, isResult: true).PipeTo(replyTo);
            return;
        }
        if (info.Payload is not null || _state.Find(messageId) is not { } message)
        {
            replyTo.Tell(info);
            return;
        }
        if (message is { SequenceNr: 0, ArchiveSeq: > 0 })
        {
            PayloadReader.WithArchivedFrom(ReadEvents(message.ArchiveSeq, message.ArchiveSeq, ArchiveId), info, messageId, isResult: false).PipeTo(replyTo);
            return;
        }
        // The payload is only in the journal: read its event and answer with it (the state is left as it is).
        PayloadReader.WithPayloadFrom(ReadEvents(message.SequenceNr, message.SequenceNr), info, message.Id).PipeTo(replyTo);
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

    // ---------------------------------------------------------------- worker reports and leases

    private void OnCompleted(Completed completed)
    {
        if (ResultTooLarge(completed)) return;
        if (!_state.TryBeginCompletion(completed.MessageId, completed.Attempt, out var message))
        {
            _log.Debug("Queue {0}: ignoring a stale completion of message {1} attempt {2}", _queueId, completed.MessageId, completed.Attempt);
            return;
        }
        var now = Now;
        _pool.Release(message.WorkerSlot);
        _metrics.RecordService(completed.ServiceTime, now);
        _writer.BufferAck(new AckedMessage(message.Id, completed.Attempt, completed.Result, now));
        Flush();
        Dispatch();
    }

    private void OnFailed(Failed failed)
    {
        if (!_state.TryBeginFailure(failed.MessageId, failed.Attempt, out var message))
        {
            _log.Debug("Queue {0}: ignoring a stale failure of message {1} attempt {2}", _queueId, failed.MessageId, failed.Attempt);
            return;
        }
        _pool.Release(message.WorkerSlot);
        if (failed.ServiceTime > TimeSpan.Zero) _metrics.RecordService(failed.ServiceTime, Now);
        Decide(message, failed.Error, failed.Requested, failed.RetryAfter);
        Dispatch();
    }

    private void Decide(StoredMessage message, ErrorInfo error, RequestedFailureAction requested, TimeSpan? retryAfter)
    {
        var decision = _state.DecideFailure(message, error, requested, retryAfter, Now, _random.NextDouble());
        if (decision is DeadLettered dead)
            _log.Warning("Queue {0}: message {1} ({2}) dead-lettered after attempt {3}: {4} ({5})", _queueId, message.Id, message.Type, dead.Attempt, dead.Reason, error.Type);
        _writer.BufferDecision(decision);
        Flush();
    }

    private void OnTick()
    {
        var now = Now;
        _state.PruneIdempotencyKeys(now);
        _state.PruneFinished(now);
        ArchiveRetained();
        _state.PromoteDue(now, PromotionsPerTurn);
        ArmDueTimer();
        AnswerExpiredWaiters(now);
        OnFollowUpTick(now);
        foreach (var expired in _state.ExpiredLeases(now))
        {
            var slot = expired.WorkerSlot;
            if (!_state.TryBeginFailure(expired.Id, expired.Attempt, out var message)) continue;
            _pool.Release(slot);
            var holder = _pool.HolderOf(slot);
            holder?.Tell(new LeaseExpired(_queueId, message.Id, message.Attempt));
            var error = new ErrorInfo("LeaseExpired", $"The delivery was not completed within its lease of {_options.Lease}.", null, holder?.Path.ToString(), now);
            Decide(message, error, RequestedFailureAction.FollowPolicy, null);
            AbandonWorker(slot);
        }
        Dispatch();
    }

    /// <summary>
    /// A lease ran out on the worker at <paramref name="slot"/>: its handler may ignore its cancellation token and run on,
    /// and a worker runs one handler at a time, so it would look idle to nobody and hold up what it was given next. It
    /// is stopped (its handler's token fires; a late report is fenced by the attempt number) and replaced, and what else
    /// it held goes back to the queue now.
    /// </summary>
    private void AbandonWorker(int slot)
    {
        if (_pool.Abandon(slot) is not { } worker) return;
        _log.Warning("Queue {0}: worker {1} let a lease run out; it is stopped and replaced ({2} abandoned so far)", _queueId, worker.Path, _pool.AbandonedCount);
        Context.Stop(worker);
        TakeBack(slot, new ErrorInfo("WorkerAbandoned", "The worker was stopped when another delivery it held ran out of lease.", null, worker.Path.ToString(), Now));
        ReplaceWorker();
    }

    // ---------------------------------------------------------------- dead letters

    /// <summary>
    /// A selection of at most one chunk is one write, answered after it commits; a larger one becomes a persisted job
    /// of the <see cref="RedriveJobActor"/>, which answers once the job is stored and sends its chunks back here.
    /// </summary>
    private void OnRedrive(DeadLetterCommands.RedriveDeadLetters command)
    {
        var ids = _state.DeadLetters(command.Filter).Select(m => m.Id).ToList();
        if (ids.Count > _deadLetters.RedriveChunkSize)
        {
            _log.Info("Queue {0}: redriving {1} dead letter(s) at up to {2}/s as a job", _queueId, ids.Count, _options.RedrivePerSecond);
            _redriveJobs.Forward(new RedriveProtocol.StartJob(command.JobId ?? RedriveJobs.NewJobId(), [.. ids.Order()], command.RequestedBy, Sender));
        }
        else if (_deadLetters.BufferRedrive(_writer, ids, Sender, Now, Dispatch)) Flush();
        else Sender.Tell(new DeadLetterCommands.DeadLettersRedriven(_queueId, 0));
    }

    /// <summary>A redrive job's chunk: persisted like any decision; a draining queue refuses it (the job resumes after the restart).</summary>
    private void OnRedriveChunk(RedriveProtocol.Chunk chunk)
    {
        if (_pool.Retired) Sender.Tell(new RedriveProtocol.ChunkFailed(chunk.JobId, chunk.End, "the queue is shutting down"));
        else if (DeadLetterOperations.BufferChunk(_writer, _state, chunk, Sender, Now, Dispatch)) Flush();
    }

    private void OnPurge(DeadLetterCommands.PurgeDeadLetters command)
    {
        var ids = _state.DeadLetters(command.Filter).Select(m => m.Id).ToList();
        if (!_deadLetters.BufferPurge(_writer, ids, Sender, Now))
        {
            Sender.Tell(new DeadLetterCommands.DeadLettersPurged(_queueId, 0));
            return;
        }
        _log.Info("Queue {0}: purging {1} dead letter(s)", _queueId, ids.Count);
        Flush();
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
        ApplyCommitted(evt, write.Replies[index]);
        write.Callbacks[index]?.Invoke();
        ArchiveRetained();
        if (write.IsDone) OnWriteDone(write);
    }

    private void ApplyCommitted(IQueueEvent evt, List<IReplyTarget>? replies)
    {
        // In a persist callback LastSequenceNr is the sequence number of the event being confirmed.
        _state.Apply(evt, LastSequenceNr);
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
        _compaction.OnWriteDone(write.Events, _state.PendingCount + _state.DeadLetterCount);
        // A finished keyed message lets the next one of its key start.
        if (_state.ActiveKeys > 0) Dispatch();
        StartSnapshotIfDue();
        Flush();
    }

    // ---------------------------------------------------------------- snapshots and deletes

    /// <summary>Saves the snapshot that is due once no write is in flight (writes wait for it meanwhile) and enters <see cref="Compacting"/>.</summary>
    private void StartSnapshotIfDue()
    {
        if (!_compaction.CanStartSnapshot(_writer.WritesInFlight)) return;
        // No write is in flight here, so the snapshot covers exactly the events up to LastSequenceNr.
        var snapshot = _state.ToSnapshot();
        // Events below the oldest one that still holds a payload the snapshot refers to must stay.
        _compaction.SnapshotStarted(QueueState.PayloadLowWatermark(snapshot, ifNone: LastSequenceNr + 1));
        // Archive events written from here on are above every one the snapshot refers to, so they stay.
        _archiveTrimTo = QueueState.ArchiveLowWatermark(snapshot, ifNone: _archivedTo + 1) - 1;
        SaveSnapshot(snapshot);
        // A draining queue stays in Draining, which handles the compaction's replies as well.
        if (!_pool.Retired) Become(Compacting);
    }

    /// <summary>
    /// The replies to a compaction's snapshot save and deletes. Recovery starts from the newest snapshot; the previous
    /// one and the events after it are kept as a complete fallback, so only what is older than the previous snapshot
    /// is disk space (except events that still hold a payload a snapshot refers to). It is deleted once the new
    /// snapshot is confirmed saved, while writes stay paused: a delete holds the journal's write lock
    /// for time proportional to the rows, so small regular deletes hold each producer up least (SQLite: ~15 ms for
    /// 1,000 events). <paramref name="ended"/> runs when the compaction is over, before writes resume.
    /// </summary>
    private void CompactionReplies(Action ended)
    {
        Command<SaveSnapshotSuccess>(saved =>
        {
            TrimArchive();
            if (_compaction.SnapshotSaved(saved.Metadata.SequenceNr) is { } deleteTo) DeleteMessages(deleteTo);
            else DeleteOlderSnapshots(ended);
        });
        Command<SaveSnapshotFailure>(f =>
        {
            _archiveTrimTo = 0;
            _compaction.SnapshotFailed();
            _log.Warning(f.Cause, "Queue {0}: snapshot failed; recovery replays more events until the next one succeeds", _queueId);
            ended();
            Flush();
        });
        Command<DeleteMessagesSuccess>(_ => DeleteOlderSnapshots(ended));
        Command<DeleteMessagesFailure>(f =>
        {
            _log.Warning(f.Cause, "Queue {0}: could not delete events covered by a snapshot", _queueId);
            DeleteOlderSnapshots(ended);
        });
        Command<DeleteSnapshotsSuccess>(_ => EndCleanup(ended));
        Command<DeleteSnapshotsFailure>(f =>
        {
            _log.Warning(f.Cause, "Queue {0}: could not delete old snapshots", _queueId);
            EndCleanup(ended);
        });
    }

    private void DeleteOlderSnapshots(Action ended)
    {
        if (_compaction.TakeOlderSnapshots() is { } to) DeleteSnapshots(new SnapshotSelectionCriteria(to));
        else EndCleanup(ended);
    }

    private void EndCleanup(Action ended)
    {
        _compaction.CleanupEnded();
        ended();
        Flush();
    }

    // ---------------------------------------------------------------- journal failures

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        _log.Error(cause, "Queue {0}: the journal rejected a write of {1}", _queueId, @event.GetType().Name);
        // The whole write was one atomic write, so all of it was rejected; later calls for its other events find nothing.
        if (_writer.RemoveWriteOf(@event) is not { } write) return;
        // A snapshot that became due while this write was in flight was waiting for it.
        StartSnapshotIfDue();
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
        QueueReports.Stats(_queueId, _state, _metrics, _pool.AliveCount, Now, accepting) with { RedriveJobs = _redriveStatuses.IsEmpty ? null : _redriveStatuses, Limits = _gate.Stats() };

    private QueuePlacement Placement() =>
        QueueReports.Placement(_queueId, _partition, ((ExtendedActorSystem)Context.System).Provider.DefaultAddress, _pool.AliveWorkers);

    // ---------------------------------------------------------------- self messages

    private sealed record PayloadsRead(IImmutableList<EventEnvelope> Events);

    private sealed record PayloadReadFailed(Exception Cause);


    private sealed class Tick : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly Tick Instance = new();
        private Tick() { }
    }

    /// <summary>The earliest scheduled message is due (or more due ones wait to be made ready).</summary>
    private sealed class DueTick : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly DueTick Instance = new();
        private DueTick() { }
    }

    /// <summary>The rate limit's next token is due.</summary>
    private sealed class PermitTick : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public const string Key = "permit";
        public static readonly PermitTick Instance = new();
        private PermitTick() { }
    }

    private sealed class RefreshWorkers : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly RefreshWorkers Instance = new();
        private RefreshWorkers() { }
    }

    /// <summary>The backoff before asking for replacement workers ended.</summary>
    private sealed class ReplaceWorkers : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public const string Key = "replace-workers";
        public static readonly ReplaceWorkers Instance = new();
        private ReplaceWorkers() { }
    }

    private sealed class DrainTimedOut : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly DrainTimedOut Instance = new();
        private DrainTimedOut() { }
    }

    /// <summary>Nothing is left to write or deliver: the draining queue checks whether it can answer.</summary>
    private sealed class DrainCheck : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly DrainCheck Instance = new();
        private DrainCheck() { }
    }
}

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
/// One queue: an event-sourced actor whose journal holds every accepted message and its fate.
/// <list type="bullet">
/// <item>Group commit: while one write is in flight, new commands are buffered; the next write stores them all
/// (a few events of up to <see cref="MessagesPerEvent"/> messages each). Producers are answered from the write's
/// callback, never before.</item>
/// <item>Dispatch: ready messages go to the workers of a pool router, at most prefetch per worker; each delivery
/// carries (message id, attempt) and a lease.</item>
/// <item>Failures (handler errors, expired leases, workers that crash or stop) go through the retry policy and are
/// persisted as the decision they lead to.</item>
/// </list>
/// </summary>
internal sealed class QueueActor : ReceivePersistentActor, IWithTimers
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

    /// <summary>Most journal events one read of payloads covers.</summary>
    public const int EventsPerPayloadRead = 64;

    private readonly string _queueId;
    private readonly int _partition;
    private readonly QueueOptions _options;
    private readonly HandlerRegistry _handlers;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;
    private readonly TimeSpan _drainTimeout;
    private readonly QueueClusterOptions _cluster;
    private readonly int _writesInFlight;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Random _random = new();

    private QueueState _state;
    private QueueMetrics _metrics;
    private long _nextId;
    private bool _recovered;

    // Group commit.
    private readonly List<EnqueuedMessage> _bufferedMessages = new();
    private readonly List<IReplyTarget> _bufferedReplies = new();
    private readonly List<AckedMessage> _bufferedAcks = new();
    private readonly List<(IQueueEvent Event, Action? OnCommitted)> _bufferedDecisions = new();
    private readonly Queue<RedriveJob> _redrives = new();
    private readonly List<PendingWrite> _writes = new();
    private bool _snapshotDue;
    private long _writeNumber;
    private int _unappliedEnqueues;
    private int _eventsSinceSnapshot;
    private long _messagesSinceSnapshot;
    private bool _snapshotInFlight;
    private long _snapshotWatermark;
    private bool _cleanupInFlight;
    private SnapshotSelectionCriteria? _olderSnapshots;
    private long _deletedTo;

    // Payloads read back from the journal.
    private bool _payloadReadInFlight;
    private DateTime _payloadReadPausedUntil;
    private long _enqueuedPayloadBytes;
    private long _enqueueEvents;
    private IMaterializer? _materializer;
    private SqlReadJournal? _readJournal;

    // Consumer pool.
    private IActorRef _router = ActorRefs.Nobody;
    private readonly List<WorkerSlot> _workers = new();
    private readonly Dictionary<IActorRef, int> _slotOf = new();
    private readonly HashSet<IActorRef> _stoppedWorkers = new();
    private int _nextSlot;
    private int _routerIncarnation;

    // Shutdown.
    private IActorRef? _drainRequester;

    public QueueActor(string queueId, int partition, QueueOptions options, HandlerRegistry handlers, IServiceProvider services, TimeProvider time, TimeSpan drainTimeout, QueueClusterOptions cluster, JournalKind journal)
    {
        _writesInFlight = WritesInFlightFor(journal);
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
        PersistenceId = PersistenceIdFor(queueId, partition);

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is QueueSnapshot snapshot) _state = QueueState.FromSnapshot(_queueId, _options, snapshot);
        });
        Recover<IQueueEvent>(evt =>
        {
            _state.Apply(evt, LastSequenceNr);
            if (evt is MessagesEnqueued enqueued) CountEnqueued(enqueued);
        });
        Recover<RecoveryCompleted>(_ => OnRecovered());

        Command<Enqueue>(OnEnqueue);
        Command<EnqueueBatch>(OnEnqueueBatch);
        Command<Completed>(OnCompleted);
        Command<Failed>(OnFailed);
        Command<Tick>(_ => OnTick());
        Command<Routees>(OnRoutees);
        Command<Terminated>(OnWorkerTerminated);
        Command<GetMessage>(OnGetMessage);
        Command<PayloadsRead>(OnPayloadsRead);
        Command<PayloadReadFailed>(OnPayloadReadFailed);
        Command<GetStats>(_ => Sender.Tell(Stats()));
        Command<GetPlacement>(_ => Sender.Tell(Placement()));
        Command<RefreshWorkers>(_ => _router.Tell(GetRoutees.Instance));
        Command<DeadLetterCommands.ListDeadLetters>(OnListDeadLetters);
        Command<DeadLetterCommands.GroupDeadLetters>(_ => Sender.Tell(new DeadLetterCommands.DeadLetterGroups(_queueId, _state.GroupDeadLetters())));
        Command<DeadLetterCommands.RedriveDeadLetters>(OnRedrive);
        Command<DeadLetterCommands.PurgeDeadLetters>(OnPurge);
        Command<Drain>(_ => OnDrain());
        Command<DrainTimedOut>(_ => FinishDrain());
        Command<SaveSnapshotSuccess>(OnSnapshotSaved);
        Command<SaveSnapshotFailure>(f =>
        {
            _snapshotInFlight = false;
            _log.Warning(f.Cause, "Queue {0}: snapshot failed; recovery replays more events until the next one succeeds", _queueId);
            Flush();
        });
        Command<DeleteMessagesSuccess>(_ => DeleteOlderSnapshots());
        Command<DeleteMessagesFailure>(f =>
        {
            _log.Warning(f.Cause, "Queue {0}: could not delete events covered by a snapshot", _queueId);
            DeleteOlderSnapshots();
        });
        Command<DeleteSnapshotsSuccess>(_ => EndCleanup());
        Command<DeleteSnapshotsFailure>(f =>
        {
            _log.Warning(f.Cause, "Queue {0}: could not delete old snapshots", _queueId);
            EndCleanup();
        });
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The journal's persistence id of a queue partition.</summary>
    public static string PersistenceIdFor(string queueId, int partition = 0) => $"queue-{queueId}-{partition}";

    /// <summary>Props for the actor of one queue partition.</summary>
    public static Props Props(string queueId, int partition, QueueOptions options, HandlerRegistry handlers, IServiceProvider services, TimeProvider time, TimeSpan drainTimeout, QueueClusterOptions cluster, JournalKind journal) =>
        Akka.Actor.Props.Create(() => new QueueActor(queueId, partition, options, handlers, services, time, drainTimeout, cluster, journal));

    private DateTime Now => _time.GetUtcNow().UtcDateTime;

    // ---------------------------------------------------------------- recovery and pool

    private void OnRecovered()
    {
        _recovered = true;
        // Ids carry the partition in their high bits (see Partitions).
        _nextId = Math.Max(_state.LastId, Partitions.IdBase(_partition));
        _metrics = new QueueMetrics(Now);
        StartPool(_options.Workers);
        Timers.StartPeriodicTimer("tick", Tick.Instance, TickInterval);
        _log.Info("Queue {0} recovered: {1} pending, {2} dead-lettered, last id {3}", Partitions.EntityId(_queueId, _partition), _state.PendingCount, _state.DeadLetterCount, _state.LastId);
        Context.Parent.Tell(new QueueHost.QueueRecovered(_queueId));
    }

    /// <summary>
    /// Starts the consumer pool: a pool router that deploys and supervises the workers (restarting one that
    /// crashes). The queue learns the routees and sends each delivery to a chosen one, so it knows which worker
    /// holds what and can watch them. In a cluster the router is cluster-aware: it deploys <c>size</c> workers on
    /// every node with the worker role, including nodes that join later, and the queue asks it for its workers
    /// every <see cref="QueueClusterOptions.WorkerRefresh"/> to start using new ones.
    /// </summary>
    private void StartPool(int size)
    {
        var supervisor = new OneForOneStrategy(-1, Timeout.InfiniteTimeSpan, _ => Directive.Restart);
        var name = _routerIncarnation++ == 0 ? "workers" : $"workers-{_routerIncarnation}";
        var props = _cluster.Enabled
            ? Worker.ClusterProps().WithRouter(new ClusterRouterPool(new RoundRobinPool(0).WithSupervisorStrategy(supervisor),
                new ClusterRouterPoolSettings(totalInstances: size * 10_000, maxInstancesPerNode: size, allowLocalRoutees: true, useRole: ClusterRoles.Worker)))
            : Worker.Props(_handlers, _services).WithRouter(new RoundRobinPool(size).WithSupervisorStrategy(supervisor));
        _router = Context.ActorOf(props, name);
        Context.Watch(_router);
        _router.Tell(GetRoutees.Instance);
        if (_cluster.Enabled) Timers.StartPeriodicTimer("refresh-workers", RefreshWorkers.Instance, _cluster.WorkerRefresh);
    }

    private void OnRoutees(Routees routees)
    {
        foreach (var routee in routees.Members)
        {
            if (routee is not ActorRefRoutee { Actor: var worker } || _slotOf.ContainsKey(worker) || _stoppedWorkers.Contains(worker)) continue;
            _slotOf[worker] = _workers.Count;
            _workers.Add(new WorkerSlot(worker));
            Context.Watch(worker);
        }
        Dispatch();
    }

    private void OnWorkerTerminated(Terminated terminated)
    {
        if (terminated.ActorRef.Equals(_router))
        {
            // A pool router stops itself when its last routee is gone; start a fresh pool of the missing size.
            var missing = _cluster.Enabled ? _options.Workers : _options.Workers - _workers.Count(w => w.Alive);
            if (_drainRequester is null && missing > 0) StartPool(missing);
            return;
        }
        if (!_slotOf.Remove(terminated.ActorRef, out var slot)) return;
        _stoppedWorkers.Add(terminated.ActorRef);
        var worker = _workers[slot];
        worker.Alive = false;
        var error = new ErrorInfo("WorkerStopped", "The worker stopped before finishing the delivery.", null, terminated.ActorRef.Path.ToString(), Now);
        foreach (var message in _state.InFlightAt(slot))
        {
            if (_state.TryBeginFailure(message.Id, message.Attempt, out var failing))
            {
                worker.Outstanding--;
                Decide(failing, error, RequestedFailureAction.RetryAfter, TimeSpan.Zero);
            }
        }
        if (_drainRequester is null && !terminated.AddressTerminated && !_cluster.Enabled)
        {
            // Keep the pool at its size: ask the router for a replacement and learn its address.
            _router.Tell(new AdjustPoolSize(1));
            _router.Tell(GetRoutees.Instance);
        }
        Dispatch();
    }

    private void Dispatch()
    {
        if (!_recovered || _drainRequester is not null) return;
        var now = Now;
        while (_state.ReadyCount > 0)
        {
            var slot = PickWorker();
            if (slot < 0) break;
            // Null when the next messages' payloads are still being read back from the journal.
            if (_state.Dispatch(slot, now) is not { } message) break;
            if (message.FailedAttempts == 0) _metrics.RecordWait(now - message.EnqueuedAt, now);
            var worker = _workers[slot];
            worker.Outstanding++;
            worker.Ref.Tell(new Deliver(_queueId, message.Id, message.Attempt, message.Type, message.Payload, message.Headers, message.EnqueuedAt, _options.Lease));
        }
        ReadPayloads();
    }

    // ---------------------------------------------------------------- payloads kept in the journal

    /// <summary>
    /// Reads the next payloads the state wants from the journal (one read at a time), through the SQL read journal:
    /// a run of events from the wanted sequence number, sized to about half the payload budget.
    /// </summary>
    private void ReadPayloads()
    {
        if (_payloadReadInFlight || !_recovered || (_state.ReadyWithoutPayload == 0 && _state.DeadWithoutPayload == 0)) return;
        if (Now < _payloadReadPausedUntil || _state.PayloadsWanted is not { } from) return;
        var bytesPerEvent = _enqueueEvents == 0 ? 64 * 1024 : Math.Max(1, _enqueuedPayloadBytes / _enqueueEvents);
        var events = Math.Clamp(_options.PayloadMemoryBytes / 2 / bytesPerEvent, 1, EventsPerPayloadRead);
        _payloadReadInFlight = true;
        ReadEvents(from, from + events - 1).PipeTo(Self,
            success: read => new PayloadsRead(read),
            failure: e => new PayloadReadFailed(e));
    }

    private Task<IImmutableList<EventEnvelope>> ReadEvents(long from, long to)
    {
        _materializer ??= Context.Materializer();
        _readJournal ??= PersistenceQuery.Get(Context.System).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        return _readJournal.CurrentEventsByPersistenceId(PersistenceId, from, to).RunWith(Sink.Seq<EventEnvelope>(), _materializer);
    }

    /// <summary>Keeps the mean size of an enqueue event, to size reads of payloads.</summary>
    private void CountEnqueued(MessagesEnqueued enqueued)
    {
        const int bytesPerMessageBesidesPayload = 64;
        _enqueueEvents++;
        foreach (var m in enqueued.Messages) _enqueuedPayloadBytes += m.Payload.Length + bytesPerMessageBesidesPayload;
    }

    private void OnPayloadsRead(PayloadsRead read)
    {
        _payloadReadInFlight = false;
        var attached = 0;
        foreach (var envelope in read.Events)
            if (envelope.Event is MessagesEnqueued enqueued) attached += _state.AttachPayloads(envelope.SequenceNr, enqueued);
        if (attached == 0)
        {
            // The wanted event was not there: never expected, but a tight loop would not help; try again in a second.
            _log.Error("Queue {0}: the journal returned none of the payloads wanted from sequence number {1}", _queueId, _state.PayloadsWanted);
            _payloadReadPausedUntil = Now + TimeSpan.FromSeconds(1);
        }
        Dispatch();
    }

    private void OnPayloadReadFailed(PayloadReadFailed failed)
    {
        _payloadReadInFlight = false;
        _payloadReadPausedUntil = Now + TimeSpan.FromSeconds(1);
        _log.Warning(failed.Cause, "Queue {0}: could not read payloads from the journal; retrying in a second", _queueId);
    }

    private void OnGetMessage(GetMessage query)
    {
        var info = _state.Describe(query.MessageId);
        if (info is null)
        {
            Sender.Tell(new MessageNotFound(_queueId, query.MessageId));
            return;
        }
        if (info.Payload is not null || _state.Find(query.MessageId) is not { } message)
        {
            Sender.Tell(info);
            return;
        }
        // The payload is only in the journal: read its event and answer with it (the state is left as it is).
        var id = message.Id;
        ReadEvents(message.SequenceNr, message.SequenceNr).ContinueWith(read =>
        {
            var payload = read.IsCompletedSuccessfully
                ? read.Result.Select(e => e.Event).OfType<MessagesEnqueued>().SelectMany(e => e.Messages).FirstOrDefault(m => m.Id == id)?.Payload
                : null;
            return info with { Payload = payload };
        }, TaskScheduler.Default).PipeTo(Sender);
    }

    /// <summary>The live worker with the fewest outstanding deliveries below prefetch, rotating among equals; -1 when all are full.</summary>
    private int PickWorker()
    {
        var best = -1;
        var count = _workers.Count;
        for (var i = 0; i < count; i++)
        {
            var slot = (_nextSlot + i) % count;
            var worker = _workers[slot];
            if (!worker.Alive || worker.Outstanding >= _options.Prefetch) continue;
            if (best < 0 || worker.Outstanding < _workers[best].Outstanding) best = slot;
            if (worker.Outstanding == 0) break;
        }
        if (best >= 0) _nextSlot = (best + 1) % count;
        return best;
    }

    // ---------------------------------------------------------------- intake

    private void OnEnqueue(Enqueue command)
    {
        if (_drainRequester is not null)
        {
            Sender.Tell(new Rejected(_queueId, RejectionCode.ShuttingDown, $"Queue '{_queueId}' is shutting down and accepts no new work.", command.CorrelationId));
            return;
        }
        var headers = command.Headers ?? ImmutableDictionary<string, string>.Empty;
        if (_state.Validate(command.Type, command.Payload.Length, headers, _unappliedEnqueues) is { } rejection)
        {
            Sender.Tell(new Rejected(_queueId, rejection.Code, rejection.Reason, command.CorrelationId));
            return;
        }
        Buffer(command.Type, command.Payload, headers, new SingleReply(Sender, command.CorrelationId));
        Flush();
    }

    private void OnEnqueueBatch(EnqueueBatch batch)
    {
        var outcomes = new EnqueueOutcome[batch.Messages.Length];
        var reply = new BatchReply(Sender, batch.CorrelationId, outcomes);
        for (var i = 0; i < batch.Messages.Length; i++)
        {
            var message = batch.Messages[i];
            if (_drainRequester is not null)
            {
                outcomes[i] = new EnqueueOutcome(null, RejectionCode.ShuttingDown, $"Queue '{_queueId}' is shutting down and accepts no new work.");
                continue;
            }
            var headers = message.Headers ?? ImmutableDictionary<string, string>.Empty;
            if (_state.Validate(message.Type, message.Payload.Length, headers, _unappliedEnqueues) is { } rejection)
            {
                outcomes[i] = new EnqueueOutcome(null, rejection.Code, rejection.Reason);
                continue;
            }
            reply.Remaining++;
            Buffer(message.Type, message.Payload, headers, new BatchItemReply(reply, i));
        }
        if (reply.Remaining == 0) reply.Send(_queueId);
        else Flush();
    }

    private void Buffer(string type, ReadOnlyMemory<byte> payload, ImmutableDictionary<string, string> headers, IReplyTarget reply)
    {
        _bufferedMessages.Add(new EnqueuedMessage(++_nextId, type, payload, headers, Now));
        _bufferedReplies.Add(reply);
        _unappliedEnqueues++;
    }

    // ---------------------------------------------------------------- worker reports

    private void OnCompleted(Completed completed)
    {
        if (!_state.TryBeginCompletion(completed.MessageId, completed.Attempt, out var message))
        {
            _log.Debug("Queue {0}: ignoring a stale completion of message {1} attempt {2}", _queueId, completed.MessageId, completed.Attempt);
            return;
        }
        var now = Now;
        ReleaseSlot(message.WorkerSlot);
        _metrics.RecordService(completed.ServiceTime, now);
        _bufferedAcks.Add(new AckedMessage(message.Id, completed.Attempt, completed.Result, now));
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
        ReleaseSlot(message.WorkerSlot);
        if (failed.ServiceTime > TimeSpan.Zero) _metrics.RecordService(failed.ServiceTime, Now);
        Decide(message, failed.Error, failed.Requested, failed.RetryAfter);
        Dispatch();
    }

    private void ReleaseSlot(int slot)
    {
        if (slot >= 0 && slot < _workers.Count) _workers[slot].Outstanding--;
    }

    private void Decide(StoredMessage message, ErrorInfo error, RequestedFailureAction requested, TimeSpan? retryAfter)
    {
        var decision = _state.DecideFailure(message, error, requested, retryAfter, Now, _random.NextDouble());
        if (decision is DeadLettered dead)
            _log.Warning("Queue {0}: message {1} ({2}) dead-lettered after attempt {3}: {4} ({5})", _queueId, message.Id, message.Type, dead.Attempt, dead.Reason, error.Type);
        _bufferedDecisions.Add((decision, null));
        Flush();
    }

    // ---------------------------------------------------------------- dead letters

    private void OnListDeadLetters(DeadLetterCommands.ListDeadLetters query)
    {
        var limit = Math.Clamp(query.Limit, 1, 1000);
        var page = _state.DeadLetters(query.Filter, query.AfterId).Take(limit + 1).Select(QueueState.Summarize).ToList();
        var more = page.Count > limit;
        if (more) page.RemoveAt(limit);
        Sender.Tell(new DeadLetterCommands.DeadLetterPage(_queueId, page.ToImmutableArray(), _state.DeadLetters(query.Filter).Count(),
            more ? page[^1].MessageId : null));
    }

    private void OnRedrive(DeadLetterCommands.RedriveDeadLetters command)
    {
        var ids = _state.DeadLetters(command.Filter).Select(m => m.Id).ToList();
        var job = new RedriveJob(Sender, ids);
        if (ids.Count == 0)
        {
            job.ReplyTo.Tell(new DeadLetterCommands.DeadLettersRedriven(_queueId, 0));
            return;
        }
        _log.Info("Queue {0}: redriving {1} dead letter(s) at up to {2}/s", _queueId, ids.Count, _options.RedrivePerSecond);
        _redrives.Enqueue(job);
        RedriveChunk();
    }

    /// <summary>Persists the next chunk of the oldest redrive; one chunk per tick keeps large redrives at the configured rate.</summary>
    private void RedriveChunk()
    {
        if (!_redrives.TryPeek(out var job)) return;
        var chunkSize = Math.Max(1, _options.RedrivePerSecond / (int)(1000 / TickInterval.TotalMilliseconds));
        var chunk = job.Remaining.Take(chunkSize).ToImmutableArray();
        job.Remaining.RemoveRange(0, chunk.Length);
        if (job.Remaining.Count == 0) _redrives.Dequeue();
        job.PendingChunks++;
        _bufferedDecisions.Add((new DeadLettersRedrivenEvent(chunk, Now), () =>
        {
            job.Redriven += chunk.Length;
            if (--job.PendingChunks == 0 && job.Remaining.Count == 0)
                job.ReplyTo.Tell(new DeadLetterCommands.DeadLettersRedriven(_queueId, job.Redriven));
            Dispatch();
        }));
        Flush();
    }

    private void OnPurge(DeadLetterCommands.PurgeDeadLetters command)
    {
        var ids = _state.DeadLetters(command.Filter).Select(m => m.Id).ToList();
        var replyTo = Sender;
        if (ids.Count == 0)
        {
            replyTo.Tell(new DeadLetterCommands.DeadLettersPurged(_queueId, 0));
            return;
        }
        var chunks = ids.Chunk(10_000).ToList();
        for (var i = 0; i < chunks.Count; i++)
        {
            var last = i == chunks.Count - 1;
            _bufferedDecisions.Add((new DeadLettersPurgedEvent(chunks[i].ToImmutableArray(), Now),
                last ? () => replyTo.Tell(new DeadLetterCommands.DeadLettersPurged(_queueId, ids.Count)) : null));
        }
        _log.Info("Queue {0}: purging {1} dead letter(s)", _queueId, ids.Count);
        Flush();
    }

    private void OnTick()
    {
        var now = Now;
        RedriveChunk();
        _state.PromoteDue(now);
        foreach (var expired in _state.ExpiredLeases(now))
        {
            var slot = expired.WorkerSlot;
            if (!_state.TryBeginFailure(expired.Id, expired.Attempt, out var message)) continue;
            ReleaseSlot(slot);
            if (slot >= 0 && slot < _workers.Count) _workers[slot].Ref.Tell(new LeaseExpired(_queueId, message.Id, message.Attempt));
            var error = new ErrorInfo("LeaseExpired", $"The delivery was not completed within its lease of {_options.Lease}.", null,
                slot >= 0 && slot < _workers.Count ? _workers[slot].Ref.Path.ToString() : null, now);
            Decide(message, error, RequestedFailureAction.FollowPolicy, null);
        }
        Dispatch();
    }

    // ---------------------------------------------------------------- group commit

    private bool HasBuffered => _bufferedMessages.Count > 0 || _bufferedAcks.Count > 0 || _bufferedDecisions.Count > 0;

    /// <summary>
    /// Starts journal writes for what is buffered, keeping at most <see cref="WritesInFlightFor"/> in flight. While a
    /// snapshot is due, no write starts until the ones in flight finish, so the snapshot covers exactly the events
    /// up to <c>LastSequenceNr</c>.
    /// </summary>
    private void Flush()
    {
        // While a snapshot is saved and the events and snapshots it covers are deleted, no write starts: on SQLite they
        // all need the one write lock, and a writer that finds it taken sleeps 150 ms before it tries again.
        var limit = _snapshotInFlight || _cleanupInFlight ? 0 : _writesInFlight;
        while (HasBuffered && _writes.Count < limit && !_snapshotDue) StartWrite();
        if (_drainRequester is not null) CheckDrained();
    }

    private void StartWrite()
    {
        var write = new PendingWrite(++_writeNumber);
        var take = Math.Min(_bufferedMessages.Count, MessagesPerWrite);
        var messages = take > 0 ? _bufferedMessages.GetRange(0, take).ToArray() : [];
        for (var start = 0; start < take; start += MessagesPerEvent)
        {
            var count = Math.Min(MessagesPerEvent, take - start);
            write.Add(new MessagesEnqueued(ImmutableArray.Create(messages, start, count)), _bufferedReplies.GetRange(start, count));
        }
        _bufferedMessages.RemoveRange(0, take);
        _bufferedReplies.RemoveRange(0, take);

        var acks = _bufferedAcks.ToArray();
        for (var start = 0; start < acks.Length; start += AcksPerEvent)
        {
            var count = Math.Min(AcksPerEvent, acks.Length - start);
            write.Add(new MessagesAcked(ImmutableArray.Create(acks, start, count)), null);
        }
        _bufferedAcks.Clear();
        foreach (var (decision, onCommitted) in _bufferedDecisions) write.Add(decision, null, onCommitted);
        _bufferedDecisions.Clear();

        _writes.Add(write);
        PersistAllAsync(write.Events, OnCommitted);
    }

    private void OnCommitted(IQueueEvent evt)
    {
        // Writes complete in the order they started, so the oldest one in flight holds this event.
        var write = _writes[0];
        var index = write.Committed++;
        ApplyCommitted(evt, write.Replies[index]);
        write.Callbacks[index]?.Invoke();
        if (write.Committed == write.Events.Count) OnWriteDone(write);
    }

    private void ApplyCommitted(IQueueEvent evt, List<IReplyTarget>? replies)
    {
        // In a persist callback LastSequenceNr is the sequence number of the event being confirmed.
        _state.Apply(evt, LastSequenceNr);
        var now = Now;
        switch (evt)
        {
            case MessagesEnqueued enqueued:
                CountEnqueued(enqueued);
                _unappliedEnqueues -= enqueued.Messages.Length;
                _metrics.RecordArrivals(enqueued.Messages.Length, now);
                for (var i = 0; i < replies!.Count; i++) replies[i].Accept(_queueId, enqueued.Messages[i].Id);
                Dispatch();
                break;
            case MessagesAcked acked:
                for (var i = 0; i < acked.Acks.Length; i++) _metrics.RecordCompletion(now);
                break;
            case RetryScheduled retry:
                if (retry.DueAt <= now && _state.PromoteDue(now) > 0) Dispatch();
                break;
            case DeadLettered or Discarded:
                _metrics.RecordCompletion(now);
                break;
        }
    }

    private void OnWriteDone(PendingWrite write)
    {
        if (!_writes.Remove(write)) return;
        _eventsSinceSnapshot += write.Events.Count;
        _messagesSinceSnapshot += write.Events.Sum(MessagesIn);
        // A snapshot costs time proportional to the state; replaying the events after it, to the messages they carry.
        // Waiting until the events since the last snapshot carry a fixed fraction of the messages the queue holds keeps
        // both bounded: recovery replays no more than that fraction of a state, and snapshot work stays constant per
        // message however deep the backlog grows.
        var stateSize = _state.PendingCount + _state.DeadLetterCount;
        if (_eventsSinceSnapshot >= _options.SnapshotEvery && _messagesSinceSnapshot * SnapshotReplayFraction >= stateSize && !_snapshotInFlight) _snapshotDue = true;
        StartSnapshotIfDue();
        Flush();
    }

    /// <summary>Saves the snapshot that is due once no write is in flight (writes wait for it meanwhile).</summary>
    private void StartSnapshotIfDue()
    {
        if (_snapshotDue && _writes.Count == 0)
        {
            // No write is in flight here, so the snapshot covers exactly the events up to LastSequenceNr.
            _snapshotDue = false;
            _snapshotInFlight = true;
            _eventsSinceSnapshot = 0;
            _messagesSinceSnapshot = 0;
            var snapshot = _state.ToSnapshot();
            // Events below the oldest one that still holds a payload the snapshot refers to must stay.
            _snapshotWatermark = QueueState.PayloadLowWatermark(snapshot, ifNone: LastSequenceNr + 1);
            SaveSnapshot(snapshot);
        }
    }

    private static int MessagesIn(IQueueEvent evt) => evt switch
    {
        MessagesEnqueued e => e.Messages.Length,
        MessagesAcked a => a.Acks.Length,
        DeadLettersRedrivenEvent r => r.Ids.Length,
        DeadLettersPurgedEvent p => p.Ids.Length,
        _ => 1,
    };

    /// <summary>
    /// Recovery starts from the newest snapshot, so older events are only disk space, except those that still hold a
    /// payload the snapshot refers to. They are deleted after every snapshot, with the older snapshots, while writes
    /// stay paused (none is in flight during a snapshot): a delete holds the journal's write lock for time
    /// proportional to the rows, so small regular deletes hold each producer up least (SQLite: ~15 ms for 1,000 events).
    /// </summary>
    private void OnSnapshotSaved(SaveSnapshotSuccess saved)
    {
        _snapshotInFlight = false;
        _cleanupInFlight = true;
        _olderSnapshots = new SnapshotSelectionCriteria(saved.Metadata.SequenceNr - 1);
        var deleteTo = Math.Min(saved.Metadata.SequenceNr, _snapshotWatermark - 1);
        if (deleteTo > _deletedTo)
        {
            _deletedTo = deleteTo;
            DeleteMessages(deleteTo);
        }
        else DeleteOlderSnapshots();
    }

    private void DeleteOlderSnapshots()
    {
        if (_olderSnapshots is { } criteria) DeleteSnapshots(criteria);
        else EndCleanup();
        _olderSnapshots = null;
    }

    private void EndCleanup()
    {
        _cleanupInFlight = false;
        Flush();
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        _log.Error(cause, "Queue {0}: the journal rejected a write of {1}", _queueId, @event.GetType().Name);
        // The whole write was one atomic write, so all of it was rejected; later calls for its other events find nothing.
        var write = _writes.Find(w => w.Events.Contains(@event));
        if (write is null) return;
        _writes.Remove(write);
        // A snapshot that became due while this write was in flight was waiting for it.
        StartSnapshotIfDue();
        for (var i = write.Committed; i < write.Events.Count; i++)
        {
            switch (write.Events[i])
            {
                case MessagesEnqueued enqueued:
                    _unappliedEnqueues -= enqueued.Messages.Length;
                    foreach (var reply in write.Replies[i]!) reply.Reject(_queueId, RejectionCode.JournalUnavailable, $"The journal rejected the write: {cause.Message}");
                    break;
                case MessagesAcked acked:
                    foreach (var ack in acked.Acks) _state.ReturnToReady(ack.Id);
                    break;
                case RetryScheduled r: _state.ReturnToReady(r.Id); break;
                case DeadLettered d: _state.ReturnToReady(d.Id); break;
                case Discarded x: _state.ReturnToReady(x.Id); break;
                // A rejected redrive or purge leaves the dead letters where they are; the operator may retry it.
            }
        }
        Flush();
        Dispatch();
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        _log.Error(cause, "Queue {0}: the journal failed to store a write; the queue stops and restarts with backoff", _queueId);
        Context.Parent.Tell(new QueueHost.QueueStopping(_queueId));
        var reason = $"The journal is unavailable: {cause.Message}";
        foreach (var write in _writes)
        {
            for (var i = write.Committed; i < write.Events.Count; i++)
                if (write.Replies[i] is { } replies) foreach (var reply in replies) reply.Reject(_queueId, RejectionCode.JournalUnavailable, reason);
        }
        _writes.Clear();
        foreach (var reply in _bufferedReplies) reply.Reject(_queueId, RejectionCode.JournalUnavailable, reason);
        _bufferedReplies.Clear();
        _bufferedMessages.Clear();
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        _log.Error(reason, "Queue {0}: recovery failed; the queue restarts with backoff", _queueId);
        Context.Parent.Tell(new QueueHost.QueueStopping(_queueId));
        base.OnRecoveryFailure(reason, message);
    }

    // ---------------------------------------------------------------- shutdown

    private void OnDrain()
    {
        if (_drainRequester is not null) return;
        _drainRequester = Sender;
        // Deliveries handed to workers but not started are returned to the queue by the next restart.
        Timers.StartSingleTimer("drain", DrainTimedOut.Instance, _drainTimeout);
        CheckDrained();
    }

    private int OutstandingDeliveries()
    {
        var outstanding = 0;
        foreach (var worker in _workers) if (worker.Alive) outstanding += worker.Outstanding;
        return outstanding;
    }

    private void CheckDrained()
    {
        if (_drainRequester is null || _writes.Count > 0 || OutstandingDeliveries() > 0) return;
        if (_bufferedAcks.Count > 0 || _bufferedDecisions.Count > 0 || _bufferedMessages.Count > 0) return;
        FinishDrain();
    }

    private void FinishDrain()
    {
        if (_drainRequester is null || _drainRequester.IsNobody()) return;
        var unfinished = OutstandingDeliveries();
        _drainRequester.Tell(new Drained(_queueId, unfinished));
        _log.Info("Queue {0} drained ({1} deliveries unfinished, redelivered after restart)", _queueId, unfinished);
        _drainRequester = ActorRefs.Nobody;
        Timers.Cancel("drain");
    }

    // ---------------------------------------------------------------- stats

    private QueueStats Stats()
    {
        var now = Now;
        var lambda = _metrics.ArrivalRate(now);
        var completionRate = _metrics.CompletionRate(now);
        var wait = _metrics.MeanWait(now);
        var service = _metrics.MeanService(now);
        var workers = _workers.Count(w => w.Alive);
        var utilization = workers == 0 ? 0 : Math.Min(1, completionRate * service.TotalSeconds / workers);
        var suggested = (int)Math.Ceiling(lambda * service.TotalSeconds / 0.8);
        var oldest = _state.OldestReadyEnqueuedAt is { } t ? now - t : TimeSpan.Zero;
        return new QueueStats(_queueId, _state.ReadyCount, _state.InFlightCount, _state.ScheduledCount, _state.DeadLetterCount,
            _state.TotalEnqueued, _state.TotalSucceeded, _state.TotalFailedAttempts, _state.TotalDeadLettered, _state.TotalDiscarded,
            lambda, completionRate, wait, service, lambda * wait.TotalSeconds, lambda * (wait + service).TotalSeconds,
            workers, utilization, Math.Max(suggested, lambda > 0 ? 1 : 0), oldest < TimeSpan.Zero ? TimeSpan.Zero : oldest,
            _drainRequester is null);
    }

    /// <summary>Where this queue lives and how many of its workers run on each node.</summary>
    private QueuePlacement Placement()
    {
        var self = ((ExtendedActorSystem)Context.System).Provider.DefaultAddress;
        var workers = _workers.Where(w => w.Alive)
            .GroupBy(w => w.Ref.Path.Address.HasLocalScope ? self.ToString() : w.Ref.Path.Address.ToString())
            .ToImmutableSortedDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return new QueuePlacement(_queueId, self.ToString(), workers, _partition == 0 ? null : ImmutableSortedDictionary<int, string>.Empty.Add(_partition, self.ToString()));
    }

    // ---------------------------------------------------------------- helpers

    private sealed class RedriveJob(IActorRef replyTo, List<long> remaining)
    {
        public IActorRef ReplyTo { get; } = replyTo;
        public List<long> Remaining { get; } = remaining;
        public int PendingChunks { get; set; }
        public int Redriven { get; set; }
    }

    private sealed class WorkerSlot(IActorRef worker)
    {
        public IActorRef Ref { get; } = worker;
        public int Outstanding { get; set; }
        public bool Alive { get; set; } = true;
    }

    private sealed class PendingWrite(long number)
    {
        public long Number { get; } = number;
        public List<IQueueEvent> Events { get; } = new();
        public List<List<IReplyTarget>?> Replies { get; } = new();
        public List<Action?> Callbacks { get; } = new();
        public int Committed { get; set; }

        public void Add(IQueueEvent evt, List<IReplyTarget>? replies, Action? onCommitted = null)
        {
            Events.Add(evt);
            Replies.Add(replies);
            Callbacks.Add(onCommitted);
        }
    }

    /// <summary>Who is waiting for a buffered message's outcome.</summary>
    private interface IReplyTarget
    {
        void Accept(string queueId, long messageId);
        void Reject(string queueId, RejectionCode code, string reason);
    }

    private sealed class SingleReply(IActorRef replyTo, long correlationId) : IReplyTarget
    {
        public void Accept(string queueId, long messageId) => replyTo.Tell(new Accepted(queueId, messageId, correlationId));
        public void Reject(string queueId, RejectionCode code, string reason) => replyTo.Tell(new Rejected(queueId, code, reason, correlationId));
    }

    private sealed class BatchReply(IActorRef replyTo, long correlationId, EnqueueOutcome[] outcomes)
    {
        public int Remaining { get; set; }

        public void Resolve(int index, EnqueueOutcome outcome, string queueId)
        {
            outcomes[index] = outcome;
            if (--Remaining == 0) Send(queueId);
        }

        public void Send(string queueId) => replyTo.Tell(new BatchResult(queueId, ImmutableArray.Create(outcomes), correlationId));
    }

    private sealed class BatchItemReply(BatchReply batch, int index) : IReplyTarget
    {
        public void Accept(string queueId, long messageId) => batch.Resolve(index, new EnqueueOutcome(messageId, null, null), queueId);
        public void Reject(string queueId, RejectionCode code, string reason) => batch.Resolve(index, new EnqueueOutcome(null, code, reason), queueId);
    }

    private sealed record PayloadsRead(IImmutableList<EventEnvelope> Events);

    private sealed record PayloadReadFailed(Exception Cause);

    private sealed class Tick : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly Tick Instance = new();
        private Tick() { }
    }

    private sealed class RefreshWorkers : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly RefreshWorkers Instance = new();
        private RefreshWorkers() { }
    }

    private sealed class DrainTimedOut : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly DrainTimedOut Instance = new();
        private DrainTimedOut() { }
    }
}

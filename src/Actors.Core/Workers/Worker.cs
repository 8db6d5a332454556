using System.Diagnostics;
using Actors.Handlers;
using Actors.Protocol;
using Akka.Actor;
using Akka.Event;
using static Actors.Protocol.WorkerProtocol;

namespace Actors.Workers;

/// <summary>
/// One consumer of a queue's pool. Runs its deliveries one at a time (holding at most the queue's prefetch),
/// resolves each message's handler from dependency injection, and each outcome is reported as <see cref="Completed"/>
/// or <see cref="Failed"/> to the queue that sent it, in the worker's name. A handler's exception is a failed attempt,
/// not a crash; if the worker itself crashes, its supervisor restarts it and the deliveries it held are reported as
/// failed first. Handlers run on the <see cref="HandlerScheduler"/>'s threads, the deliveries a free worker holds
/// handed over together as a chunk (see Worker.Chunks.cs), so the worker keeps receiving while they run: a queue
/// whose lease ran out can stop a worker whose handler ignores its cancellation token (the handler's late outcome then
/// goes nowhere). A type with a batch handler runs several deliveries at once instead (see Worker.Batches.cs).
/// </summary>
internal sealed partial class Worker : ReceiveActor, IWithTimers
{
    private readonly HandlerRegistry _handlers;
    private readonly IServiceProvider _services;
    private readonly Queue<(Deliver Delivery, IActorRef Queue)> _waiting = new();
    private readonly string _name;
    private readonly HandlerScheduler _scheduler = HandlerScheduler.Get(Context.System);
    private Chunk? _current;

    /// <summary>A worker deployed by a cluster-aware pool: it finds the handlers of the node it runs on.</summary>
    public Worker() : this(Context.System.GetExtension<WorkerServices>()) { }

    private Worker(WorkerServices services) : this(services.Handlers, services.Services) { }

    public Worker(HandlerRegistry handlers, IServiceProvider services)
    {
        _handlers = handlers;
        _services = services;
        _name = Self.Path.ToStringWithoutAddress();

        Receive<Deliver>(delivery =>
        {
            _waiting.Enqueue((delivery, Sender));
            if (_filling is not null) OnArrivedWhileFilling(delivery);
            if (!Busy) StartNext();
        });
        Receive<ChunkFinished>(finished =>
        {
            if (!ReferenceEquals(_current, finished.Chunk)) return;
            _current = null;
            finished.Chunk.Dispose();
            StartNext();
        });
        ReceiveBatches();
        Receive<LeaseExpired>(expired => Withdraw(expired.MessageId, expired.Attempt, leaseExpired: true));
        Receive<CancelDelivery>(cancelled => Withdraw(cancelled.MessageId, cancelled.Attempt, leaseExpired: false));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>A handler or a batch runs, or a batch is filling: the next delivery waits.</summary>
    private bool Busy => _current is not null || _batch is not null || _filling is not null;

    /// <summary>
    /// The queue took a delivery back (its lease ran out, or the message was cancelled): a running handler's token
    /// fires; one not started yet is dropped. In a running batch, the delivery's outcome is dropped, and a lease that
    /// ran out fires the whole batch's token.
    /// </summary>
    private void Withdraw(long messageId, int attempt, bool leaseExpired)
    {
        if (WithdrawFromBatch(messageId, attempt, leaseExpired)) return;
        if (_current is { } chunk && chunk.Withdraw(messageId, attempt)) return;
        var count = _waiting.Count;
        for (var i = 0; i < count; i++)
        {
            var entry = _waiting.Dequeue();
            if (entry.Delivery.MessageId != messageId || entry.Delivery.Attempt != attempt) _waiting.Enqueue(entry);
        }
    }

    /// <summary>Props for a worker on this node.</summary>
    public static Props Props(HandlerRegistry handlers, IServiceProvider services) =>
        Akka.Actor.Props.Create(() => new Worker(handlers, services));

    /// <summary>
    /// Props a cluster-aware pool can deploy on another node: they carry no handlers, only the type, and the worker
    /// takes the handlers that node registered (<see cref="WorkerServices"/>).
    /// </summary>
    public static Props ClusterProps() => Akka.Actor.Props.Create<Worker>();

    private void StartNext()
    {
        while (!Busy && _waiting.TryPeek(out var head))
        {
            if (_handlers.TryGetBatch(head.Delivery.Type, out var batch))
            {
                StartBatch(head.Delivery.Type, batch, waitedEnough: false);
                continue;
            }
            var chunk = TakeChunk();
            var run = new ChunkRun(chunk, _handlers, _services, Self, _name);
            // On the handler threads, never on this actor's: a handler that blocks holds one of them, not the worker,
            // which stays free to withdraw a delivery or be stopped by its queue. Without handler threads it runs here,
            // and a chunk whose handlers all finished synchronously needs no message back.
            var running = _scheduler.RunsInline ? run.RunAsync() : _scheduler.Run(run.RunAsync);
            if (running.IsCompleted)
            {
                chunk.Dispose();
                continue;
            }
            _current = chunk;
            running.PipeTo(Self, success: () => new ChunkFinished(chunk), failure: _ => new ChunkFinished(chunk));
        }
    }

    /// <summary>
    /// The waiting deliveries up to the first one of a type with a batch handler (which runs in a batch of its own
    /// next): a handler thread runs them one after another, so a worker holding several deliveries costs one
    /// hand-over to the handler threads and one message back, not one each.
    /// </summary>
    private Chunk TakeChunk()
    {
        var items = new List<ChunkItem>(_waiting.Count);
        while (_waiting.TryPeek(out var next) && (items.Count == 0 || !_handlers.TryGetBatch(next.Delivery.Type, out _)))
        {
            var (delivery, queue) = _waiting.Dequeue();
            items.Add(new ChunkItem(delivery, queue));
        }
        return new Chunk(items);
    }

    private void Report(Deliver delivery, IActorRef queue, TimeSpan serviceTime, ReadOnlyMemory<byte>? result, Exception? error) =>
        queue.Tell(ReportOf(delivery, serviceTime, result, error, _name), Self);

    /// <summary>
    /// The report of one attempt, <see cref="Completed"/> or <see cref="Failed"/>, with the attempt recorded in the
    /// metrics. Thread-safe: a handler thread reports what it ran.
    /// </summary>
    private static IQueueMessage ReportOf(Deliver delivery, TimeSpan serviceTime, ReadOnlyMemory<byte>? result, Exception? error, string worker)
    {
        RecordProcessed(delivery.QueueId, serviceTime, error);
        if (error is null) return new Completed(delivery.QueueId, delivery.MessageId, delivery.Attempt, result, serviceTime);

        var (requested, retryAfter) = error switch
        {
            RetryLaterException later => (RequestedFailureAction.RetryLater, (TimeSpan?)later.Delay),
            DeadLetterException or PayloadFormatException or NoHandlerException => (RequestedFailureAction.DeadLetter, null),
            _ => (RequestedFailureAction.FollowPolicy, null),
        };
        var info = ErrorInfo.FromException(error, worker, DateTime.UtcNow);
        return new Failed(delivery.QueueId, delivery.MessageId, delivery.Attempt, info, requested, retryAfter, serviceTime);
    }

    /// <summary>The worker crashed (not a handler failure): report what it held so the queue can redeliver it now.</summary>
    protected override void PreRestart(Exception reason, object message)
    {
        Context.GetLogger().Warning(reason, "Worker {0} crashed; its deliveries go back to the queue", _name);
        var error = new InvalidOperationException($"The worker crashed and was restarted: {reason.Message}");
        if (_current is { } chunk)
        {
            // What the handler thread already finished it reports itself; the rest is dropped there and reported here.
            foreach (var item in chunk.Items)
                if (item.Drop()) ReportCrash(item.Delivery, item.Queue, error);
            _current = null;
        }
        CrashBatch(error);
        while (_waiting.TryDequeue(out var entry)) ReportCrash(entry.Delivery, entry.Queue, error);
        base.PreRestart(reason, message);
    }

    private void ReportCrash(Deliver delivery, IActorRef queue, Exception error) =>
        queue.Tell(new Failed(delivery.QueueId, delivery.MessageId, delivery.Attempt, ErrorInfo.FromException(error, _name, DateTime.UtcNow),
            RequestedFailureAction.RetryAfter, TimeSpan.Zero, TimeSpan.Zero), Self);

    protected override void PostStop()
    {
        // A stopped worker's handlers get their tokens fired, and what they still return goes nowhere.
        if (_current is { } chunk) foreach (var item in chunk.Items) item.Drop();
        _batch?.Cancellation.Cancel();
        base.PostStop();
    }

    /// <summary>A chunk's handler thread is done with it; one that finishes after its worker was stopped is dropped quietly.</summary>
    private sealed record ChunkFinished(Chunk Chunk) : IDeadLetterSuppression;
}

/// <summary>
/// The handlers and services of this node, for workers that cluster-aware pools deploy here from other nodes.
/// Registered by <see cref="DurableQueues.Start"/>.
/// </summary>
internal sealed class WorkerServices(HandlerRegistry handlers, IServiceProvider services) : IExtension
{
    public HandlerRegistry Handlers { get; } = handlers;

    public IServiceProvider Services { get; } = services;

    /// <summary>Registers the handlers and services of this node.</summary>
    public static void Register(ActorSystem system, HandlerRegistry handlers, IServiceProvider services) =>
        system.RegisterExtension(new Id(handlers, services));

    private sealed class Id(HandlerRegistry handlers, IServiceProvider services) : ExtensionIdProvider<WorkerServices>
    {
        public override WorkerServices CreateExtension(ExtendedActorSystem system) => new(handlers, services);
    }
}

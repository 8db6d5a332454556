using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;

namespace Actors.Workers;

/// <summary>
/// Where message handlers run: a <see cref="TaskScheduler"/> over the <c>actors-handler-dispatcher</c>, a pool of
/// dedicated threads apart from the .NET thread pool that Akka's default dispatcher (and so every queue actor) runs
/// on. A worker starts each handler as a task on it, so the handler's synchronous part and every continuation that
/// does not opt out with <c>ConfigureAwait(false)</c> run there: a handler that blocks its thread (a synchronous call,
/// <c>Thread.Sleep</c>, <c>.Result</c>) takes one of these threads and nothing else, the queue actors stay responsive,
/// and the worker itself stays free to be stopped. A handler that blocks forever keeps its thread for good; when all
/// are held, the other handlers wait for a thread, while the queues keep answering and expire their leases.
/// </summary>
internal sealed class HandlerScheduler : TaskScheduler, IExtension
{
    /// <summary>The dispatcher id handlers run on; configure its thread count under this path.</summary>
    public const string DispatcherId = "actors-handler-dispatcher";

    [ThreadStatic]
    private static bool _onHandlerThread;

    private readonly MessageDispatcher _dispatcher;

    private HandlerScheduler(MessageDispatcher dispatcher) => _dispatcher = dispatcher;

    /// <summary>
    /// The default <c>actors-handler-dispatcher</c>: a fork-join executor (its own threads), at least 8 and two per
    /// processor up to 64; throughput 1, since each task is a whole handler run or a continuation of one.
    /// </summary>
    public static Config DefaultConfig() => ConfigurationFactory.ParseString($$"""
        {{DispatcherId}} {
          type = Dispatcher
          executor = fork-join-executor
          fork-join-executor {
            parallelism-min = 8
            parallelism-factor = 2.0
            parallelism-max = 64
          }
          throughput = 1
        }
        """);

    /// <summary>The scheduler of <paramref name="system"/>, created on first use.</summary>
    public static HandlerScheduler Get(ActorSystem system) => system.WithExtension<HandlerScheduler, Provider>();

    /// <summary>Starts a handler run on the handler threads; the returned task ends with the handler's.</summary>
    public Task<T> Run<T>(Func<Task<T>> handler) =>
        Task.Factory.StartNew(handler, CancellationToken.None, TaskCreationOptions.DenyChildAttach, this).Unwrap();

    protected override void QueueTask(Task task) => _dispatcher.Schedule(() =>
    {
        var outer = _onHandlerThread;
        _onHandlerThread = true;
        try
        {
            TryExecuteTask(task);
        }
        finally
        {
            _onHandlerThread = outer;
        }
    });

    /// <summary>Runs a task inline only on a handler thread, never on a caller's (an actor's) thread.</summary>
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => _onHandlerThread && TryExecuteTask(task);

    protected override IEnumerable<Task>? GetScheduledTasks() => null;

    private sealed class Provider : ExtensionIdProvider<HandlerScheduler>
    {
        public override HandlerScheduler CreateExtension(ExtendedActorSystem system)
        {
            // A system configured without DurableQueues.Configuration still gets the default handler dispatcher.
            if (!system.Dispatchers.HasDispatcher(DispatcherId)) system.Settings.InjectTopLevelFallback(DefaultConfig());
            return new HandlerScheduler(system.Dispatchers.Lookup(DispatcherId));
        }
    }
}

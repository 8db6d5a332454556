using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.Workers;

/// <summary>
/// Where message handlers run: a <see cref="TaskScheduler"/> over a pool of dedicated background threads, apart from
/// the .NET thread pool that Akka's default dispatcher (and so every queue actor) runs on. A worker starts each
/// handler as a task here, so the handler's synchronous part and every continuation that does not opt out with
/// <c>ConfigureAwait(false)</c> run on these threads: a handler that blocks its thread (a synchronous call,
/// <c>Thread.Sleep</c>, <c>.Result</c>) takes one of them and nothing else, the queue actors stay responsive, and the
/// worker itself stays free to be stopped. The threads share one queue, so a blocked thread holds up no other
/// handler while a thread is free. A handler that blocks forever keeps its thread for good; when all are held, the
/// other handlers wait for one, while the queues keep answering and expire their leases.
/// <para>Akka's own fork-join dispatcher is not used: with handlers blocking some of its threads, work queued on it
/// was seen waiting although fewer handlers were blocked than the pool was configured to have threads.</para>
/// </summary>
internal sealed class HandlerScheduler : TaskScheduler, IExtension, IDisposable
{
    /// <summary>The HOCON section of the handler threads (<c>thread-count</c>).</summary>
    public const string ConfigPath = "actors-handler-dispatcher";

    [ThreadStatic]
    private static HandlerScheduler? _ownerOfThisThread;

    private readonly BlockingCollection<Task> _tasks = new();
    private readonly int _threadCount;

    private HandlerScheduler(string systemName, int threadCount)
    {
        _threadCount = threadCount;
        for (var i = 1; i <= threadCount; i++)
            new Thread(Work) { IsBackground = true, Name = $"{systemName}-handler-{i}" }.Start();
    }

    /// <summary>Handler threads by default: two per processor, at least 8, at most 64.</summary>
    public static int DefaultThreadCount => Math.Clamp(2 * Environment.ProcessorCount, 8, 64);

    /// <summary>The default settings: <c>actors-handler-dispatcher.thread-count = </c><see cref="DefaultThreadCount"/>.</summary>
    public static Config DefaultConfig() => Config(null);

    /// <summary><c>actors-handler-dispatcher.thread-count</c>: <paramref name="threads"/>, or <see cref="DefaultThreadCount"/> when null; 0 runs handlers inline.</summary>
    public static Config Config(int? threads) => ConfigurationFactory.ParseString($"{ConfigPath}.thread-count = {threads ?? DefaultThreadCount}");

    /// <summary>True when there are no handler threads: a worker runs its handler on its own thread.</summary>
    public bool RunsInline => _threadCount == 0;

    /// <summary>The scheduler of <paramref name="system"/>, created on first use and stopped with the system.</summary>
    public static HandlerScheduler Get(ActorSystem system) => system.WithExtension<HandlerScheduler, Provider>();

    /// <inheritdoc />
    public override int MaximumConcurrencyLevel => _threadCount;

    /// <summary>Starts a handler run on the handler threads; the returned task ends with the handler's.</summary>
    public Task<T> Run<T>(Func<Task<T>> handler) =>
        Task.Factory.StartNew(handler, CancellationToken.None, TaskCreationOptions.DenyChildAttach, this).Unwrap();

    /// <summary>Starts a handler run on the handler threads; the returned task ends with the handler's.</summary>
    public Task Run(Func<Task> handler) =>
        Task.Factory.StartNew(handler, CancellationToken.None, TaskCreationOptions.DenyChildAttach, this).Unwrap();

    /// <summary>Takes no more tasks; each thread ends once the queue is empty and its current handler returned.</summary>
    public void Dispose() => _tasks.CompleteAdding();

    protected override void QueueTask(Task task)
    {
        if (!_tasks.IsAddingCompleted)
        {
            try
            {
                _tasks.Add(task);
                return;
            }
            catch (InvalidOperationException)
            {
                // The system stopped between the check and the add.
            }
        }
        // A continuation that arrives after the system stopped still has to end its task.
        ThreadPool.UnsafeQueueUserWorkItem(_ => TryExecuteTask(task), null);
    }

    /// <summary>Runs a task inline only on a handler thread, never on a caller's (an actor's) thread.</summary>
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        ReferenceEquals(_ownerOfThisThread, this) && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks() => _tasks.ToArray();

    private void Work()
    {
        _ownerOfThisThread = this;
        foreach (var task in _tasks.GetConsumingEnumerable()) TryExecuteTask(task);
    }

    private sealed class Provider : ExtensionIdProvider<HandlerScheduler>
    {
        public override HandlerScheduler CreateExtension(ExtendedActorSystem system)
        {
            var threads = system.Settings.Config.GetInt($"{ConfigPath}.thread-count", DefaultThreadCount);
            if (threads < 0) throw new ConfigurationException($"{ConfigPath}.thread-count must be at least 0, was {threads}.");
            var scheduler = new HandlerScheduler(system.Name, threads);
            system.RegisterOnTermination(scheduler.Dispose);
            return scheduler;
        }
    }
}

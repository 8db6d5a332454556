using System.Collections.Concurrent;
using System.Text;
using Actors.Client;
using Actors.Configuration;
using Actors.Protocol;
using Actors.Queues;
using Akka.Actor;
using Xunit.Abstractions;
using static Actors.Protocol.QueueQueries;

namespace Actors.Core.Tests;

/// <summary>
/// Handlers that block their thread and ignore their cancellation token: the queue stops and replaces the worker whose
/// lease ran out, fences its late result, and keeps answering meanwhile. Over a real SQLite file.
/// </summary>
public sealed class WorkerAbandonSpec : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private readonly DurableQueuesOptions _options;
    private readonly ManualResetEventSlim _gate = new();
    private DurableQueuesHandle? _queues;

    public WorkerAbandonSpec(ITestOutputHelper output) : this(TestQueues.NewOptions(), output) { }

    private WorkerAbandonSpec(DurableQueuesOptions options, ITestOutputHelper output) : base(TestQueues.Config(options), output: output) => _options = options;

    private IQueueClient Client => _queues!.Client;

    private void Start(Action<DurableQueuesOptions> configure)
    {
        configure(_options);
        _queues = DurableQueues.Start(Sys, _options);
    }

    protected override void AfterAll()
    {
        // Blocked handlers hold handler threads until the gate opens.
        _gate.Set();
        base.AfterAll();
        TestQueues.DeleteDirectory(_options.DataDirectory);
    }

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    private async Task<MessageInfo> AwaitStatus(string queue, long id, MessageStatus status)
    {
        MessageInfo? info = null;
        await AwaitAssertAsync(async () =>
        {
            info = await Client.GetMessageAsync(queue, id);
            Assert.Equal(status, info?.Status);
        }, Wait, TimeSpan.FromMilliseconds(100));
        return info!;
    }

    [Fact]
    public async Task QueueActor_must_stop_and_replace_a_worker_whose_handler_ignores_its_token_and_fence_its_late_result()
    {
        var blocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var returned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = new ConcurrentQueue<int>();
        Start(o =>
        {
            // One worker: the other messages can only complete on its replacement.
            o.AddQueue("wedge", q => { q.Workers = 1; q.Prefetch = 1; q.Lease = TimeSpan.FromSeconds(2); q.Retry.MaxAttempts = 5; q.Retry.BaseDelay = TimeSpan.Zero; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("block", (_, ctx, _) =>
            {
                attempts.Enqueue(ctx.Attempt);
                if (ctx.Attempt > 1) return ValueTask.FromResult<object?>("retried");
                blocked.TrySetResult();
                _gate.Wait(CancellationToken.None);   // blocks its thread and never looks at the token
                returned.TrySetResult();
                return ValueTask.FromResult<object?>("late");
            });
            o.Handlers.Add<ReadOnlyMemory<byte>>("good", (_, _, _) => ValueTask.FromResult<object?>("ok"));
        });

        var wedged = await Client.EnqueueAsync("wedge", "block", Bytes("w"));
        await blocked.Task.WaitAsync(Wait);
        var others = new List<long>();
        for (var i = 0; i < 5; i++) others.Add(await Client.EnqueueAsync("wedge", "good", Bytes($"{i}")));

        foreach (var id in others) await AwaitStatus("wedge", id, MessageStatus.Succeeded);
        var retried = await AwaitStatus("wedge", wedged, MessageStatus.Succeeded);
        Assert.Equal("\"retried\"", Encoding.UTF8.GetString(retried.Result!.Value.Span));
        Assert.Equal(1, attempts.First());
        Assert.True(retried.Attempts >= 2);
        // The pool keeps its size (awaited: on a slow machine another lease may run out and a replacement be under way).
        await AwaitAssertAsync(async () => Assert.Equal(1, (await Client.GetStatsAsync("wedge")).Workers), Wait, TimeSpan.FromMilliseconds(100));

        // The blocked handler finally returns: its result goes nowhere.
        _gate.Set();
        await returned.Task.WaitAsync(Wait);
        var after = await Client.GetMessageAsync("wedge", wedged);
        Assert.Equal("\"retried\"", Encoding.UTF8.GetString(after!.Result!.Value.Span));
        var stats = await Client.GetStatsAsync("wedge");
        Assert.Equal((6L, 6L), (stats.TotalEnqueued, stats.TotalSucceeded));
    }

    [Fact]
    public async Task QueueActor_must_keep_answering_while_every_worker_is_blocked()
    {
        const int workers = 4;
        var started = 0;
        var onThreadPool = 0;
        Start(o =>
        {
            o.AddQueue("blocked", q => { q.Workers = workers; q.Prefetch = 1; q.Lease = TimeSpan.FromHours(1); });
            o.Handlers.Add<ReadOnlyMemory<byte>>("block", (_, _, _) =>
            {
                if (Thread.CurrentThread.IsThreadPoolThread) Interlocked.Increment(ref onThreadPool);
                Interlocked.Increment(ref started);
                _gate.Wait(CancellationToken.None);
                return ValueTask.FromResult<object?>(null);
            });
        });

        var ids = new List<long>();
        for (var i = 0; i < workers; i++) ids.Add(await Client.EnqueueAsync("blocked", "block", Bytes($"{i}")));
        await TestQueues.Until(() => Task.FromResult(Volatile.Read(ref started) == workers), "every worker blocked");

        // Every handler holds a thread of the handler dispatcher, none of the .NET pool the queue actors run on.
        Assert.Equal(0, Volatile.Read(ref onThreadPool));
        var stats = await Client.GetStatsAsync("blocked");
        Assert.Equal((workers, (long)workers), (stats.Workers, stats.InFlight));
        var more = await Client.EnqueueAsync("blocked", "block", Bytes("more"));
        Assert.Equal(1, (await Client.GetStatsAsync("blocked")).Depth);

        _gate.Set();
        foreach (var id in ids.Append(more)) await AwaitStatus("blocked", id, MessageStatus.Succeeded);
    }

    [Fact]
    public async Task QueueActor_must_replace_a_worker_that_crashes_past_its_restart_limit()
    {
        Start(o =>
        {
            o.AddQueue("crashy", q => { q.Workers = 1; q.Prefetch = 1; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("echo", (_, _, _) => ValueTask.FromResult<object?>("ok"));
        });
        await AwaitAssertAsync(async () => Assert.Equal(1, (await Client.GetStatsAsync("crashy")).Workers), Wait);
        var first = await Sys.ActorSelection("/user/queues/crashy/queue/workers/*").ResolveOne(Wait);
        var watcher = CreateTestProbe();
        watcher.Watch(first);

        // Restarted in place up to the limit; one more crash within the window stops it.
        for (var i = 0; i <= WorkerPool.RestartsPerWindow; i++) first.Tell(Kill.Instance);
        await watcher.ExpectTerminatedAsync(first, Wait);

        // A replacement takes the next message.
        var id = await Client.EnqueueAsync("crashy", "echo", Bytes("x"));
        await AwaitStatus("crashy", id, MessageStatus.Succeeded);
        await AwaitAssertAsync(async () => Assert.Equal(1, (await Client.GetStatsAsync("crashy")).Workers), Wait, TimeSpan.FromMilliseconds(100));
    }
}

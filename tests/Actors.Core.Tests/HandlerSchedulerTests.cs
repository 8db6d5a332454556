using Actors.Workers;
using Akka.Actor;

namespace Actors.Core.Tests;

public sealed class HandlerSchedulerTests
{
    [Fact]
    public async Task Handlers_and_their_continuations_run_on_the_handler_threads_even_in_a_system_configured_without_their_settings()
    {
        var system = ActorSystem.Create("bare");
        try
        {
            var scheduler = HandlerScheduler.Get(system);
            Assert.Same(scheduler, HandlerScheduler.Get(system));

            var threads = await scheduler.Run(async () =>
            {
                var before = Thread.CurrentThread.IsThreadPoolThread;
                await Task.Delay(10);   // the continuation comes back to the handler threads
                return (before, after: Thread.CurrentThread.IsThreadPoolThread);
            }).WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Equal((false, false), threads);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task A_handler_that_throws_ends_in_a_faulted_task()
    {
        var system = ActorSystem.Create("bare");
        try
        {
            var run = HandlerScheduler.Get(system).Run<int>(() => throw new InvalidOperationException("boom"));
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => run.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal("boom", error.Message);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task As_many_handlers_as_the_default_thread_count_can_block_at_once()
    {
        var system = ActorSystem.Create("bare");
        using var gate = new ManualResetEventSlim();
        try
        {
            var scheduler = HandlerScheduler.Get(system);
            var started = 0;
            var runs = Enumerable.Range(0, HandlerScheduler.DefaultThreadCount).Select(_ => scheduler.Run(() =>
            {
                Interlocked.Increment(ref started);
                gate.Wait(CancellationToken.None);
                return Task.FromResult(true);
            })).ToList();

            await Poll.Until(() => Task.FromResult(Volatile.Read(ref started) == HandlerScheduler.DefaultThreadCount), "every handler running", TimeSpan.FromSeconds(30));
            gate.Set();
            Assert.All(await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(30)), Assert.True);
        }
        finally
        {
            gate.Set();
            await system.Terminate();
        }
    }

    [Fact]
    public async Task With_no_handler_threads_handlers_run_inline_on_their_workers_and_every_outcome_is_reported()
    {
        var options = TestQueues.NewOptions();
        options.HandlerThreads = 0;
        options.AddQueue("inline", q => q.Retry.MaxAttempts = 1);
        var onPool = new System.Collections.Concurrent.ConcurrentBag<bool>();
        options.Handlers.Add<ReadOnlyMemory<byte>>("sync", (_, _, _) =>
        {
            onPool.Add(Thread.CurrentThread.IsThreadPoolThread);
            return ValueTask.FromResult<object?>(1);
        });
        options.Handlers.Add<ReadOnlyMemory<byte>>("async", async (_, _, ct) =>
        {
            await Task.Delay(5, ct);
            return 2;
        });
        options.Handlers.Add<ReadOnlyMemory<byte>>("throws", (_, _, _) => throw new InvalidOperationException("thrown before any await"));
        var (system, queues) = TestQueues.StartNode(options);
        try
        {
            Assert.True(HandlerScheduler.Get(system).RunsInline);
            var sync = await queues.Client.EnqueueAsync("inline", "sync", new byte[] { 1 });
            var later = await queues.Client.EnqueueAsync("inline", "async", new byte[] { 1 });
            var thrown = await queues.Client.EnqueueAsync("inline", "throws", new byte[] { 1 });

            await TestQueues.Until(async () => (await queues.Client.GetMessageAsync("inline", thrown))!.Status == Protocol.MessageStatus.DeadLettered, "the throwing handler's message dead-lettered");
            await TestQueues.Until(async () => (await queues.Client.GetStatsAsync("inline")).TotalSucceeded == 2, "the other two succeeded");
            Assert.Equal(Protocol.MessageStatus.Succeeded, (await queues.Client.GetMessageAsync("inline", sync))!.Status);
            Assert.Equal(Protocol.MessageStatus.Succeeded, (await queues.Client.GetMessageAsync("inline", later))!.Status);
            // Inline means on the worker's own thread: the .NET pool Akka's default dispatcher runs on.
            Assert.All(onPool, Assert.True);
            Assert.Contains("thrown before any await", (await queues.Client.GetMessageAsync("inline", thrown))!.Errors[^1].Message, StringComparison.Ordinal);
        }
        finally
        {
            await system.Terminate();
            TestQueues.DeleteDirectory(options.DataDirectory);
        }
    }
}

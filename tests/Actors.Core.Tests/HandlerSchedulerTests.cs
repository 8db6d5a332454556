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
}

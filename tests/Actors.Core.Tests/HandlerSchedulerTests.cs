using Actors.Workers;
using Akka.Actor;

namespace Actors.Core.Tests;

public sealed class HandlerSchedulerTests
{
    [Fact]
    public async Task Handlers_and_their_continuations_run_on_the_handler_threads_even_in_a_system_configured_without_them()
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
            Assert.True(system.Dispatchers.HasDispatcher(HandlerScheduler.DispatcherId));
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
}

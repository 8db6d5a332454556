using System.Collections.Concurrent;
using System.Text;
using Actors.Configuration;
using Actors.Handlers;
using Actors.Protocol;
using static Actors.Protocol.QueueQueries;

namespace Actors.Core.Tests;

/// <summary>Rate and concurrency limits and push-back through real queues over SQLite, on a clock the test moves.</summary>
public sealed class DispatchLimitsQueueTests : DataDirectoryTest
{
    private static readonly DateTimeOffset Start = new(2026, 5, 4, 12, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes("{}");

    [Fact]
    public async Task Under_a_rate_limit_starts_keep_to_the_token_bucket_on_the_queue_clock_and_each_message_runs_once()
    {
        var clock = new ManualClock(Start);
        var starts = new ConcurrentQueue<(long Id, DateTime At)>();
        var options = Options(o =>
        {
            o.Time = clock;
            o.AddQueue("paced", q =>
            {
                q.Workers = 4;
                q.RateLimit = new RateLimitOptions { Permits = 2, Period = TimeSpan.FromSeconds(1), Burst = 3 };
            });
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", (_, ctx, _) =>
            {
                starts.Enqueue((ctx.MessageId, clock.GetUtcNow().UtcDateTime));
                return ValueTask.FromResult<object?>(null);
            });
        });
        var (system, queues) = TestQueues.StartNode(options);
        try
        {
            var ids = new List<long>();
            for (var i = 0; i < 9; i++) ids.Add(await queues.Client.EnqueueAsync("paced", "job", Payload));

            // The bucket starts full: the burst starts at once; then, while the clock stands still, nothing more.
            await TestQueues.Until(() => Task.FromResult(starts.Count >= 3), "the burst to start");
            for (var expected = 4; expected <= ids.Count; expected++)
            {
                clock.Advance(TimeSpan.FromMilliseconds(500));
                var count = expected;
                await TestQueues.Until(() => Task.FromResult(starts.Count >= count), $"start {count} once its token came");
            }
            await TestQueues.Until(async () => (await queues.Client.GetStatsAsync("paced")).TotalSucceeded == ids.Count, "every message to succeed");

            Assert.Equal(ids.Order(), starts.Select(s => s.Id).Order());
            Assert.Equal(Enumerable.Repeat(Start.UtcDateTime, 3), starts.Take(3).Select(s => s.At));
            DispatchLimitsTests.AssertWithinRate(starts.Select(s => s.At), permits: 2, TimeSpan.FromSeconds(1), burst: 3);
            var stats = await queues.Client.GetStatsAsync("paced");
            Assert.Equal(new DispatchLimitStats(2, TimeSpan.FromSeconds(1), 3, null, WaitedForRate: 6, WaitedForConcurrency: 0), stats.Limits);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task MaxConcurrency_caps_the_handlers_running_at_once_below_the_pool_size_and_each_message_runs_once()
    {
        var held = new HeldHandler();
        var options = Options(o =>
        {
            o.AddQueue("narrow", q =>
            {
                q.Workers = 4;
                q.Prefetch = 2;
                q.MaxConcurrency = 2;
            });
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", held.HandleAsync);
        });
        var (system, queues) = TestQueues.StartNode(options);
        try
        {
            var ids = new List<long>();
            for (var i = 0; i < 8; i++) ids.Add(await queues.Client.EnqueueAsync("narrow", "job", Payload));

            // The pool could take all eight (4 workers × prefetch 2); the limit lets two out.
            await TestQueues.Until(() => Task.FromResult(held.Running == 2), "two handlers to run");
            var waiting = await queues.Client.GetStatsAsync("narrow");
            Assert.Equal((2L, 6L), (waiting.InFlight, waiting.Depth));

            held.ReleaseAll(ids.Count);
            await TestQueues.Until(async () => (await queues.Client.GetStatsAsync("narrow")).TotalSucceeded == ids.Count, "every message to succeed");
            Assert.Equal(2, held.Most);
            Assert.Equal(ids.Order(), held.Runs.Keys.Order());
            Assert.All(held.Runs.Values, n => Assert.Equal(1, n));
            var stats = await queues.Client.GetStatsAsync("narrow");
            Assert.Equal(new DispatchLimitStats(null, null, null, 2, WaitedForRate: 0, WaitedForConcurrency: 6), stats.Limits);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task Messages_held_back_by_the_rate_limit_survive_a_restart_and_each_runs_once_after_it()
    {
        var clock = new ManualClock(Start);
        var runs = new ConcurrentDictionary<long, int>();
        DurableQueuesOptions Node() => Options(o =>
        {
            o.Time = clock;
            o.AddQueue("paced", q => q.RateLimit = new RateLimitOptions { Permits = 1, Period = TimeSpan.FromMinutes(1), Burst = 2 });
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", (_, ctx, _) =>
            {
                runs.AddOrUpdate(ctx.MessageId, 1, (_, n) => n + 1);
                return ValueTask.FromResult<object?>(null);
            });
        });

        var (first, queues1) = TestQueues.StartNode(Node(), "first");
        var ids = new List<long>();
        for (var i = 0; i < 6; i++) ids.Add(await queues1.Client.EnqueueAsync("paced", "job", Payload));
        await TestQueues.Until(async () => (await queues1.Client.GetStatsAsync("paced")).TotalSucceeded == 2, "the burst to succeed");
        var before = await queues1.Client.GetStatsAsync("paced");
        Assert.Equal((4L, 0L), (before.Depth, before.InFlight));
        await first.Terminate();

        // A new node's bucket starts full: two more at once, then one a minute.
        var (second, queues2) = TestQueues.StartNode(Node(), "second");
        try
        {
            await TestQueues.Until(async () => (await queues2.Client.GetStatsAsync("paced")).TotalSucceeded == 4, "a burst after the restart");
            clock.Advance(TimeSpan.FromMinutes(2));
            await TestQueues.Until(async () => (await queues2.Client.GetStatsAsync("paced")).TotalSucceeded == 6, "the rest once their tokens came");
            Assert.Equal(ids.Order(), runs.Keys.Order());
            Assert.All(runs.Values, n => Assert.Equal(1, n));
        }
        finally
        {
            await second.Terminate();
        }
    }

    [Fact]
    public async Task A_push_back_uses_up_an_attempt_by_default_and_none_when_the_queue_says_so()
    {
        var attempts = new ConcurrentDictionary<(string Queue, long Id), ConcurrentQueue<int>>();
        var options = Options(o =>
        {
            o.AddQueue("counted", q => q.Retry.MaxAttempts = 2);
            o.AddQueue("free", q =>
            {
                q.Retry.MaxAttempts = 2;
                q.RetryLaterCountsAsAttempt = false;
            });
            o.Handlers.Add<ReadOnlyMemory<byte>>("busy", (_, ctx, _) =>
            {
                var seen = attempts.GetOrAdd((ctx.QueueId, ctx.MessageId), _ => new ConcurrentQueue<int>());
                seen.Enqueue(ctx.Attempt);
                if (seen.Count <= 3) throw new RetryLaterException(TimeSpan.Zero, "busy, try again");
                return ValueTask.FromResult<object?>(null);
            });
        });
        var (system, queues) = TestQueues.StartNode(options);
        try
        {
            var counted = await queues.Client.EnqueueAsync("counted", "busy", Payload);
            var free = await queues.Client.EnqueueAsync("free", "busy", Payload);

            await TestQueues.Until(async () => (await queues.Client.GetMessageAsync("free", free))?.Status == MessageStatus.Succeeded, "the pushed-back message to succeed");
            Assert.Equal([1, 1, 1, 1], attempts[("free", free)]);

            await TestQueues.Until(async () => (await queues.Client.GetMessageAsync("counted", counted))?.Status == MessageStatus.DeadLettered, "the counted one to be dead-lettered");
            Assert.Equal([1, 2], attempts[("counted", counted)]);
        }
        finally
        {
            await system.Terminate();
        }
    }
}

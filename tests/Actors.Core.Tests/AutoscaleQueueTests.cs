using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Actors.Client;
using Actors.Configuration;
using Actors.Handlers;
using static Actors.Protocol.QueueQueries;

namespace Actors.Core.Tests;

/// <summary>Autoscaled pools through real queues over SQLite: growth under load, shrinking after it, and drain on scale-down.</summary>
public sealed class AutoscaleQueueTests : DataDirectoryTest
{
    private static readonly DateTimeOffset Start = new(2026, 5, 4, 12, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes("{}");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_load_of_200_per_second_at_20_ms_grows_the_pool_to_what_littles_law_calls_for_and_its_end_shrinks_it_to_the_minimum_with_every_message_run_once()
    {
        var runs = new ConcurrentDictionary<long, int>();
        var laterAttempts = 0;
        var options = Options(o =>
        {
            o.AddQueue("elastic", q =>
            {
                q.Workers = 1;
                q.Autoscale = new AutoscaleOptions
                {
                    MinWorkers = 1, MaxWorkers = 16, ScaleDownAfter = TimeSpan.FromSeconds(2), Interval = TimeSpan.FromMilliseconds(500),
                };
            });
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", async (_, ctx, ct) =>
            {
                runs.AddOrUpdate(ctx.MessageId, 1, (_, n) => n + 1);
                if (ctx.Attempt > 1) Interlocked.Increment(ref laterAttempts);
                await Task.Delay(20, ct);
                return null;
            });
        });
        var (system, queues) = TestQueues.StartNode(options);
        using var stop = new CancellationTokenSource();
        try
        {
            Assert.Equal(1, (await queues.Client.GetStatsAsync("elastic")).Autoscale!.Target);
            var producer = ProduceAsync(queues.Client, "elastic", perSecond: 200, stop.Token);

            // λ·S/ρ = 200 × 0.02 ÷ 0.8 = 5. The handler's measured time is about 20 ms (timed around the handler on its
            // thread; more on a loaded machine, so 5–6 workers or more): once the smoothed λ has caught up with the load,
            // the pool is what the λ and S it measured call for, within one.
            AutoscaleStats grown = null!;
            var reached = await Poll.WaitFor(async () =>
            {
                grown = (await queues.Client.GetStatsAsync("elastic")).Autoscale!;
                var called = (int)Math.Ceiling(grown.ArrivalRate * grown.MeanService.TotalSeconds / 0.8);
                return grown.ArrivalRate >= 180 && grown.Target == grown.Active && Math.Abs(grown.Active - called) <= 1;
            }, Wait);
            Assert.True(reached, $"the pool did not settle at ⌈λS/ρ⌉ ± 1 active workers: {grown}");
            Assert.InRange(grown.Active, 4, 16);
            // Task.Delay(20) may end a little before 20 ms by the stopwatch (the timer's clock is coarser): 19.9 ms was seen.
            Assert.InRange(grown.MeanService, TimeSpan.FromMilliseconds(19), TimeSpan.FromSeconds(1));
            Assert.Equal(16, grown.Deployed);

            await stop.CancelAsync();
            var sent = await producer;

            AutoscaleStats shrunk = null!;
            var settled = await Poll.WaitFor(async () =>
            {
                var stats = await queues.Client.GetStatsAsync("elastic");
                shrunk = stats.Autoscale!;
                return shrunk.Active == 1 && shrunk.Target == 1 && stats.TotalSucceeded == sent;
            }, Wait);
            Assert.True(settled, $"the pool did not shrink to 1 with every message done: {shrunk}");

            var final = await queues.Client.GetStatsAsync("elastic");
            Assert.Equal((sent, 0L, 0L), (final.TotalSucceeded, final.TotalFailedAttempts, final.InFlight));
            Assert.Equal(1, final.Workers);
            Assert.Equal(sent, runs.Count);
            Assert.All(runs.Values, n => Assert.Equal(1, n));
            Assert.Equal(0, laterAttempts);
        }
        finally
        {
            await stop.CancelAsync();
            await system.Terminate();
        }
    }

    [Fact]
    public async Task A_worker_taken_out_of_the_pool_while_holding_a_message_finishes_it_with_no_redelivery_and_gets_nothing_new()
    {
        var clock = new ManualClock(Start);
        var held = new HeldHandler();
        var fastRuns = new ConcurrentDictionary<long, int>();
        var options = Options(o =>
        {
            o.Time = clock;
            o.AddQueue("shrinking", q =>
            {
                q.Workers = 4;
                q.Prefetch = 1;
                q.Autoscale = new AutoscaleOptions
                {
                    MinWorkers = 1, MaxWorkers = 4, ScaleDownAfter = TimeSpan.FromSeconds(10), Interval = TimeSpan.FromMilliseconds(100),
                };
            });
            o.Handlers.Add<ReadOnlyMemory<byte>>("held", held.HandleAsync);
            o.Handlers.Add<ReadOnlyMemory<byte>>("fast", async (_, ctx, ct) =>
            {
                fastRuns.AddOrUpdate(ctx.MessageId, 1, (_, n) => n + 1);
                await Task.Delay(5, ct);
                return null;
            });
        });
        var (system, queues) = TestQueues.StartNode(options);
        try
        {
            // A service time to size by; the queue's clock stands still, so the need (1) has not been lower for the window yet.
            for (var i = 0; i < 4; i++) await queues.Client.EnqueueAsync("shrinking", "fast", Payload);
            await Poll.Until(async () => (await queues.Client.GetStatsAsync("shrinking")).TotalSucceeded == 4, "the fast messages to succeed", Wait);
            var heldIds = new List<long>();
            for (var i = 0; i < 4; i++) heldIds.Add(await queues.Client.EnqueueAsync("shrinking", "held", Payload));
            await Poll.Until(() => held.Running == 4, "each of the four workers to hold one", Wait);
            Assert.Equal(4, (await queues.Client.GetStatsAsync("shrinking")).Autoscale!.Active);

            // Time passes on the queue's clock, past the stabilisation window, until the pool has shrunk.
            AutoscaleStats shrunk = null!;
            await Poll.Until(async () =>
            {
                clock.Advance(TimeSpan.FromSeconds(11));
                return (shrunk = (await queues.Client.GetStatsAsync("shrinking")).Autoscale!).Active == 1;
            }, "the pool to shrink to one", Wait, TimeSpan.FromMilliseconds(200));
            Assert.Equal((1, 1, 4, 3), (shrunk.Active, shrunk.Target, shrunk.Deployed, shrunk.Draining));

            // The one active worker is full (prefetch 1); the three draining ones take nothing new.
            for (var i = 0; i < 2; i++) await queues.Client.EnqueueAsync("shrinking", "fast", Payload);
            var waiting = await queues.Client.GetStatsAsync("shrinking");
            Assert.Equal((4L, 2L), (waiting.InFlight, waiting.Depth));

            held.ReleaseAll(4);
            await Poll.Until(async () => (await queues.Client.GetStatsAsync("shrinking")).TotalSucceeded == 10, "every message to succeed", Wait);
            var final = await queues.Client.GetStatsAsync("shrinking");
            Assert.Equal((0L, 0L, 0L), (final.TotalFailedAttempts, final.InFlight, final.Depth));
            Assert.Equal((1, 0), (final.Autoscale!.Active, final.Autoscale.Draining));
            Assert.Equal(heldIds.Order(), held.Runs.Keys.Order());
            Assert.All(held.Runs.Values, n => Assert.Equal(1, n));
            Assert.Equal(6, fastRuns.Count);
            Assert.All(fastRuns.Values, n => Assert.Equal(1, n));
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task Without_autoscale_the_stats_carry_none_and_the_pool_keeps_its_size()
    {
        var options = Options(o => o.AddQueue("fixed", q => q.Workers = 3));
        var (system, queues) = TestQueues.StartNode(options);
        try
        {
            await Poll.Until(async () => (await queues.Client.GetStatsAsync("fixed")).Workers == 3, "the pool to start", Wait);
            Assert.Null((await queues.Client.GetStatsAsync("fixed")).Autoscale);
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>
    /// Enqueues at <paramref name="perSecond"/> on average until <paramref name="stop"/>: each round sends what the time
    /// since the start calls for, so a late round catches up. Returns how many were accepted.
    /// </summary>
    private static async Task<long> ProduceAsync(IQueueClient client, string queue, int perSecond, CancellationToken stop)
    {
        var started = Stopwatch.GetTimestamp();
        long sent = 0;
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        try
        {
            while (await pace.WaitForNextTickAsync(stop))
            {
                var due = (long)(Stopwatch.GetElapsedTime(started).TotalSeconds * perSecond) - sent;
                if (due <= 0) continue;
                var batch = new Task<long>[due];
                for (var i = 0; i < due; i++) batch[i] = client.EnqueueAsync(queue, "job", Payload, cancellationToken: CancellationToken.None);
                await Task.WhenAll(batch);
                sent += due;
            }
        }
        catch (OperationCanceledException)
        {
            // The load ended.
        }
        return sent;
    }
}

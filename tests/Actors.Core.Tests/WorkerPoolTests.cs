using Actors.Queues;
using Akka.Actor;

namespace Actors.Core.Tests;

public class WorkerPoolTests : Akka.TestKit.Xunit2.TestKit
{
    private IActorRef[] Workers(int count) => Enumerable.Range(0, count).Select(_ => CreateTestProbe().Ref).ToArray();

    private static WorkerPool PoolOf(int prefetch, params IActorRef[] workers)
    {
        var pool = new WorkerPool(prefetch);
        foreach (var worker in workers) Assert.True(pool.TryAdd(worker));
        return pool;
    }

    [Fact]
    public void A_routee_is_learned_once_and_a_stopped_one_never_again()
    {
        var workers = Workers(2);
        var pool = PoolOf(2, workers);

        Assert.False(pool.TryAdd(workers[0]));
        Assert.True(pool.TryRemove(workers[0], out var slot));
        Assert.Equal(0, slot);
        Assert.False(pool.TryRemove(workers[0], out _));
        Assert.False(pool.TryAdd(workers[0]));
        Assert.Equal((2, 1), (pool.SlotCount, pool.AliveCount));
        Assert.Equal(new[] { workers[1] }, pool.AliveWorkers);
    }

    [Fact]
    public void Deliveries_go_to_the_least_busy_worker_rotating_among_equals_and_never_past_prefetch()
    {
        var workers = Workers(3);
        var pool = PoolOf(2, workers);

        var picks = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            var slot = pool.PickWorker();
            picks.Add(slot);
            Assert.Same(workers[slot], pool.Take(slot));
        }

        Assert.Equal(new[] { 0, 1, 2, 0, 1, 2 }, picks);
        Assert.Equal(-1, pool.PickWorker());
        Assert.Equal(6, pool.Outstanding);

        pool.Release(1);
        Assert.Equal(1, pool.PickWorker());
        pool.Release(99);   // a slot the pool never had
        Assert.Equal(5, pool.Outstanding);
    }

    [Fact]
    public void A_stopped_worker_takes_no_deliveries_but_its_slot_still_names_it()
    {
        var workers = Workers(2);
        var pool = PoolOf(1, workers);
        pool.Take(pool.PickWorker());   // slot 0

        Assert.True(pool.TryRemove(workers[0], out var slot));

        Assert.Same(workers[0], pool.HolderOf(slot));
        Assert.Null(pool.HolderOf(2));
        Assert.Null(pool.HolderOf(-1));
        Assert.Equal(0, pool.Outstanding);   // held deliveries of a stopped worker are not outstanding
        Assert.Equal(1, pool.PickWorker());
        pool.Take(1);
        Assert.Equal(-1, pool.PickWorker());
    }

    [Fact]
    public void A_retired_pool_takes_no_deliveries()
    {
        var pool = PoolOf(2, Workers(1));
        Assert.Equal(0, pool.PickWorker());

        pool.Retire();

        Assert.True(pool.Retired);
        Assert.Equal(-1, pool.PickWorker());
    }

    [Fact]
    public void Each_router_gets_a_new_name_and_is_recognised()
    {
        var pool = new WorkerPool(1);
        Assert.Equal(new[] { "workers", "workers-2", "workers-3" }, new[] { pool.NextRouterName(), pool.NextRouterName(), pool.NextRouterName() });

        var router = CreateTestProbe().Ref;
        Assert.False(pool.IsRouter(router));
        pool.UseRouter(router);
        Assert.True(pool.IsRouter(router));
        Assert.Same(router, pool.Router);
    }

    [Fact]
    public void The_slot_of_a_stopped_worker_is_reused_once_its_deliveries_are_back()
    {
        var workers = Workers(3);
        var pool = PoolOf(1, workers[0], workers[1]);
        pool.Take(pool.PickWorker());   // slot 0 holds one delivery

        Assert.True(pool.TryRemove(workers[0], out var slot));
        Assert.True(pool.TryAdd(workers[2]));
        Assert.Equal(3, pool.SlotCount);   // slot 0 still names the holder of an outstanding delivery

        var next = Workers(1)[0];
        pool.Release(slot);
        Assert.True(pool.TryRemove(workers[2], out var third));
        Assert.Equal(2, third);
        Assert.True(pool.TryAdd(next));
        Assert.Equal(3, pool.SlotCount);
        Assert.Same(next, pool.HolderOf(0));   // the first free slot is taken again
        Assert.Equal(new[] { next, workers[1] }, pool.AliveWorkers);
    }

    [Fact]
    public void Workers_that_come_and_go_leave_no_trace_once_their_router_drops_them()
    {
        var pool = new WorkerPool(1);
        var live = new HashSet<IActorRef>(Workers(2));
        Assert.Equal(2, pool.Learn(live).Count);

        for (var round = 0; round < 50; round++)
        {
            var gone = live.First();
            Assert.True(pool.TryRemove(gone, out _));
            // The router's list can still name the stopped worker: it is not learned again.
            var stale = new HashSet<IActorRef>(live);
            var replacement = Workers(1)[0];
            stale.Add(replacement);
            Assert.Equal(new[] { replacement }, pool.Learn(stale));
            live.Remove(gone);
            live.Add(replacement);
            Assert.Empty(pool.Learn(live));
        }

        Assert.Equal((2, 2, 0), (pool.SlotCount, pool.AliveCount, pool.StoppedCount));
    }

    [Fact]
    public void An_abandoned_worker_takes_no_deliveries_and_its_stop_is_not_counted_twice()
    {
        var workers = Workers(2);
        var pool = PoolOf(2, workers);
        var slot = pool.PickWorker();
        pool.Take(slot);

        Assert.Same(workers[slot], pool.Abandon(slot));
        Assert.Null(pool.Abandon(slot));
        Assert.Equal(1, pool.AbandonedCount);
        Assert.False(pool.TryRemove(workers[slot], out _));   // its Terminated later finds nothing to do
        Assert.False(pool.TryAdd(workers[slot]));
        var other = 1 - slot;
        Assert.Equal(other, pool.PickWorker());
        pool.Take(other);
        Assert.Equal(other, pool.PickWorker());
        pool.Take(other);
        Assert.Equal(-1, pool.PickWorker());
    }

    [Fact]
    public void Replacements_are_asked_for_at_once_then_with_a_growing_wait_until_things_calm_down()
    {
        var pool = new WorkerPool(1);
        var now = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        var delays = Enumerable.Range(0, 12).Select(i => pool.ScheduleReplacement(now.AddSeconds(i))).ToArray();

        Assert.All(delays.Take(WorkerPool.ImmediateReplacements), d => Assert.Equal(TimeSpan.Zero, d));
        Assert.Equal(WorkerPool.MinReplacementDelay, delays[WorkerPool.ImmediateReplacements]);
        Assert.Equal(WorkerPool.MinReplacementDelay * 2, delays[WorkerPool.ImmediateReplacements + 1]);
        Assert.Equal(WorkerPool.MaxReplacementDelay, delays[^1]);
        Assert.Equal(12, pool.PendingReplacements);
        Assert.Equal(12, pool.TakeReplacements());
        Assert.Equal(0, pool.TakeReplacements());

        Assert.Equal(TimeSpan.Zero, pool.ScheduleReplacement(now.AddSeconds(11) + WorkerPool.ReplacementCalm));
        pool.Retire();
        Assert.Equal(0, pool.TakeReplacements());
    }
}

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
}

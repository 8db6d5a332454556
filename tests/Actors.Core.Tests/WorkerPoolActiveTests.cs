using Actors.Queues;
using Akka.Actor;

namespace Actors.Core.Tests;

/// <summary>The active set of an autoscaled pool: only active workers are picked, leaving ones drain, and the set is split across nodes.</summary>
public sealed class WorkerPoolActiveTests : Akka.TestKit.Xunit2.TestKit
{
    private IActorRef[] Workers(int count) => Enumerable.Range(0, count).Select(_ => CreateTestProbe().Ref).ToArray();

    private static WorkerPool PoolOf(int prefetch, IEnumerable<IActorRef> workers)
    {
        var pool = new WorkerPool(prefetch);
        foreach (var worker in workers) Assert.True(pool.TryAdd(worker));
        return pool;
    }

    private static List<int> PickAll(WorkerPool pool)
    {
        var picks = new List<int>();
        for (var slot = pool.PickWorker(); slot >= 0; slot = pool.PickWorker())
        {
            pool.Take(slot);
            picks.Add(slot);
        }
        return picks;
    }

    [Fact]
    public void Without_a_target_every_live_worker_is_active()
    {
        var pool = PoolOf(1, Workers(3));

        Assert.Equal((3, 0), (pool.ActiveCount, pool.DrainingCount));
        Assert.Equal(new[] { 0, 1, 2 }, PickAll(pool).Order());
    }

    [Fact]
    public void Only_active_workers_get_deliveries_and_a_deactivated_one_keeps_what_it_holds_until_released()
    {
        var pool = PoolOf(1, Workers(4));
        Assert.Equal(4, PickAll(pool).Count);

        Assert.Equal(2, pool.SetActiveTarget(2));
        Assert.Equal((2, 2, 4), (pool.ActiveCount, pool.DrainingCount, pool.Outstanding));
        for (var slot = 0; slot < 4; slot++) pool.Release(slot);
        Assert.Equal(0, pool.DrainingCount);

        var picks = PickAll(pool);
        Assert.Equal(2, picks.Count);
        Assert.Equal(2, picks.Distinct().Count());
        Assert.Equal(4, pool.AliveCount);   // the others are idle, not stopped
    }

    [Fact]
    public void Leaving_the_set_goes_to_the_idlest_worker_and_joining_it_to_the_one_still_draining()
    {
        var pool = PoolOf(2, Workers(3));
        pool.Take(0);
        pool.Take(0);
        pool.Take(1);

        pool.SetActiveTarget(1);
        Assert.Equal((1, 1), (pool.ActiveCount, pool.DrainingCount));   // slot 1 drains its one; slot 2 is idle
        pool.Release(0);
        Assert.Equal(0, pool.PickWorker());   // slot 0 held the most: it stayed

        pool.SetActiveTarget(2);
        Assert.Equal((2, 0), (pool.ActiveCount, pool.DrainingCount));
        pool.Release(0);
        pool.Release(1);
        Assert.Equal(new[] { 0, 0, 1, 1 }, PickAll(pool).Order());   // slot 1, still draining, came back before idle slot 2
    }

    [Fact]
    public void A_stopped_active_worker_is_replaced_in_the_set_by_an_idle_one()
    {
        var workers = Workers(3);
        var pool = PoolOf(1, workers);
        pool.SetActiveTarget(2);
        var active = PickAll(pool);

        Assert.True(pool.TryRemove(workers[active[0]], out _));

        Assert.Equal(2, pool.ActiveCount);
        var idle = Enumerable.Range(0, 3).Except(active).Single();
        Assert.Equal(idle, pool.PickWorker());
    }

    [Fact]
    public void Workers_learned_under_a_target_start_outside_the_set_until_it_has_room()
    {
        var pool = PoolOf(1, Workers(2));
        pool.SetActiveTarget(3);
        Assert.Equal(2, pool.ActiveCount);

        pool.Learn(Workers(2));

        Assert.Equal((4, 3), (pool.AliveCount, pool.ActiveCount));
    }

    [Fact]
    public void The_active_set_is_split_evenly_across_the_nodes_and_a_joining_node_gets_its_share()
    {
        var nodeA = Remote(Sys, "a", 6);
        var nodeB = Remote(Sys, "b", 6);
        var pool = PoolOf(1, nodeA);
        pool.SetActiveTarget(6);
        Assert.Equal(6, PickAll(pool).Count);
        for (var slot = 0; slot < 6; slot++) pool.Release(slot);

        pool.Learn(nodeA.Concat(nodeB).ToList());

        var byNode = PickAll(pool).GroupBy(slot => pool.HolderOf(slot)!.Path.Address.Host).ToDictionary(g => g.Key!, g => g.Count());
        Assert.Equal(new Dictionary<string, int> { ["a"] = 3, ["b"] = 3 }, byNode);

        // An odd target: the extra one goes to the first node by address; a node with too few workers gives its rest to the others.
        Assert.Equal(7, pool.SetActiveTarget(7));
        var small = PoolOf(1, Remote(Sys, "a", 1).Concat(Remote(Sys, "b", 6)));
        Assert.Equal(5, small.SetActiveTarget(5));
        var smallByNode = PickAll(small).GroupBy(slot => small.HolderOf(slot)!.Path.Address.Host).ToDictionary(g => g.Key!, g => g.Count());
        Assert.Equal(new Dictionary<string, int> { ["a"] = 1, ["b"] = 4 }, smallByNode);
    }

    private static IActorRef[] Remote(ActorSystem system, string host, int count) =>
        Enumerable.Range(0, count).Select(i => (IActorRef)new NamedRef(system, new RootActorPath(new Address("akka.tcp", "actors", host, 4000)) / "user" / $"w{host}{i}")).ToArray();

    /// <summary>A reference with a given path (a worker on another node, for placement only); messages to it go nowhere.</summary>
    private sealed class NamedRef(ActorSystem system, ActorPath path) : MinimalActorRef
    {
        public override ActorPath Path { get; } = path;

        public override IActorRefProvider Provider { get; } = ((ExtendedActorSystem)system).Provider;
    }
}

using Actors.Queues;
using Akka.Actor;

namespace Actors.Core.Tests;

/// <summary>Attached consumers in the <see cref="WorkerPool"/>: slots with their own prefetch, outside the pool's size and active set.</summary>
public class WorkerPoolConsumerTests : Akka.TestKit.Xunit2.TestKit
{
    private IActorRef NewRef() => CreateTestProbe().Ref;

    [Fact]
    public void A_pool_without_workers_delivers_to_a_consumer_up_to_its_own_prefetch()
    {
        var pool = new WorkerPool(prefetch: 2);
        var consumer = NewRef();
        Assert.Equal(-1, pool.PickWorker());

        Assert.True(pool.Attach(consumer, prefetch: 3));
        for (var i = 0; i < 3; i++) Assert.Same(consumer, pool.Take(pool.PickWorker()));
        Assert.Equal(-1, pool.PickWorker());
        Assert.Equal((3, 0, 1), (pool.Outstanding, pool.AliveCount, pool.ConsumerCount));

        // Attaching again changes the prefetch only.
        Assert.False(pool.Attach(consumer, prefetch: 4));
        Assert.Equal(1, pool.ConsumerCount);
        Assert.Same(consumer, pool.Take(pool.PickWorker()));
        Assert.Equal(-1, pool.PickWorker());
    }

    [Fact]
    public void Consumers_share_dispatch_with_workers_but_not_the_pools_counts_or_its_active_set()
    {
        var pool = new WorkerPool(prefetch: 1);
        var worker = NewRef();
        var consumer = NewRef();
        Assert.True(pool.TryAdd(worker));
        Assert.True(pool.Attach(consumer, prefetch: 1));

        var taken = new[] { pool.Take(pool.PickWorker()), pool.Take(pool.PickWorker()) };
        Assert.Equal(new[] { worker, consumer }.ToHashSet(), taken.ToHashSet());
        Assert.Equal(-1, pool.PickWorker());
        Assert.Equal((1, 1, 2), (pool.AliveCount, pool.ConsumerCount, pool.Outstanding));
        Assert.Equal(new[] { worker }, pool.AliveWorkers);

        // An autoscaler's target of no active worker leaves the consumer active.
        Assert.Equal(0, pool.SetActiveTarget(0));
        var consumerSlot = Enumerable.Range(0, pool.SlotCount).Single(s => consumer.Equals(pool.HolderOf(s)));
        pool.Release(consumerSlot);
        Assert.Equal(consumerSlot, pool.PickWorker());
    }

    [Fact]
    public void A_detached_consumer_frees_its_slot_once_its_deliveries_are_back_and_may_attach_again()
    {
        var pool = new WorkerPool(prefetch: 1);
        var consumer = NewRef();
        pool.Attach(consumer, prefetch: 2);
        var slot = pool.PickWorker();
        pool.Take(slot);

        Assert.False(pool.TryRemove(consumer, out _));
        Assert.Null(pool.Abandon(slot));
        Assert.True(pool.TryDetach(consumer, out var held));
        Assert.Equal(slot, held);
        Assert.False(pool.TryDetach(consumer, out _));
        Assert.Equal((0, -1), (pool.ConsumerCount, pool.PickWorker()));

        // Still holding a delivery: a new worker takes a new slot; once handed back, the slot is reused.
        var worker = NewRef();
        Assert.True(pool.TryAdd(worker));
        Assert.Equal(2, pool.SlotCount);
        pool.Release(held);
        Assert.True(pool.Attach(consumer, prefetch: 1));
        Assert.Equal((2, 1), (pool.SlotCount, pool.ConsumerCount));
        Assert.Equal(consumer, pool.HolderOf(held));
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(1024, true)]
    [InlineData(-1, false)]
    [InlineData(1025, false)]
    public void A_queue_may_have_no_workers_at_all(int workers, bool valid)
    {
        var options = new Configuration.QueueOptions { Workers = workers, Autoscale = new Configuration.AutoscaleOptions() };
        var error = Record.Exception(() => options.Validate("q"));
        Assert.Equal(valid, error is null);
    }

    [Theory]
    [InlineData(0, 1, 1000)]
    [InlineData(5000, 1, 1000)]
    [InlineData(1, 4, 1)]
    [InlineData(10, 4, 3)]
    [InlineData(0, 3, 334)]
    public void A_consumers_prefetch_is_bounded_and_split_over_partitions(int prefetch, int partitions, int share) =>
        Assert.Equal(share, Protocol.ConsumerProtocol.PartitionShare(prefetch, partitions));

    [Fact]
    public void A_consumers_delivery_counts_only_its_own_report_while_it_is_attached()
    {
        var pool = new WorkerPool(prefetch: 1);
        var (consumer, other, worker) = (NewRef(), NewRef(), NewRef());
        pool.TryAdd(worker);
        pool.Attach(consumer, prefetch: 1);
        var consumerSlot = Enumerable.Range(0, pool.SlotCount).Single(s => consumer.Equals(pool.HolderOf(s)));
        var workerSlot = 1 - consumerSlot;

        Assert.True(pool.AcceptsReport(consumerSlot, consumer));
        Assert.False(pool.AcceptsReport(consumerSlot, other));
        Assert.True(pool.AcceptsReport(workerSlot, other));
        pool.TryDetach(consumer, out _);
        Assert.False(pool.AcceptsReport(consumerSlot, consumer));
    }
}

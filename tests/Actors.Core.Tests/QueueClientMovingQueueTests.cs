using System.Collections.Immutable;
using Actors.Client;
using Actors.Protocol;
using Akka.Actor;
using Akka.Configuration;
using static Actors.Protocol.QueueCommands;

namespace Actors.Core.Tests;

/// <summary>
/// In a cluster a queue that hands over to another node (a member leaving, a rebalance) refuses enqueues with
/// <see cref="RejectionCode.ShuttingDown"/> while it drains; nothing was stored, so the client sends them again until
/// the queue's new home answers, and the producer never sees the move. A probe plays the queue manager.
/// </summary>
public sealed class QueueClientMovingQueueTests() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString("""
    akka.actor.provider = cluster
    akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
    """))
{
    private static readonly byte[] Payload = [1, 2, 3];

    [Fact]
    public async Task An_enqueue_refused_by_a_moving_queue_is_sent_again_and_answered_by_its_new_home()
    {
        var manager = CreateTestProbe();
        var client = new QueueClient(Sys, manager.Ref, TimeSpan.FromSeconds(30));

        var enqueue = client.EnqueueAsync("jobs", "work", Payload);
        var first = manager.ExpectMsg<Enqueue>();
        manager.Reply(new Rejected("jobs", RejectionCode.ShuttingDown, "moving", first.CorrelationId));

        var again = manager.ExpectMsg<Enqueue>(TimeSpan.FromSeconds(10));
        Assert.Same(first, again);
        manager.Reply(new Accepted("jobs", 42, first.CorrelationId));
        Assert.Equal(42, await enqueue);
    }

    [Fact]
    public async Task A_batch_the_moving_queue_refused_whole_is_sent_again()
    {
        var manager = CreateTestProbe();
        var client = new QueueClient(Sys, manager.Ref, TimeSpan.FromSeconds(30));

        var enqueue = client.EnqueueBatchAsync("jobs", [new NewMessage("work", Payload), new NewMessage("work", Payload)]);
        var first = manager.ExpectMsg<EnqueueBatch>();
        var refused = new EnqueueOutcome(null, RejectionCode.ShuttingDown, "moving");
        manager.Reply(new BatchResult("jobs", [refused, refused], first.CorrelationId));

        var again = manager.ExpectMsg<EnqueueBatch>(TimeSpan.FromSeconds(10));
        Assert.Same(first, again);
        manager.Reply(new BatchResult("jobs", [new EnqueueOutcome(7, null, null), new EnqueueOutcome(8, null, null)], first.CorrelationId));
        Assert.Equal([7L, 8L], (await enqueue).Select(o => o.MessageId!.Value));
    }

    [Fact]
    public async Task Other_refusals_are_answered_at_once()
    {
        var manager = CreateTestProbe();
        var client = new QueueClient(Sys, manager.Ref, TimeSpan.FromSeconds(30));

        var enqueue = client.EnqueueAsync("jobs", "work", Payload);
        var first = manager.ExpectMsg<Enqueue>();
        manager.Reply(new Rejected("jobs", RejectionCode.QueueFull, "full", first.CorrelationId));

        var error = await Assert.ThrowsAsync<QueueException>(() => enqueue);
        Assert.Equal(RejectionCode.QueueFull, error.Code);
        manager.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task A_standalone_node_answers_shutting_down_at_once()
    {
        using var standalone = ActorSystem.Create("standalone");
        var manager = CreateTestProbe(standalone);
        var client = new QueueClient(standalone, manager.Ref, TimeSpan.FromSeconds(30));

        var enqueue = client.EnqueueAsync("jobs", "work", Payload);
        var first = manager.ExpectMsg<Enqueue>();
        manager.Reply(new Rejected("jobs", RejectionCode.ShuttingDown, "stopping", first.CorrelationId));

        var error = await Assert.ThrowsAsync<QueueException>(() => enqueue);
        Assert.Equal(RejectionCode.ShuttingDown, error.Code);
        await standalone.Terminate();
    }
}

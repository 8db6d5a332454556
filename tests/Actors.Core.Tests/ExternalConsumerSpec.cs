using Actors.Client;
using Actors.Protocol;
using Akka.Actor;
using Akka.TestKit;
using Xunit.Abstractions;
using static Actors.Protocol.QueueQueries;
using static Actors.Protocol.WorkerProtocol;

namespace Actors.Core.Tests;

/// <summary>
/// Consumers attached from outside the pool (test probes standing in for AMQP consumers), over real SQLite queues:
/// credit by prefetch, hand-back on detach and on stop, failures, leases, a queue restart, partitions, pause.
/// </summary>
public sealed class ExternalConsumerSpec(ITestOutputHelper output) : QueueSpec(output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>The next delivery <paramref name="consumer"/> gets, with the queue partition that sent it.</summary>
    private static (Deliver Delivery, IActorRef Queue) Next(TestProbe consumer)
    {
        var delivery = consumer.ExpectMsg<Deliver>(Wait);
        return (delivery, consumer.LastSender);
    }

    private static void Complete(TestProbe consumer, (Deliver Delivery, IActorRef Queue) held, string result = "ok") =>
        held.Queue.Tell(new Completed(held.Delivery.QueueId, held.Delivery.MessageId, held.Delivery.Attempt, Bytes(result), TimeSpan.FromMilliseconds(1)), consumer.Ref);

    private static void Fail(TestProbe consumer, (Deliver Delivery, IActorRef Queue) held, RequestedFailureAction requested) =>
        held.Queue.Tell(new Failed(held.Delivery.QueueId, held.Delivery.MessageId, held.Delivery.Attempt,
            new ErrorInfo("AmqpReject", $"rejected attempt {held.Delivery.Attempt}", null, consumer.Ref.Path.ToString(), DateTime.UtcNow),
            requested, null, TimeSpan.FromMilliseconds(1)), consumer.Ref);

    private Task Until(Func<QueueStats, bool> condition, string queue, string what) =>
        TestQueues.Until(async () => condition(await Client.GetStatsAsync(queue)), what);

    private async Task<List<long>> Enqueue(string queue, int count)
    {
        var ids = new List<long>();
        for (var i = 0; i < count; i++) ids.Add(await Client.EnqueueAsync(queue, "job", Bytes($"m{i}")));
        return ids;
    }

    [Fact]
    public async Task QueueActor_must_deliver_to_an_attached_consumer_no_more_than_its_prefetch_on_a_queue_without_workers()
    {
        Start(o => o.AddQueue("ext", q => q.Workers = 0));
        var ids = await Enqueue("ext", 10);
        var before = await Client.GetStatsAsync("ext");
        Assert.Equal((10L, 0, 0), (before.Depth, before.Workers, before.Consumers));

        var consumer = CreateTestProbe();
        var attached = await Client.AttachConsumerAsync("ext", consumer.Ref, prefetch: 3);
        Assert.Equal(new ConsumerProtocol.Attached("ext", 10, 1), attached);

        var held = new Queue<(Deliver Delivery, IActorRef Queue)>(Enumerable.Range(0, 3).Select(_ => Next(consumer)));
        Assert.Equal(ids.Take(3), held.Select(h => h.Delivery.MessageId));
        Assert.All(held, h => Assert.Equal((1, false), (h.Delivery.Attempt, h.Delivery.Redelivered)));
        // The queue dispatches before it answers later requests: three in flight means no fourth was sent.
        var stats = await Client.GetStatsAsync("ext");
        Assert.Equal((7L, 3L, 1), (stats.Depth, stats.InFlight, stats.Consumers));

        Complete(consumer, held.Dequeue());
        var fourth = Next(consumer);
        Assert.Equal(ids[3], fourth.Delivery.MessageId);
        held.Enqueue(fourth);

        var delivered = 4;
        while (held.Count > 0)
        {
            Complete(consumer, held.Dequeue(), "done");
            if (delivered++ < ids.Count) held.Enqueue(Next(consumer));
        }
        await Until(s => s.TotalSucceeded == 10, "ext", "all ten to succeed");
        var last = await Client.GetMessageAsync("ext", ids[^1]);
        Assert.Equal(MessageStatus.Succeeded, last!.Status);
        Assert.Equal("done", System.Text.Encoding.UTF8.GetString(last.Result!.Value.Span));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task QueueActor_must_hand_back_what_a_consumer_held_when_it_detaches_or_stops_as_not_started(bool stop)
    {
        // A hand-back counted as a failure would wait ten minutes for its retry.
        Start(o => o.AddQueue("ext", q => { q.Workers = 0; q.Retry.BaseDelay = TimeSpan.FromMinutes(10); q.Retry.MaxDelay = TimeSpan.FromMinutes(10); }));
        var ids = await Enqueue("ext", 3);
        var first = CreateTestProbe();
        await Client.AttachConsumerAsync("ext", first.Ref, prefetch: 3);
        var held = Enumerable.Range(0, 3).Select(_ => Next(first)).ToList();
        var second = CreateTestProbe();
        Assert.Equal(new ConsumerProtocol.Attached("ext", 0, 2), await Client.AttachConsumerAsync("ext", second.Ref, prefetch: 5));

        if (stop) Sys.Stop(first.Ref);
        else await Client.DetachConsumerAsync("ext", first.Ref);

        var again = Enumerable.Range(0, 3).Select(_ => Next(second)).ToList();
        Assert.Equal(ids, again.Select(h => h.Delivery.MessageId).Order());
        Assert.All(again, h => Assert.Equal((1, true), (h.Delivery.Attempt, h.Delivery.Redelivered)));
        var stats = await Client.GetStatsAsync("ext");
        Assert.Equal((0L, 3L, 0L, 0L, 0L, 1), (stats.Depth, stats.InFlight, stats.Scheduled, stats.TotalFailedAttempts, stats.DeadLettered, stats.Consumers));

        if (!stop)
        {
            // A report from the consumer that detached names the same attempt, but it no longer holds the delivery.
            Complete(first, held[0], "stale");
            held[0].Queue.Tell(new GetMessage("ext", held[0].Delivery.MessageId), first.Ref);
            Assert.Equal(MessageStatus.InFlight, first.ExpectMsg<MessageInfo>(Wait).Status);
        }
        foreach (var h in again) Complete(second, h, "fresh");
        await Until(s => s.TotalSucceeded == 3, "ext", "the three to succeed on the second consumer");
        foreach (var id in ids)
        {
            var info = await Client.GetMessageAsync("ext", id);
            Assert.Equal((MessageStatus.Succeeded, 1, 0), (info!.Status, info.Attempts, info.Errors.Count));
            Assert.Equal("fresh", System.Text.Encoding.UTF8.GetString(info.Result!.Value.Span));
        }
        Assert.Equal(0, (await Client.GetStatsAsync("ext")).TotalDeadLettered);
    }

    [Fact]
    public async Task QueueActor_must_dead_letter_at_once_on_a_consumers_request_and_retry_a_plain_failure_by_policy()
    {
        Start(o => o.AddQueue("ext", q => { q.Workers = 0; q.Retry.MaxAttempts = 5; q.Retry.BaseDelay = TimeSpan.Zero; }));
        var ids = await Enqueue("ext", 2);
        var consumer = CreateTestProbe();
        await Client.AttachConsumerAsync("ext", consumer.Ref, prefetch: 2);
        var (rejected, requeued) = (Next(consumer), Next(consumer));

        Fail(consumer, rejected, RequestedFailureAction.DeadLetter);
        Fail(consumer, requeued, RequestedFailureAction.FollowPolicy);
        var retry = Next(consumer);
        Assert.Equal((ids[1], 2, true), (retry.Delivery.MessageId, retry.Delivery.Attempt, retry.Delivery.Redelivered));
        Complete(consumer, retry);

        await Until(s => s.TotalSucceeded == 1 && s.TotalDeadLettered == 1, "ext", "one dead letter and one success");
        var dead = await Client.GetMessageAsync("ext", ids[0]);
        Assert.Equal((MessageStatus.DeadLettered, 1), (dead!.Status, dead.Attempts));
        Assert.Equal(("AmqpReject", "rejected attempt 1"), (dead.Errors.Single().Type, dead.Errors.Single().Message));
        var retried = await Client.GetMessageAsync("ext", ids[1]);
        Assert.Equal((MessageStatus.Succeeded, 2), (retried!.Status, retried.Attempts));
        Assert.Equal(2, (await Client.GetStatsAsync("ext")).TotalFailedAttempts);
    }

    [Fact]
    public async Task QueueActor_must_expire_a_consumers_lease_as_a_failed_attempt_and_keep_the_consumer_attached()
    {
        Start(o => o.AddQueue("ext", q => { q.Workers = 0; q.Lease = TimeSpan.FromSeconds(1); q.Retry.BaseDelay = TimeSpan.Zero; }));
        var id = (await Enqueue("ext", 1))[0];
        var consumer = CreateTestProbe();
        await Client.AttachConsumerAsync("ext", consumer.Ref, prefetch: 1);
        var first = Next(consumer);

        var expired = consumer.ExpectMsg<LeaseExpired>(Wait);
        Assert.Equal((id, 1), (expired.MessageId, expired.Attempt));
        var second = Next(consumer);
        Assert.Equal((id, 2, true), (second.Delivery.MessageId, second.Delivery.Attempt, second.Delivery.Redelivered));
        Complete(consumer, first, "late");
        Complete(consumer, second, "in time");

        await Until(s => s.TotalSucceeded == 1, "ext", "the second attempt to succeed");
        var info = await Client.GetMessageAsync("ext", id);
        Assert.Equal(("in time", 2), (System.Text.Encoding.UTF8.GetString(info!.Result!.Value.Span), info.Attempts));
        var stats = await Client.GetStatsAsync("ext");
        Assert.Equal((1L, 1), (stats.TotalFailedAttempts, stats.Consumers));
    }

    [Fact]
    public async Task QueueActor_must_lose_nothing_when_it_restarts_with_a_consumer_attached()
    {
        Start(o => o.AddQueue("ext", q => q.Workers = 0));
        var ids = await Enqueue("ext", 5);
        var consumer = CreateTestProbe();
        await Client.AttachConsumerAsync("ext", consumer.Ref, prefetch: 2);
        var held = new[] { Next(consumer), Next(consumer) };
        var queue = held[0].Queue;

        // The queue stops with two deliveries unanswered; its host starts it again, it recovers from the journal, and
        // the host attaches the consumer to the new incarnation.
        Watch(queue);
        queue.Tell(PoisonPill.Instance);
        ExpectTerminated(queue, Wait);

        var succeeded = new HashSet<long>();
        while (succeeded.Count < ids.Count)
        {
            var next = Next(consumer);
            Assert.NotEqual(queue, next.Queue);
            Complete(consumer, next);
            succeeded.Add(next.Delivery.MessageId);
        }
        Assert.Equal(ids, succeeded.Order());
        await Until(s => s.TotalSucceeded == 5 && s.Depth == 0 && s.InFlight == 0, "ext", "all five to succeed after the restart");
        Assert.Equal(1, (await Client.GetStatsAsync("ext")).Consumers);
    }

    [Fact]
    public async Task Attaching_to_an_unknown_queue_fails_with_UnknownQueue()
    {
        Start(o => o.AddQueue("ext", q => q.Workers = 0));
        var consumer = CreateTestProbe();
        var attach = await Assert.ThrowsAsync<QueueException>(() => Client.AttachConsumerAsync("nope", consumer.Ref, 1));
        Assert.Equal(RejectionCode.UnknownQueue, attach.Code);
        var detach = await Assert.ThrowsAsync<QueueException>(() => Client.DetachConsumerAsync("nope", consumer.Ref));
        Assert.Equal(RejectionCode.UnknownQueue, detach.Code);
        Assert.Equal(new QueueNotFound("nope"), await Manager.Ask<object>(new ConsumerProtocol.Attach("nope", consumer.Ref, 1), Wait));
    }

    [Fact]
    public async Task A_consumer_shares_dispatch_with_the_pools_workers_and_a_pause_stops_its_deliveries()
    {
        var worker = new HeldHandler();
        Start(o =>
        {
            o.AddQueue("mixed", q => { q.Workers = 1; q.Prefetch = 1; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", worker.HandleAsync);
        });
        try
        {
            var consumer = CreateTestProbe();
            await Client.AttachConsumerAsync("mixed", consumer.Ref, prefetch: 1);
            await Enqueue("mixed", 2);
            var mine = Next(consumer);
            await TestQueues.Until(() => Task.FromResult(worker.Running == 1), "the worker to run the other message");

            await Client.PauseAsync("mixed", "deploy", "ops");
            await Enqueue("mixed", 2);
            Complete(consumer, mine);
            await Until(s => s.TotalSucceeded == 1, "mixed", "the consumer's message to succeed");
            var paused = await Client.GetStatsAsync("mixed");
            Assert.Equal((2L, 1L, 1, 1), (paused.Depth, paused.InFlight, paused.Workers, paused.Consumers));

            await Client.ResumeAsync("mixed", "ops");
            // The worker is still busy, so the consumer gets one; the last goes to whichever is free first.
            var consumed = 2;
            Complete(consumer, Next(consumer));
            worker.ReleaseAll(10);
            await TestQueues.Until(async () =>
            {
                while (consumer.HasMessages)
                {
                    Complete(consumer, Next(consumer));
                    consumed++;
                }
                return (await Client.GetStatsAsync("mixed")).TotalSucceeded == 4;
            }, "all four to succeed");
            Assert.Equal(4, worker.Runs.Count + consumed);
        }
        finally
        {
            worker.ReleaseAll(100);
        }
    }

    [Fact]
    public async Task A_consumer_attaches_to_every_partition_with_its_share_of_the_prefetch()
    {
        Start(o => o.AddQueue("parts", q => { q.Workers = 0; q.Partitions = 2; }));
        var ids = await Enqueue("parts", 10);
        var consumer = CreateTestProbe();
        Assert.Equal(new ConsumerProtocol.Attached("parts", 10, 1), await Client.AttachConsumerAsync("parts", consumer.Ref, prefetch: 4));

        var held = new Queue<(Deliver Delivery, IActorRef Queue)>(Enumerable.Range(0, 4).Select(_ => Next(consumer)));
        Assert.Equal(2, held.Select(h => h.Queue).Distinct().Count());
        var stats = await Client.GetStatsAsync("parts");
        Assert.Equal((6L, 4L, 1), (stats.Depth, stats.InFlight, stats.Consumers));

        // Each partition delivers its next message when one of its own is answered, while it has any left.
        var succeeded = new HashSet<long>();
        while (succeeded.Count < ids.Count)
        {
            if (held.Count == 0) held.Enqueue(Next(consumer));
            var h = held.Dequeue();
            Complete(consumer, h);
            succeeded.Add(h.Delivery.MessageId);
            while (consumer.HasMessages) held.Enqueue(Next(consumer));
        }
        Assert.Equal(ids.Order(), succeeded.Order());
        await Until(s => s.TotalSucceeded == 10, "parts", "all ten to succeed");

        await Client.DetachConsumerAsync("parts", consumer.Ref);
        Assert.Equal(0, (await Client.GetStatsAsync("parts")).Consumers);
    }
}

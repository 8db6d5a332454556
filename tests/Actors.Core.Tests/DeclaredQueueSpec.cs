using Actors.Client;
using Actors.Configuration;
using Actors.Protocol;
using Akka.Actor;
using Akka.TestKit;
using Xunit.Abstractions;
using static Actors.Protocol.WorkerProtocol;

namespace Actors.Core.Tests;

/// <summary>Queues declared at run time on a standalone node over a real SQLite file: routing, consumers, a pool, idempotence.</summary>
public sealed class DeclaredQueueSpec(ITestOutputHelper output) : QueueSpec(output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Manager_must_route_a_declared_queue_without_workers_to_an_attached_consumer()
    {
        Start(o => o.AddQueue("configured", q => q.Workers = 0));

        var declared = await Client.DeclareQueueAsync("amqp-jobs");
        Assert.True(declared.Created);
        Assert.Equal(("amqp-jobs", 0, 1), (declared.Queue, declared.Options.Workers, declared.Options.Partitions));

        var id = await Client.EnqueueAsync("amqp-jobs", "job", Bytes("m1"));
        var consumer = CreateTestProbe();
        var attached = await Client.AttachConsumerAsync("amqp-jobs", consumer.Ref, prefetch: 5);
        Assert.Equal(new ConsumerProtocol.Attached("amqp-jobs", 1, 1), attached);
        var delivery = consumer.ExpectMsg<Deliver>(Wait);
        Assert.Equal(id, delivery.MessageId);
        consumer.LastSender.Tell(new Completed(delivery.QueueId, delivery.MessageId, delivery.Attempt, Bytes("ok"), TimeSpan.FromMilliseconds(1)), consumer.Ref);
        await TestQueues.Until(async () => (await Client.GetStatsAsync("amqp-jobs")).TotalSucceeded == 1, "the delivery to succeed");

        // Listed like a configured queue.
        Assert.Equal(["amqp-jobs", "configured"], (await Client.ListQueuesAsync()).Select(s => s.QueueId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Manager_must_answer_a_second_declaration_with_the_first_options_and_a_configured_name_as_existing()
    {
        Start(o => o.AddQueue("configured", q => q.MaxLength = 77));

        var first = await Client.DeclareQueueAsync("once", new QueueOptions { Workers = 0, MaxLength = 10 });
        var again = await Client.DeclareQueueAsync("once", new QueueOptions { Workers = 0, MaxLength = 20 });
        var defaults = await Client.DeclareQueueAsync("once");
        var configured = await Client.DeclareQueueAsync("configured");

        Assert.Equal((true, 10), (first.Created, first.Options.MaxLength));
        Assert.Equal((false, 10), (again.Created, again.Options.MaxLength));
        Assert.Equal((false, 10), (defaults.Created, defaults.Options.MaxLength));
        Assert.Equal((false, 77), (configured.Created, configured.Options.MaxLength));
        Assert.Equal(["configured", "once"], (await Client.ListQueuesAsync()).Select(s => s.QueueId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Manager_must_run_a_declared_queue_with_workers_in_its_own_pool()
    {
        var handled = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        Start(o => o.Handlers.Add<ReadOnlyMemory<byte>>("job", (_, ctx, _) =>
        {
            handled.TrySetResult(ctx.MessageId);
            return ValueTask.FromResult<object?>(null);
        }));

        var declared = await Client.DeclareQueueAsync("pooled", new QueueOptions { Workers = 1 });
        Assert.True(declared.Created);
        var id = await Client.EnqueueAsync("pooled", "job", Bytes("x"));

        Assert.Equal(id, await handled.Task.WaitAsync(Wait));
        await TestQueues.Until(async () => (await Client.GetStatsAsync("pooled")).TotalSucceeded == 1, "the message to succeed");
    }

    [Fact]
    public async Task Manager_must_keep_unknown_and_invalid_names_refused()
    {
        Start(o => o.AddQueue("configured"));
        await Client.DeclareQueueAsync("declared");

        var unknown = await Assert.ThrowsAsync<QueueException>(() => Client.EnqueueAsync("nowhere", "job", Bytes("x")));
        Assert.Equal(RejectionCode.UnknownQueue, unknown.Code);
        var stats = await Assert.ThrowsAsync<QueueException>(() => Client.GetStatsAsync("nowhere"));
        Assert.Equal(RejectionCode.UnknownQueue, stats.Code);
        var invalid = await Assert.ThrowsAsync<QueueException>(() => Client.DeclareQueueAsync("no spaces"));
        Assert.Equal(RejectionCode.InvalidQueueName, invalid.Code);
        Assert.Throws<ArgumentException>(() => Client.DeclareQueueAsync("bad-options", new QueueOptions { Workers = -1 }).GetAwaiter().GetResult());
    }

    [Fact]
    public async Task A_schedule_may_target_a_declared_queue()
    {
        Start(o => o.AddQueue("configured"));
        var refused = await Assert.ThrowsAsync<ScheduleException>(() => Schedules.PutAsync("hourly", new Schedules.ScheduleOptions { Every = "PT1H", Queue = "rt-target", Type = "job" }));
        Assert.Contains("rt-target", refused.Message, StringComparison.Ordinal);

        await Client.DeclareQueueAsync("rt-target");
        var created = await Schedules.PutAsync("hourly", new Schedules.ScheduleOptions { Every = "PT1H", Queue = "rt-target", Type = "job" });
        Assert.True(created.Created);
    }
}

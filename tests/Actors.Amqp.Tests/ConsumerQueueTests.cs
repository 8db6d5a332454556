using System.Collections.Concurrent;
using Actors.Amqp.Codec;
using Actors.Core.Tests;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using static Actors.Amqp.Codec.AmqpMethod;

namespace Actors.Amqp.Tests;

/// <summary>
/// RabbitMQ.Client consumes from real queues with no pool of their own (<c>Workers: 0</c>): manual acks within the
/// prefetch, nack → redelivered, reject → dead letter, a dropped connection's unacknowledged messages → redelivered.
/// </summary>
public sealed class ConsumerQueueTests : IAsyncLifetime
{
    private readonly AmqpNode _node = new(new Dictionary<string, string?>
    {
        ["Actors:Queues:work:Workers"] = "0",
        ["Actors:Queues:work:Retry:BaseDelay"] = "00:00:00.050",
        ["Actors:Queues:work:Retry:MaxDelay"] = "00:00:00.100",
        ["Actors:Queues:work:Retry:MaxAttempts"] = "5",
        ["Actors:Queues:acked:Workers"] = "0",
        ["Actors:Queues:dead:Workers"] = "0",
        ["Actors:Queues:dropped:Workers"] = "0",
        ["Actors:Queues:silent:Workers"] = "0",
    });

    public Task InitializeAsync() => _node.InitializeAsync();

    public Task DisposeAsync() => ((IAsyncLifetime)_node).DisposeAsync();

    private async Task PublishAsync(string queue, int count)
    {
        await using var connection = await _node.Factory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        for (var i = 0; i < count; i++)
            await channel.BasicPublishAsync("", queue, mandatory: true, new RabbitMQ.Client.BasicProperties { MessageId = $"{queue}-{i}" }, BitConverter.GetBytes(i));
    }

    private static AsyncEventingBasicConsumer Collect(IChannel channel, ConcurrentQueue<BasicDeliverEventArgs> into)
    {
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, d) =>
        {
            into.Enqueue(new BasicDeliverEventArgs(d.ConsumerTag, d.DeliveryTag, d.Redelivered, d.Exchange, d.RoutingKey, d.BasicProperties, d.Body.ToArray()));
            return Task.CompletedTask;
        };
        return consumer;
    }

    [Fact]
    public async Task Manual_acks_within_the_prefetch_complete_every_message()
    {
        await PublishAsync("acked", 10);
        await using var connection = await _node.Factory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.BasicQosAsync(0, 3, false);
        var received = new ConcurrentQueue<BasicDeliverEventArgs>();
        await channel.BasicConsumeAsync("acked", autoAck: false, Collect(channel, received));

        await Poll.Until(() => received.Count == 3, "the prefetch's three deliveries", TimeSpan.FromSeconds(30));
        Assert.Equal(3, (await _node.Queues.GetStatsAsync("acked")).InFlight);
        ulong acked = 0;
        while (acked < 10)
        {
            await Poll.Until(() => received.Count > (int)acked, "the next delivery", TimeSpan.FromSeconds(30));
            await channel.BasicAckAsync(++acked, multiple: false);
        }
        await Poll.Until(async () => (await _node.Queues.GetStatsAsync("acked")).TotalSucceeded == 10, "ten succeeded", TimeSpan.FromSeconds(30));
        Assert.Equal(10, received.Select(d => d.BasicProperties.MessageId).Distinct().Count());
    }

    [Fact]
    public async Task A_nack_with_requeue_is_redelivered_and_a_reject_without_is_dead_lettered()
    {
        await PublishAsync("work", 1);
        await PublishAsync("dead", 1);
        await using var connection = await _node.Factory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var work = new ConcurrentQueue<BasicDeliverEventArgs>();
        await channel.BasicConsumeAsync("work", autoAck: false, Collect(channel, work));
        await Poll.Until(() => work.Count == 1, "the first delivery", TimeSpan.FromSeconds(30));
        var first = work.First();
        Assert.False(first.Redelivered);
        await channel.BasicNackAsync(first.DeliveryTag, multiple: false, requeue: true);
        await Poll.Until(() => work.Count == 2, "the redelivery", TimeSpan.FromSeconds(30));
        var second = work.Last();
        Assert.True(second.Redelivered);
        Assert.Equal("work-0", second.BasicProperties.MessageId);
        await channel.BasicAckAsync(second.DeliveryTag, multiple: false);
        var done = await _node.StoredAsync("work", "work-0");
        await Poll.Until(async () => (await _node.Queues.GetMessageAsync("work", done.MessageId))!.Status == Actors.Protocol.MessageStatus.Succeeded,
            "work-0 succeeded", TimeSpan.FromSeconds(30));

        var dead = new ConcurrentQueue<BasicDeliverEventArgs>();
        await channel.BasicConsumeAsync("dead", autoAck: false, Collect(channel, dead));
        await Poll.Until(() => dead.Count == 1, "the delivery to reject", TimeSpan.FromSeconds(30));
        await channel.BasicRejectAsync(dead.First().DeliveryTag, requeue: false);
        await Poll.Until(async () => (await _node.Queues.GetStatsAsync("dead")).DeadLettered == 1, "a dead letter", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_dropped_connection_hands_its_unacknowledged_messages_to_the_next_consumer()
    {
        await PublishAsync("dropped", 2);
        await using (var raw = await RawAmqp.OpenAsync(_node.Port))
        {
            await raw.SendAsync(1, new Basic.Qos(0, 2, false));
            Assert.IsType<Basic.QosOk>(await raw.ReadMethodAsync());
            await raw.SendAsync(1, new Basic.Consume(0, "dropped", "", false, false, false, false, null));
            Assert.IsType<Basic.ConsumeOk>(await raw.ReadMethodAsync());
            Assert.IsType<Basic.Deliver>(await raw.ReadMethodAsync());
            // The socket goes away with both deliveries unacknowledged: no close handshake.
        }

        await using var connection = await _node.Factory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var received = new ConcurrentQueue<BasicDeliverEventArgs>();
        await channel.BasicConsumeAsync("dropped", autoAck: true, Collect(channel, received));
        await Poll.Until(() => received.Count == 2, "both messages again", TimeSpan.FromSeconds(30));
        Assert.Contains(received, d => d.Redelivered);
        await Poll.Until(async () => (await _node.Queues.GetStatsAsync("dropped")).TotalSucceeded == 2, "both succeeded", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_consumer_that_misses_heartbeats_is_dropped_and_its_delivery_goes_to_the_next()
    {
        await PublishAsync("silent", 1);
        await using var raw = await RawAmqp.OpenAsync(_node.Port, heartbeat: 1);
        await raw.SendAsync(1, new Basic.Consume(0, "silent", "", false, false, false, false, null));
        Assert.IsType<Basic.ConsumeOk>(await raw.ReadMethodAsync());
        Assert.IsType<Basic.Deliver>(await raw.ReadMethodAsync());
        // The client keeps its socket open and says nothing, heartbeats included: two intervals later the server drops it.
        while (await raw.ReadFrameAsync() is not null) { }

        await using var connection = await _node.Factory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var received = new ConcurrentQueue<BasicDeliverEventArgs>();
        await channel.BasicConsumeAsync("silent", autoAck: true, Collect(channel, received));
        await Poll.Until(() => received.Count == 1, "the message again", TimeSpan.FromSeconds(30));
        Assert.True(received.First().Redelivered);
    }
}

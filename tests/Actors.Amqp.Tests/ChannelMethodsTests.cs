using System.Collections.Concurrent;
using System.Text;
using Actors.Core.Tests;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using Actors.Amqp.Codec;
using static Actors.Amqp.Codec.AmqpMethod;

namespace Actors.Amqp.Tests;

/// <summary>
/// The channel methods around consuming, against real queues with no pool of their own: <c>basic.get</c> (a delivery
/// held until settled), <c>basic.recover</c>, <c>channel.flow</c>, acks after <c>basic.cancel</c>, and
/// <c>connection.blocked</c> while a queue is full.
/// </summary>
public sealed class ChannelMethodsTests(ChannelMethodsTests.Node fixture) : IClassFixture<ChannelMethodsTests.Node>
{
    /// <summary>One node for the class: each test uses queues of its own.</summary>
    public sealed class Node : IAsyncLifetime
    {
        public AmqpNode Amqp { get; } = new(new Dictionary<string, string?>
        {
            ["Actors:Queues:got:Workers"] = "0",
            ["Actors:Queues:recovered:Workers"] = "0",
            ["Actors:Queues:flowing:Workers"] = "0",
            ["Actors:Queues:cancelled:Workers"] = "0",
            ["Actors:Queues:small:Workers"] = "0",
            ["Actors:Queues:small:MaxLength"] = "3",
        });

        public Task InitializeAsync() => Amqp.InitializeAsync();

        public Task DisposeAsync() => ((IAsyncLifetime)Amqp).DisposeAsync();
    }

    private readonly AmqpNode _node = fixture.Amqp;

    private async Task PublishAsync(string queue, params string[] bodies)
    {
        await using var connection = await _node.Factory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        foreach (var body in bodies)
            await channel.BasicPublishAsync("", queue, mandatory: true, new RabbitMQ.Client.BasicProperties { MessageId = body }, Encoding.UTF8.GetBytes(body));
    }

    private Task<Actors.Protocol.QueueQueries.QueueStats> StatsAsync(string queue) => _node.Queues.GetStatsAsync(queue);

    [Fact]
    public async Task Basic_get_takes_one_message_that_waits_for_its_ack_and_an_empty_queue_answers_get_empty()
    {
        await using var connection = await _node.Factory().CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync();
        Assert.Null(await channel.BasicGetAsync("got", autoAck: false));

        await PublishAsync("got", "a", "b", "c");
        var first = await channel.BasicGetAsync("got", autoAck: false);
        Assert.NotNull(first);
        Assert.Equal("a", Encoding.UTF8.GetString(first.Body.Span));
        Assert.Equal(2U, first.MessageCount);
        Assert.False(first.Redelivered);
        Assert.Equal("got", first.RoutingKey);
        // Held until acknowledged: in flight at the queue, and the next get takes the next message.
        Assert.Equal(1, (await StatsAsync("got")).InFlight);
        var second = await channel.BasicGetAsync("got", autoAck: true);
        Assert.NotNull(second);
        Assert.Equal("b", Encoding.UTF8.GetString(second.Body.Span));
        await channel.BasicAckAsync(first.DeliveryTag, multiple: false);
        await Poll.Until(async () => (await StatsAsync("got")) is { TotalSucceeded: 2, InFlight: 0, Consumers: 0 }, "a and b succeeded, nothing held", TimeSpan.FromSeconds(30));

        // An unacknowledged get goes back to the queue when its channel closes, and comes again as redelivered.
        var third = await channel.BasicGetAsync("got", autoAck: false);
        Assert.NotNull(third);
        Assert.Equal("c", Encoding.UTF8.GetString(third.Body.Span));
        await channel.CloseAsync();
        var again = await connection.CreateChannelAsync();
        await Poll.Until(async () => (await StatsAsync("got")).Depth == 1, "c back in the queue", TimeSpan.FromSeconds(30));
        var redelivered = await again.BasicGetAsync("got", autoAck: false);
        Assert.NotNull(redelivered);
        Assert.Equal("c", Encoding.UTF8.GetString(redelivered.Body.Span));
        Assert.True(redelivered.Redelivered);
        Assert.Equal(0U, redelivered.MessageCount);
        await again.BasicRejectAsync(redelivered.DeliveryTag, requeue: false);
        await Poll.Until(async () => (await StatsAsync("got")) is { DeadLettered: 1, Consumers: 0 }, "c dead-lettered by the reject", TimeSpan.FromSeconds(30));
        Assert.Null(await again.BasicGetAsync("got", autoAck: false));

        var missing = await Assert.ThrowsAsync<OperationInterruptedException>(() => again.BasicGetAsync("nowhere", autoAck: false));
        Assert.Equal(404, missing.ShutdownReason!.ReplyCode);
    }

    [Fact]
    public async Task Basic_recover_redelivers_every_unacknowledged_message_of_the_channel()
    {
        await PublishAsync("recovered", "r-1", "r-2");
        await using var raw = await RawAmqp.OpenAsync(_node.Port);
        await raw.SendAsync(1, new Basic.Qos(0, 10, false));
        Assert.IsType<Basic.QosOk>(await raw.ReadMethodAsync());
        await raw.SendAsync(1, new Basic.Consume(0, "recovered", "c1", false, false, false, false, null));
        Assert.IsType<Basic.ConsumeOk>(await raw.ReadMethodAsync());
        var before = new[] { await raw.ReadMethodWithBodyAsync(), await raw.ReadMethodWithBodyAsync() };
        Assert.All(before, d => Assert.False(Assert.IsType<Basic.Deliver>(d.Method).Redelivered));

        await raw.SendAsync(1, new Basic.Recover(true));
        var after = new List<(Basic.Deliver Deliver, string Body)>();
        var recoverOk = false;
        while (after.Count < 2 || !recoverOk)
        {
            var (method, body) = await raw.ReadMethodWithBodyAsync();
            if (method is Basic.RecoverOk) recoverOk = true;
            else after.Add((Assert.IsType<Basic.Deliver>(method), Encoding.UTF8.GetString(body)));
        }
        Assert.Equal(["r-1", "r-2"], after.Select(d => d.Body).Order());
        Assert.All(after, d => Assert.True(d.Deliver.Redelivered));
        Assert.All(after, d => Assert.Equal("c1", d.Deliver.ConsumerTag));
        Assert.All(after, d => Assert.True(d.Deliver.DeliveryTag > 2));
        await raw.SendAsync(1, new Basic.Ack(after.Max(d => d.Deliver.DeliveryTag), true));
        await Poll.Until(async () => (await StatsAsync("recovered")) is { TotalSucceeded: 2, InFlight: 0 }, "both succeeded once", TimeSpan.FromSeconds(30));
        Assert.Equal(0, (await StatsAsync("recovered")).TotalFailedAttempts);

        // requeue=false is not supported, as in RabbitMQ: the channel closes with 540.
        await raw.SendAsync(1, new Basic.RecoverAsync(false));
        Assert.Equal(ReplyCodes.NotImplemented, Assert.IsType<AmqpMethod.Channel.Close>(await raw.ReadMethodAsync()).ReplyCode);
    }

    [Fact]
    public async Task Channel_flow_holds_deliveries_until_the_client_resumes()
    {
        await using var raw = await RawAmqp.OpenAsync(_node.Port);
        await raw.SendAsync(1, new Basic.Qos(0, 10, false));
        Assert.IsType<Basic.QosOk>(await raw.ReadMethodAsync());
        await raw.SendAsync(1, new AmqpMethod.Channel.Flow(false));
        Assert.False(Assert.IsType<AmqpMethod.Channel.FlowOk>(await raw.ReadMethodAsync()).Active);
        await raw.SendAsync(1, new Basic.Consume(0, "flowing", "c1", false, false, false, false, null));
        Assert.IsType<Basic.ConsumeOk>(await raw.ReadMethodAsync());

        await PublishAsync("flowing", "f-1", "f-2");
        // The queue has handed both to the consumer, which holds them while the channel is paused.
        await Poll.Until(async () => (await StatsAsync("flowing")).InFlight == 2, "both given to the consumer", TimeSpan.FromSeconds(30));
        await raw.SendAsync(1, new AmqpMethod.Channel.Flow(true));
        // Frames keep their order on the socket: a delivery sent while paused would come before flow-ok.
        Assert.True(Assert.IsType<AmqpMethod.Channel.FlowOk>(await raw.ReadMethodAsync()).Active);
        var first = await raw.ReadMethodWithBodyAsync();
        var second = await raw.ReadMethodWithBodyAsync();
        Assert.Equal(["f-1", "f-2"], new[] { first.Body, second.Body }.Select(b => Encoding.UTF8.GetString(b)).Order());
        Assert.Equal([1UL, 2UL], new[] { first.Method, second.Method }.Select(m => Assert.IsType<Basic.Deliver>(m).DeliveryTag));
        await raw.SendAsync(1, new Basic.Ack(2, true));
        await Poll.Until(async () => (await StatsAsync("flowing")).TotalSucceeded == 2, "both succeeded", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Acks_after_a_cancel_still_complete_the_messages_and_the_cancelled_consumer_takes_no_more()
    {
        await PublishAsync("cancelled", "k-1", "k-2");
        await using var connection = await _node.Factory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.BasicQosAsync(0, 10, false);
        var received = new ConcurrentQueue<BasicDeliverEventArgs>();
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, d) =>
        {
            received.Enqueue(new BasicDeliverEventArgs(d.ConsumerTag, d.DeliveryTag, d.Redelivered, d.Exchange, d.RoutingKey, d.BasicProperties, d.Body.ToArray()));
            return Task.CompletedTask;
        };
        var tag = await channel.BasicConsumeAsync("cancelled", autoAck: false, consumer);
        await Poll.Until(() => received.Count == 2, "both deliveries", TimeSpan.FromSeconds(30));
        await channel.BasicCancelAsync(tag);

        await PublishAsync("cancelled", "k-3");
        await channel.BasicAckAsync(received.First().DeliveryTag, multiple: false);
        await channel.BasicAckAsync(received.Last().DeliveryTag, multiple: false);
        await Poll.Until(async () => (await StatsAsync("cancelled")) is { TotalSucceeded: 2, Consumers: 0, InFlight: 0 }, "both acked, the consumer gone", TimeSpan.FromSeconds(30));
        Assert.True(channel.IsOpen);
        Assert.Equal(2, received.Count);
        var left = await channel.BasicGetAsync("cancelled", autoAck: true);
        Assert.NotNull(left);
        Assert.Equal("k-3", Encoding.UTF8.GetString(left.Body.Span));
    }

    [Fact]
    public async Task A_full_queue_blocks_the_connection_until_it_accepts_again()
    {
        await using var connection = await _node.Factory().CreateConnectionAsync();
        var blocked = new ConcurrentQueue<string>();
        var unblocked = 0;
        connection.ConnectionBlockedAsync += (_, e) =>
        {
            blocked.Enqueue(e.Reason);
            return Task.CompletedTask;
        };
        connection.ConnectionUnblockedAsync += (_, _) =>
        {
            Interlocked.Increment(ref unblocked);
            return Task.CompletedTask;
        };
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        for (var i = 0; i < 3; i++)
            await channel.BasicPublishAsync("", "small", mandatory: true, new RabbitMQ.Client.BasicProperties(), Encoding.UTF8.GetBytes($"s-{i}"));
        await Assert.ThrowsAsync<PublishException>(async () =>
            await channel.BasicPublishAsync("", "small", mandatory: true, new RabbitMQ.Client.BasicProperties(), "s-3"u8.ToArray()));
        await Poll.Until(() => !blocked.IsEmpty, "connection.blocked", TimeSpan.FromSeconds(30));
        Assert.Contains("'small'", Assert.Single(blocked), StringComparison.Ordinal);
        Assert.Equal(0, Volatile.Read(ref unblocked));

        // One message taken: the queue accepts again, and the probe unblocks the connection.
        await using var reader = await connection.CreateChannelAsync();
        Assert.NotNull(await reader.BasicGetAsync("small", autoAck: true));
        await Poll.Until(() => Volatile.Read(ref unblocked) == 1, "connection.unblocked", TimeSpan.FromSeconds(30));
        await channel.BasicPublishAsync("", "small", mandatory: true, new RabbitMQ.Client.BasicProperties(), "s-4"u8.ToArray());
        Assert.Single(blocked);
    }
}

using Actors.Http.Security;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Actors.Amqp.Tests;

/// <summary>
/// <c>queue.purge</c> and <c>queue.delete</c> with RabbitMQ.Client: both need <c>manage</c>; purge leaves unacknowledged
/// deliveries alone; delete refuses configured queues and its conditions with 406, and cancels the queue's consumers.
/// </summary>
public sealed class PurgeDeleteTests : IAsyncLifetime
{
    private const string Manager = "test-key-for-amqp-managers-0123456789abcdef";
    private const string Producer = "test-key-for-amqp-producers-0123456789abcdef";
    private readonly AmqpNode _node = new(new Dictionary<string, string?>
    {
        ["Actors:Amqp:AllowDeclare"] = "true",
        ["Actors:Auth:Keys:manager:Hash"] = ApiKeys.Hash(Manager),
        ["Actors:Auth:Keys:manager:Permissions:0"] = "manage:*",
        ["Actors:Auth:Keys:manager:Permissions:1"] = "produce:*",
        ["Actors:Auth:Keys:manager:Permissions:2"] = "read:*",
        ["Actors:Auth:Keys:producer:Hash"] = ApiKeys.Hash(Producer),
        ["Actors:Auth:Keys:producer:Permissions:0"] = "produce:*",
        ["Actors:Auth:Keys:producer:Permissions:1"] = "read:*",
    });

    public Task InitializeAsync() => _node.InitializeAsync();

    public Task DisposeAsync() => ((IAsyncLifetime)_node).DisposeAsync();

    [Fact]
    public async Task Purge_drops_what_waits_keeps_the_unacknowledged_delivery_and_needs_manage()
    {
        await using var connection = await _node.Factory("manager", Manager).CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        await channel.QueueDeclareAsync("to-purge", durable: true, exclusive: false, autoDelete: false);
        for (var i = 0; i < 4; i++) await channel.BasicPublishAsync("", "to-purge", mandatory: true, new BasicProperties(), new[] { (byte)i });

        await using var consuming = await connection.CreateChannelAsync();
        await consuming.BasicQosAsync(0, 1, false);
        var delivered = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumer = new AsyncEventingBasicConsumer(consuming);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            delivered.TrySetResult(delivery.DeliveryTag);
            return Task.CompletedTask;
        };
        await consuming.BasicConsumeAsync("to-purge", autoAck: false, consumer);
        var tag = await delivered.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(3u, await channel.QueuePurgeAsync("to-purge"));
        var stats = await _node.Queues.GetStatsAsync("to-purge");
        Assert.Equal((0L, 1L), (stats.Depth, stats.InFlight));
        await consuming.BasicAckAsync(tag, multiple: false);
        await Actors.Core.Tests.Poll.Until(async () => (await _node.Queues.GetStatsAsync("to-purge")).TotalSucceeded == 1,
            "the unacknowledged delivery to succeed once acknowledged", TimeSpan.FromSeconds(30));

        await using var producer = await _node.Factory("producer", Producer).CreateConnectionAsync();
        await using var refused = await producer.CreateChannelAsync();
        await Assert.ThrowsAsync<OperationInterruptedException>(() => refused.QueuePurgeAsync("to-purge"));
        Assert.Equal((ushort)403, refused.CloseReason?.ReplyCode);

        await using var unknown = await connection.CreateChannelAsync();
        await Assert.ThrowsAsync<OperationInterruptedException>(() => unknown.QueuePurgeAsync("no-such-queue"));
        Assert.Equal((ushort)404, unknown.CloseReason?.ReplyCode);
    }

    [Fact]
    public async Task Delete_refuses_configured_queues_and_its_conditions_and_cancels_the_consumers_of_a_deleted_queue()
    {
        await using var connection = await _node.Factory("manager", Manager).CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        await channel.QueueDeclareAsync("to-delete", durable: true, exclusive: false, autoDelete: false);
        for (var i = 0; i < 3; i++) await channel.BasicPublishAsync("", "to-delete", mandatory: true, new BasicProperties(), new[] { (byte)i });

        await using var consuming = await connection.CreateChannelAsync();
        var cancelled = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumer = new AsyncEventingBasicConsumer(consuming);
        consumer.UnregisteredAsync += (_, e) =>
        {
            cancelled.TrySetResult(e.ConsumerTags[0]);
            return Task.CompletedTask;
        };
        var consumerTag = await consuming.BasicConsumeAsync("to-delete", autoAck: false, consumer);

        await using var configured = await connection.CreateChannelAsync();
        var refusal = await Assert.ThrowsAsync<OperationInterruptedException>(() => configured.QueueDeleteAsync("orders"));
        Assert.Equal((ushort)406, configured.CloseReason?.ReplyCode);
        Assert.Contains("configuration", configured.CloseReason?.ReplyText, StringComparison.Ordinal);
        await using var inUse = await connection.CreateChannelAsync();
        await Assert.ThrowsAsync<OperationInterruptedException>(() => inUse.QueueDeleteAsync("to-delete", ifUnused: true));
        Assert.Equal((ushort)406, inUse.CloseReason?.ReplyCode);
        await using var notEmpty = await connection.CreateChannelAsync();
        await Assert.ThrowsAsync<OperationInterruptedException>(() => notEmpty.QueueDeleteAsync("to-delete", ifEmpty: true));
        Assert.Equal((ushort)406, notEmpty.CloseReason?.ReplyCode);
        await using var producer = await _node.Factory("producer", Producer).CreateConnectionAsync();
        await using var forbidden = await producer.CreateChannelAsync();
        await Assert.ThrowsAsync<OperationInterruptedException>(() => forbidden.QueueDeleteAsync("to-delete"));
        Assert.Equal((ushort)403, forbidden.CloseReason?.ReplyCode);
        Assert.NotNull(refusal);

        Assert.Equal(3u, await channel.QueueDeleteAsync("to-delete"));

        // RabbitMQ.Client announces consumer_cancel_notify: the server's basic.cancel reaches the consumer.
        Assert.Equal(consumerTag, await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(consuming.IsOpen);
        await using var passive = await connection.CreateChannelAsync();
        await Assert.ThrowsAsync<OperationInterruptedException>(() => passive.QueueDeclarePassiveAsync("to-delete"));
        Assert.Equal((ushort)404, passive.CloseReason?.ReplyCode);

        // Declared again, it starts empty.
        Assert.Equal(0u, (await channel.QueueDeclareAsync("to-delete", durable: true, exclusive: false, autoDelete: false)).MessageCount);
    }
}

/// <summary>A client that did not announce <c>consumer_cancel_notify</c> gets no <c>basic.cancel</c>: its consumer is simply dropped.</summary>
public sealed class DeleteWithoutCancelNotifyTests : IAsyncLifetime
{
    private readonly AmqpNode _node = new();

    public Task InitializeAsync() => _node.InitializeAsync();

    public Task DisposeAsync() => ((IAsyncLifetime)_node).DisposeAsync();

    [Fact]
    public async Task The_consumer_of_a_deleted_queue_is_dropped_without_a_basic_cancel()
    {
        await _node.Queues.DeclareQueueAsync("quiet");
        // RawAmqp's start-ok carries no client properties, so no capabilities.
        await using var raw = await RawAmqp.OpenAsync(_node.Port);
        await raw.SendAsync(1, new Codec.AmqpMethod.Basic.Consume(0, "quiet", "quiet-consumer", false, false, false, false, null));
        Assert.IsType<Codec.AmqpMethod.Basic.ConsumeOk>(await raw.ReadMethodAsync());
        await Actors.Core.Tests.Poll.Until(async () => (await _node.Queues.GetStatsAsync("quiet")).Consumers == 1, "the consumer to attach", TimeSpan.FromSeconds(30));

        Assert.Equal(0, await _node.Queues.DeleteQueueAsync("quiet"));

        // The channel goes on; the next method the client sees answers its own request.
        await raw.SendAsync(1, new Codec.AmqpMethod.Basic.Qos(0, 5, false));
        Assert.IsType<Codec.AmqpMethod.Basic.QosOk>(await raw.ReadMethodAsync());
    }
}

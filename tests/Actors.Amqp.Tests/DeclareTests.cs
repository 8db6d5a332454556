using Actors.Http.Security;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Actors.Amqp.Tests;

/// <summary>
/// <c>Actors:Amqp:AllowDeclare</c>: <c>queue.declare</c> of an unknown queue creates it (no in-process workers, so its
/// consumers are AMQP's) for a caller with <c>manage</c> on it, and refuses anyone else.
/// </summary>
public sealed class DeclareTests : IAsyncLifetime
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
    });

    public Task InitializeAsync() => _node.InitializeAsync();

    public Task DisposeAsync() => ((IAsyncLifetime)_node).DisposeAsync();

    [Fact]
    public async Task Declaring_an_unknown_queue_creates_it_and_its_messages_go_to_amqp_consumers()
    {
        await using var connection = await _node.Factory("manager", Manager).CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        var declared = await channel.QueueDeclareAsync("made-by-amqp", durable: true, exclusive: false, autoDelete: false);
        Assert.Equal(0u, declared.MessageCount);
        Assert.Equal(0, (await _node.Queues.GetStatsAsync("made-by-amqp")).Workers);

        // Declared again: it exists, with what it holds.
        for (var i = 0; i < 3; i++) await channel.BasicPublishAsync("", "made-by-amqp", mandatory: true, new BasicProperties(), new[] { (byte)i });
        Assert.Equal(3u, (await channel.QueueDeclareAsync("made-by-amqp", durable: true, exclusive: false, autoDelete: false)).MessageCount);

        var received = new List<byte>();
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            lock (received) received.Add(delivery.Body.Span[0]);
            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
            lock (received) if (received.Count == 3) all.TrySetResult();
        };
        await channel.BasicConsumeAsync("made-by-amqp", autoAck: false, consumer);
        await all.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(new byte[] { 0, 1, 2 }, received.Order().ToArray());
        await Actors.Core.Tests.Poll.Until(async () => (await _node.Queues.GetStatsAsync("made-by-amqp")).TotalSucceeded == 3,
            "the three messages succeeded", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_caller_without_manage_cannot_create_a_queue_and_a_passive_declare_never_does()
    {
        await using var producer = await _node.Factory("producer", Producer).CreateConnectionAsync();
        await using var channel = await producer.CreateChannelAsync();
        await Assert.ThrowsAsync<OperationInterruptedException>(() => channel.QueueDeclareAsync("not-made", durable: true, exclusive: false, autoDelete: false));
        Assert.Equal((ushort)403, channel.CloseReason?.ReplyCode);

        await using var manager = await _node.Factory("manager", Manager).CreateConnectionAsync();
        await using var passive = await manager.CreateChannelAsync();
        await Assert.ThrowsAsync<OperationInterruptedException>(() => passive.QueueDeclarePassiveAsync("not-made"));
        Assert.Equal((ushort)404, passive.CloseReason?.ReplyCode);
        var unknown = await Assert.ThrowsAsync<Actors.Client.QueueException>(() => _node.Queues.GetStatsAsync("not-made"));
        Assert.Equal(Actors.Protocol.RejectionCode.UnknownQueue, unknown.Code);
    }
}

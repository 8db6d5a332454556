using System.Text;
using Actors.Amqp.Tests;
using Actors.Core.Tests;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Actors.Amqp.Tests;

/// <summary>RabbitMQ.Client 7 publishes to a node: confirms after the commit, returns, properties, large and empty bodies.</summary>
public sealed class PublishTests(AmqpNode node) : IClassFixture<AmqpNode>
{
    private static readonly CreateChannelOptions Confirms = new(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true);

    [Fact]
    public async Task Declare_an_existing_queue_publish_with_confirms_and_find_the_message_stored()
    {
        await using var connection = await node.Factory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        var declared = await channel.QueueDeclareAsync("orders", durable: true, exclusive: false, autoDelete: false);
        Assert.Equal("orders", declared.QueueName);

        var properties = new BasicProperties
        {
            MessageId = "confirm-1",
            Type = "order.placed",
            ContentType = "application/json",
            CorrelationId = "corr-7",
            ReplyTo = "replies",
            Priority = 7,
            Timestamp = new AmqpTimestamp(1_700_000_000),
            Headers = new Dictionary<string, object?> { ["tenant"] = "acme", ["attempt"] = 3, ["bytes"] = Encoding.UTF8.GetBytes("raw") },
        };
        // With tracking, the publish completes only on the server's basic.ack: after the journal commit.
        await channel.BasicPublishAsync("", "orders", mandatory: true, properties, Encoding.UTF8.GetBytes("{\"id\":1}"));

        var stored = await node.StoredAsync("orders", "confirm-1");
        Assert.Equal("order.placed", stored.Type);
        Assert.Equal("{\"id\":1}", Encoding.UTF8.GetString(stored.Payload!.Value.Span));
        Assert.Equal("application/json", stored.Headers["content-type"]);
        Assert.Equal("corr-7", stored.Headers["correlation-id"]);
        Assert.Equal("replies", stored.Headers["reply-to"]);
        Assert.Equal("7", stored.Headers["priority"]);
        Assert.Equal("1700000000", stored.Headers["timestamp"]);
        Assert.Equal("acme", stored.Headers["tenant"]);
        Assert.Equal("3", stored.Headers["attempt"]);
        Assert.Equal("raw", stored.Headers["bytes"]);

        var again = await channel.QueueDeclarePassiveAsync("orders");
        Assert.True(again.MessageCount >= 1);
    }

    [Fact]
    public async Task A_message_without_type_is_a_message_and_the_same_message_id_is_stored_once()
    {
        await using var connection = await node.Factory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        var properties = new BasicProperties { MessageId = "dedup-1" };
        await channel.BasicPublishAsync("", "orders", mandatory: false, properties, "one"u8.ToArray());
        await channel.BasicPublishAsync("", "orders", mandatory: false, properties, "one"u8.ToArray());
        var stored = await node.StoredAsync("orders", "dedup-1");
        Assert.Equal(MessageMapping.DefaultType, stored.Type);
        var found = await node.Queues.FindByIdempotencyKeyAsync("orders", "dedup-1");
        Assert.Equal(stored.MessageId, found!.MessageId);
    }

    [Fact]
    public async Task Mandatory_publish_to_a_missing_queue_comes_back_as_PublishReturnException()
    {
        await using var connection = await node.Factory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        var returned = await Assert.ThrowsAsync<PublishReturnException>(async () =>
            await channel.BasicPublishAsync("", "no-such-queue", mandatory: true, new BasicProperties(), "lost?"u8.ToArray()));
        Assert.Equal(312, returned.ReplyCode);
        // Without mandatory, an unroutable message is confirmed and dropped, as RabbitMQ does.
        await channel.BasicPublishAsync("", "no-such-queue", mandatory: false, new BasicProperties(), "dropped"u8.ToArray());
        Assert.True(channel.IsOpen);
    }

    [Fact]
    public async Task A_10_MB_body_and_an_empty_body_are_stored_byte_exact()
    {
        await using var connection = await node.Factory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        var large = new byte[10 * 1024 * 1024];
        new Random(15).NextBytes(large);
        await channel.BasicPublishAsync("", "orders", mandatory: true, new BasicProperties { MessageId = "large-1" }, large);
        await channel.BasicPublishAsync("", "orders", mandatory: true, new BasicProperties { MessageId = "empty-1" }, ReadOnlyMemory<byte>.Empty);

        var stored = await node.StoredAsync("orders", "large-1");
        Assert.True(large.AsSpan().SequenceEqual(stored.Payload!.Value.Span));
        Assert.Equal(0, (await node.StoredAsync("orders", "empty-1")).Payload!.Value.Length);
    }

    [Fact]
    public async Task Direct_and_fanout_exchanges_route_to_bound_queues()
    {
        await using var connection = await node.Factory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(Confirms);
        await channel.ExchangeDeclareAsync("fan", RabbitMQ.Client.ExchangeType.Fanout, durable: false, autoDelete: false);
        await channel.QueueBindAsync("orders", "fan", "");
        await channel.QueueBindAsync("other", "fan", "");
        await channel.ExchangeDeclareAsync("direct", RabbitMQ.Client.ExchangeType.Direct, durable: false, autoDelete: false);
        await channel.QueueBindAsync("orders", "direct", "eu");

        await channel.BasicPublishAsync("fan", "anything", mandatory: true, new BasicProperties { MessageId = "fan-1" }, "f"u8.ToArray());
        await channel.BasicPublishAsync("direct", "eu", mandatory: true, new BasicProperties { MessageId = "direct-1" }, "d"u8.ToArray());
        await Assert.ThrowsAsync<PublishReturnException>(async () =>
            await channel.BasicPublishAsync("direct", "us", mandatory: true, new BasicProperties { MessageId = "direct-2" }, "x"u8.ToArray()));

        await node.StoredAsync("orders", "fan-1");
        Assert.NotNull(await node.Queues.FindByIdempotencyKeyAsync("other", "fan-1"));
        await node.StoredAsync("orders", "direct-1");
        Assert.Null(await node.Queues.FindByIdempotencyKeyAsync("orders", "direct-2"));
    }

    [Fact]
    public async Task Publish_to_an_unknown_exchange_closes_the_channel_with_404_and_the_connection_stays()
    {
        await using var connection = await node.Factory().CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync();
        await channel.BasicPublishAsync("no-such-exchange", "orders", "x"u8.ToArray());
        await Poll.Until(() => channel.IsClosed, "the channel closed by the server", TimeSpan.FromSeconds(30));
        Assert.Equal(404, channel.CloseReason!.ReplyCode);

        Assert.True(connection.IsOpen);
        await using var next = await connection.CreateChannelAsync(Confirms);
        await next.BasicPublishAsync("", "orders", mandatory: true, new BasicProperties { MessageId = "after-404" }, "ok"u8.ToArray());
        await node.StoredAsync("orders", "after-404");
    }

    [Fact]
    public async Task Declaring_a_queue_the_node_does_not_have_is_404()
    {
        await using var connection = await node.Factory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var refused = await Assert.ThrowsAsync<OperationInterruptedException>(() => channel.QueueDeclareAsync("undeclared", durable: true, exclusive: false, autoDelete: false));
        Assert.Equal(404, refused.ShutdownReason!.ReplyCode);
        Assert.Contains("configuration", refused.ShutdownReason.ReplyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_credentials_are_refused_with_403()
    {
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => node.Factory("bob", "not-a-key").CreateConnectionAsync());
        Assert.Contains(Chain(refused), e => e is AuthenticationFailureException || e.Message.Contains("ACCESS_REFUSED", StringComparison.Ordinal));
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException) yield return x;
    }
}

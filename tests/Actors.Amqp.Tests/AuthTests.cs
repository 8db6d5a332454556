using Actors.Http.Security;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Actors.Amqp.Tests;

/// <summary>A node with API keys: the password is a key, its permissions apply per queue, and guest is refused.</summary>
public sealed class AuthTests : IAsyncLifetime
{
    private const string Key = "test-key-for-amqp-producers-0123456789abcdef";
    private readonly AmqpNode _node = new(new Dictionary<string, string?>
    {
        ["Actors:Auth:Keys:producer:Hash"] = ApiKeys.Hash(Key),
        ["Actors:Auth:Keys:producer:Permissions:0"] = "produce:orders",
    });

    public Task InitializeAsync() => _node.InitializeAsync();

    public Task DisposeAsync() => ((IAsyncLifetime)_node).DisposeAsync();

    [Fact]
    public async Task An_api_key_publishes_where_its_permissions_allow_and_guest_is_refused()
    {
        var guest = await Assert.ThrowsAnyAsync<Exception>(() => _node.Factory().CreateConnectionAsync());
        Assert.Contains(Chain(guest), e => e is AuthenticationFailureException || e.Message.Contains("ACCESS_REFUSED", StringComparison.Ordinal));

        await using var connection = await _node.Factory("producer", Key).CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        await channel.QueueDeclareAsync("orders", durable: true, exclusive: false, autoDelete: false);
        await channel.BasicPublishAsync("", "orders", mandatory: true, new BasicProperties { MessageId = "keyed-1" }, "k"u8.ToArray());
        await _node.StoredAsync("orders", "keyed-1");

        var refused = await Assert.ThrowsAnyAsync<Exception>(async () =>
            await channel.BasicPublishAsync("", "other", mandatory: true, new BasicProperties { MessageId = "keyed-2" }, "k"u8.ToArray()));
        Assert.Equal((ushort)403, channel.CloseReason?.ReplyCode);
        Assert.Null(await _node.Queues.FindByIdempotencyKeyAsync("other", "keyed-2"));
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException) yield return x;
    }
}

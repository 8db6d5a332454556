using Actors.Core.Tests;
using RabbitMQ.Client;

namespace Actors.Amqp.Tests;

public sealed class ShutdownTests
{
    [Fact]
    public async Task A_stopping_node_closes_its_AMQP_connections_with_320()
    {
        var node = new AmqpNode();
        await node.InitializeAsync();
        var connection = await node.Factory().CreateConnectionAsync();
        try
        {
            await ((IAsyncLifetime)node).DisposeAsync();
            await Poll.Until(() => !connection.IsOpen, "the connection closed", TimeSpan.FromSeconds(30));
            Assert.Equal((ushort)320, connection.CloseReason!.ReplyCode);
        }
        finally
        {
            await connection.DisposeAsync();
        }
    }
}

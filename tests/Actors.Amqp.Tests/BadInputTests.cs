using System.Net.Sockets;
using Actors.Amqp.Codec;
using RabbitMQ.Client;
using static Actors.Amqp.Codec.AmqpMethod;

namespace Actors.Amqp.Tests;

/// <summary>What no real client sends: the server answers with the right reply code and the node stays healthy.</summary>
public sealed class BadInputTests(AmqpNode node) : IClassFixture<AmqpNode>
{
    [Fact]
    public async Task Garbage_instead_of_the_protocol_header_gets_the_servers_header_and_a_close()
    {
        await using var raw = await RawAmqp.ConnectAsync(node.Port);
        await raw.SendBytesAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        Assert.Equal(Frame.ProtocolHeader.ToArray(), await raw.ReadToEndAsync());
        await StillHealthyAsync();
    }

    [Fact]
    public async Task A_frame_larger_than_frame_max_closes_the_connection_with_501()
    {
        await using var raw = await RawAmqp.OpenAsync(node.Port);
        await raw.SendFrameAsync(FrameType.Body, 1, new byte[raw.FrameMax]);
        var close = Assert.IsType<Connection.Close>(await raw.ReadMethodAsync());
        Assert.Equal(ReplyCodes.FrameError, close.ReplyCode);
        await StillHealthyAsync();
    }

    [Fact]
    public async Task A_method_on_a_channel_that_is_not_open_is_504()
    {
        await using var raw = await RawAmqp.OpenAsync(node.Port, channel: false);
        await raw.SendAsync(7, new Basic.Qos(0, 1, false));
        var close = Assert.IsType<Connection.Close>(await raw.ReadMethodAsync());
        Assert.Equal(ReplyCodes.ChannelError, close.ReplyCode);
        await raw.SendAsync(0, Connection.CloseOk.Instance);
    }

    [Fact]
    public async Task An_unknown_class_or_method_is_540()
    {
        await using var raw = await RawAmqp.OpenAsync(node.Port);
        await raw.SendFrameAsync(FrameType.Method, 1, Convert.FromHexString("00FF0001"));
        var close = Assert.IsType<Connection.Close>(await raw.ReadMethodAsync());
        Assert.Equal(ReplyCodes.NotImplemented, close.ReplyCode);
    }

    [Fact]
    public async Task A_content_header_without_a_publish_is_505()
    {
        await using var raw = await RawAmqp.OpenAsync(node.Port);
        using var writer = new AmqpWriter();
        new ContentHeader(60, 1, Codec.BasicProperties.Empty).Write(writer);
        await raw.SendFrameAsync(FrameType.Header, 1, writer.WrittenSpan.ToArray());
        var close = Assert.IsType<Connection.Close>(await raw.ReadMethodAsync());
        Assert.Equal(ReplyCodes.UnexpectedFrame, close.ReplyCode);
    }

    [Fact]
    public async Task Transactions_are_refused_on_the_channel_with_540()
    {
        await using var raw = await RawAmqp.OpenAsync(node.Port);
        await raw.SendAsync(1, new Tx.Select());
        var close = Assert.IsType<AmqpMethod.Channel.Close>(await raw.ReadMethodAsync());
        Assert.Equal(ReplyCodes.NotImplemented, close.ReplyCode);
        await raw.SendAsync(1, AmqpMethod.Channel.CloseOk.Instance);
        // The connection goes on: the channel number can be opened again.
        await raw.SendAsync(1, new AmqpMethod.Channel.Open());
        Assert.IsType<AmqpMethod.Channel.OpenOk>(await raw.ReadMethodAsync());
    }

    [Fact]
    public async Task Heartbeats_flow_and_a_silent_client_is_disconnected()
    {
        await using var raw = await RawAmqp.OpenAsync(node.Port, heartbeat: 1, channel: false);
        var sawHeartbeat = false;
        while (await raw.ReadFrameAsync() is { } frame)
            if (frame.Type == FrameType.Heartbeat) sawHeartbeat = true;
        // The loop ends when the server drops the connection for two missed intervals.
        Assert.True(sawHeartbeat);
    }

    private async Task StillHealthyAsync()
    {
        await using var connection = await node.Factory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        var id = Guid.NewGuid().ToString("N");
        await channel.BasicPublishAsync("", "orders", mandatory: true, new RabbitMQ.Client.BasicProperties { MessageId = id }, "healthy"u8.ToArray());
        await node.StoredAsync("orders", id);
    }
}

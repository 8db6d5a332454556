using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Actors.Amqp.Codec;
using static Actors.Amqp.Codec.AmqpMethod;

namespace Actors.Amqp.Tests;

/// <summary>A bare AMQP client over a socket, built on the server's own codec, for the bad input no real client sends.</summary>
internal sealed class RawAmqp : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;

    private RawAmqp(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _reader = PipeReader.Create(_stream);
    }

    public static async Task<RawAmqp> ConnectAsync(int port)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        return new RawAmqp(tcp);
    }

    /// <summary>Header, start-ok (PLAIN guest), tune-ok (the server's frame-max, <paramref name="heartbeat"/>), open; channel 1 opened when asked.</summary>
    public static async Task<RawAmqp> OpenAsync(int port, ushort heartbeat = 0, bool channel = true)
    {
        var raw = await ConnectAsync(port);
        await raw.SendBytesAsync(Frame.ProtocolHeader.ToArray());
        Assert.IsType<Connection.Start>(await raw.ReadMethodAsync());
        await raw.SendAsync(0, new Connection.StartOk(new Dictionary<string, object?>(), "PLAIN", "\0guest\0guest"u8.ToArray(), "en_US"));
        var tune = Assert.IsType<Connection.Tune>(await raw.ReadMethodAsync());
        raw.FrameMax = tune.FrameMax;
        await raw.SendAsync(0, new Connection.TuneOk(tune.ChannelMax, tune.FrameMax, heartbeat));
        await raw.SendAsync(0, new Connection.Open("/"));
        Assert.IsType<Connection.OpenOk>(await raw.ReadMethodAsync());
        if (channel)
        {
            await raw.SendAsync(1, new AmqpMethod.Channel.Open());
            Assert.IsType<AmqpMethod.Channel.OpenOk>(await raw.ReadMethodAsync());
        }
        return raw;
    }

    public uint FrameMax { get; private set; }

    public async Task SendBytesAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    public Task SendAsync(ushort channel, IAmqpMethod method)
    {
        using var writer = new AmqpWriter();
        var start = writer.BeginFrame(FrameType.Method, channel);
        AmqpMethod.Write(writer, method);
        writer.EndFrame(start);
        return SendBytesAsync(writer.WrittenSpan.ToArray());
    }

    public Task SendFrameAsync(FrameType type, ushort channel, byte[] payload)
    {
        using var writer = new AmqpWriter();
        var start = writer.BeginFrame(type, channel);
        writer.WriteBytes(payload);
        writer.EndFrame(start);
        return SendBytesAsync(writer.WrittenSpan.ToArray());
    }

    /// <summary>The next frame (type, channel, payload); null when the server closed (or reset) the socket. 30 s at most.</summary>
    public async Task<(FrameType Type, ushort Channel, byte[] Payload)?> ReadFrameAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            ReadResult result;
            try
            {
                result = await _reader.ReadAsync(timeout.Token);
            }
            catch (IOException)
            {
                return null;
            }
            var buffer = result.Buffer;
            if (Frame.TryRead(ref buffer, 0, out var frame))
            {
                var read = (frame.Type, frame.Channel, frame.Payload.ToArray());
                _reader.AdvanceTo(buffer.Start);
                return read;
            }
            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted) return null;
        }
    }

    /// <summary>The next method frame's method, skipping heartbeats.</summary>
    public async Task<IAmqpMethod> ReadMethodAsync()
    {
        while (true)
        {
            var frame = await ReadFrameAsync() ?? throw new IOException("The server closed the connection.");
            if (frame.Type == FrameType.Heartbeat) continue;
            Assert.Equal(FrameType.Method, frame.Type);
            return AmqpMethod.Read(frame.Payload);
        }
    }

    /// <summary>The next method, skipping heartbeats, and for a content method (deliver, get-ok, return) its body.</summary>
    public async Task<(IAmqpMethod Method, byte[] Body)> ReadMethodWithBodyAsync()
    {
        var method = await ReadMethodAsync();
        if (method is not (Basic.Deliver or Basic.GetOk or Basic.Return)) return (method, []);
        var header = await ReadFrameAsync() ?? throw new IOException("The server closed the connection.");
        Assert.Equal(FrameType.Header, header.Type);
        var size = (long)ContentHeader.Read(header.Payload).BodySize;
        var body = new MemoryStream();
        while (body.Length < size)
        {
            var frame = await ReadFrameAsync() ?? throw new IOException("The server closed the connection.");
            Assert.Equal(FrameType.Body, frame.Type);
            body.Write(frame.Payload);
        }
        return (method, body.ToArray());
    }

    /// <summary>Reads raw bytes until the server closes the socket (30 s at most).</summary>
    public async Task<byte[]> ReadToEndAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var all = new MemoryStream();
        while (true)
        {
            var result = await _reader.ReadAsync(timeout.Token);
            foreach (var segment in result.Buffer) all.Write(segment.Span);
            _reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted) return all.ToArray();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _reader.CompleteAsync();
        _tcp.Dispose();
    }
}

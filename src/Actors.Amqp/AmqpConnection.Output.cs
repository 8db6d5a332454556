using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Actors.Amqp.Codec;
using Actors.Client;
using Akka.Actor;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using static Actors.Amqp.Codec.AmqpMethod;

namespace Actors.Amqp;

/// <summary>Everything the connection sends, under its write lock, and the heartbeats both ways.</summary>
internal sealed partial class AmqpConnection
{
    /// <summary>Sends a method, and for content methods its header and body split at frame-max, as one uninterrupted run of frames.</summary>
    public ValueTask SendAsync(ushort channel, IAmqpMethod method, ContentHeader? header = null, ReadOnlyMemory<byte> body = default, IAmqpMethod? after = null) =>
        SendAsync(channel, () => method, header, body, after);

    /// <summary>
    /// As the other overload, with the method made under the write lock: a delivery's tag is taken in the order the
    /// deliveries go out. Null from <paramref name="method"/> sends nothing.
    /// </summary>
    public async ValueTask SendAsync(ushort channel, Func<IAmqpMethod?> method, ContentHeader? header = null, ReadOnlyMemory<byte> body = default, IAmqpMethod? after = null)
    {
        await _writeLock.WaitAsync();
        try
        {
            if (_disposed) return;
            if (method() is not { } first) return;
            _writer.Reset();
            var start = _writer.BeginFrame(FrameType.Method, channel);
            AmqpMethod.Write(_writer, first);
            _writer.EndFrame(start);
            if (header is not null)
            {
                start = _writer.BeginFrame(FrameType.Header, channel);
                header.Write(_writer);
                _writer.EndFrame(start);
                var chunk = (int)FrameMax - Frame.Overhead;
                for (var offset = 0; offset < body.Length; offset += chunk)
                {
                    start = _writer.BeginFrame(FrameType.Body, channel);
                    _writer.WriteBytes(body.Span.Slice(offset, Math.Min(chunk, body.Length - offset)));
                    _writer.EndFrame(start);
                }
            }
            if (after is not null)
            {
                start = _writer.BeginFrame(FrameType.Method, channel);
                AmqpMethod.Write(_writer, after);
                _writer.EndFrame(start);
            }
            await WriteAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask WriteAsync()
    {
        Interlocked.Exchange(ref _lastSent, Environment.TickCount64);
        try
        {
            await _output.WriteAsync(_writer.WrittenMemory, _transport.ConnectionClosed);
        }
        catch (OperationCanceledException)
        {
        }
        catch (InvalidOperationException)
        {
            // The output was completed by the transport: the peer is gone.
        }
    }

    private async ValueTask SendHeartbeatAsync()
    {
        await _writeLock.WaitAsync();
        try
        {
            if (_disposed) return;
            _writer.Reset();
            var start = _writer.BeginFrame(FrameType.Heartbeat, 0);
            _writer.EndFrame(start);
            await WriteAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task HeartbeatsAsync(CancellationToken stop)
    {
        if (Heartbeat == 0) return;
        var interval = TimeSpan.FromSeconds(Heartbeat);
        using var timer = new PeriodicTimer(interval / 2);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var now = Environment.TickCount64;
                if (now - Interlocked.Read(ref _lastReceived) > 2 * interval.TotalMilliseconds)
                {
                    // Two intervals without a frame: the peer is gone. No close handshake (the spec's rule for missed heartbeats).
                    LogMissedHeartbeats(_log, _transport.RemoteEndPoint, Heartbeat);
                    _closed.Cancel();
                    _transport.Abort(new ConnectionAbortedException("missed heartbeats"));
                    return;
                }
                if (now - Interlocked.Read(ref _lastSent) >= interval.TotalMilliseconds / 2) await SendHeartbeatAsync();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

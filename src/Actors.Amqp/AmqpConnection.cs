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

/// <summary>
/// One AMQP connection: reads frames from the transport's pipe, runs the handshake (protocol header, start/start-ok,
/// tune/tune-ok, open/open-ok), hands channel frames to their <see cref="AmqpChannel"/>, sends and checks heartbeats,
/// and closes with the right reply code. Every write goes through <c>SendAsync</c>, under one lock, so frames of
/// one method (method, header, bodies) are never interleaved with another's.
/// </summary>
internal sealed partial class AmqpConnection : IAsyncDisposable
{
    private readonly ConnectionContext _transport;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly AmqpOptions _options;
    private readonly AmqpAuthenticator _authenticator;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly AmqpWriter _writer = new(16 * 1024);
    private readonly Dictionary<ushort, AmqpChannel> _channels = [];
    private readonly CancellationTokenSource _closed = new();
    private long _lastReceived = Environment.TickCount64;
    private long _lastSent = Environment.TickCount64;
    private volatile bool _closing;
    private bool _peerClosed;
    private bool _disposed;

    public AmqpConnection(ConnectionContext transport, AmqpOptions options, AmqpAuthenticator authenticator, IQueueClient queues, AmqpExchanges exchanges,
        ActorSystem system, IConsumerAttachments attachments, ILogger log)
    {
        System = system;
        Attachments = attachments;
        _transport = transport;
        _input = transport.Transport.Input;
        _output = transport.Transport.Output;
        _options = options;
        _authenticator = authenticator;
        Queues = queues;
        Exchanges = exchanges;
        _log = log;
        FrameMax = options.FrameMax;
        ChannelMax = options.ChannelMax;
        InFlight = new SemaphoreSlim(options.MaxInFlightPublishes, options.MaxInFlightPublishes);
    }

    /// <summary>The node's queues.</summary>
    public IQueueClient Queues { get; }

    /// <summary>The node's actor system, where consumer actors live.</summary>
    public ActorSystem System { get; }

    /// <summary>Attaches consumers to queues.</summary>
    public IConsumerAttachments Attachments { get; }

    /// <summary>The node's exchanges.</summary>
    public AmqpExchanges Exchanges { get; }

    /// <summary>The listener's settings.</summary>
    public AmqpOptions Options => _options;

    /// <summary>Who the connection authenticated as (set by the handshake).</summary>
    public AmqpPrincipal Principal { get; private set; } = new("", []);

    /// <summary>The negotiated largest frame.</summary>
    public uint FrameMax { get; private set; }

    /// <summary>The negotiated channel limit.</summary>
    public ushort ChannelMax { get; private set; }

    /// <summary>Bounds the publishes waiting for the journal: the read loop waits for a slot, so TCP pushes back on a fast publisher.</summary>
    public SemaphoreSlim InFlight { get; }

    /// <summary>Fires when the connection ends.</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>The log.</summary>
    public ILogger Log => _log;

    /// <summary>Runs the connection until the peer or the server closes it.</summary>
    public async Task RunAsync()
    {
        try
        {
            if (!await NegotiateHeaderAsync()) return;
            using var handshake = new CancellationTokenSource(_options.HandshakeTimeout);
            await SendAsync(0, new Connection.Start(0, 9, ServerProperties(), AmqpAuthenticator.Mechanisms, "en_US"));
            var state = Handshake.AwaitStartOk;
            Task? heartbeats = null;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(_closed.Token, _transport.ConnectionClosed);
            using var handshakeStop = CancellationTokenSource.CreateLinkedTokenSource(stop.Token, handshake.Token);
            try
            {
                while (true)
                {
                    ReadResult result;
                    try
                    {
                        result = await _input.ReadAsync(state == Handshake.Open ? stop.Token : handshakeStop.Token);
                    }
                    catch (OperationCanceledException) when (handshake.IsCancellationRequested && state != Handshake.Open)
                    {
                        LogHandshakeTimeout(_log, _transport.RemoteEndPoint);
                        return;
                    }
                    var buffer = result.Buffer;
                    var advanced = false;
                    try
                    {
                        while (!_closing && Frame.TryRead(ref buffer, FrameMax, out var frame))
                        {
                            Interlocked.Exchange(ref _lastReceived, Environment.TickCount64);
                            if (state != Handshake.Open)
                            {
                                state = await HandshakeFrameAsync(state, frame);
                                if (state == Handshake.Open) heartbeats = HeartbeatsAsync(stop.Token);
                            }
                            else await FrameAsync(frame);
                        }
                        if (_closing)
                        {
                            advanced = true;
                            if (_peerClosed) _input.AdvanceTo(buffer.End);
                            else await AwaitCloseOkAsync(buffer, result.IsCompleted);
                            return;
                        }
                    }
                    finally
                    {
                        if (!advanced) _input.AdvanceTo(buffer.Start, buffer.End);
                    }
                    if (result.IsCompleted) return;
                }
            }
            catch (AmqpFrameException e)
            {
                await CloseAsync(ReplyCodes.FrameError, ReplyCodes.Text(ReplyCodes.FrameError, e.Message), 0, 0);
                await AwaitCloseOkAsync(default, false);
            }
            catch (AmqpConnectionException e)
            {
                await CloseAsync(e.Code, e.Message, 0, 0);
                await AwaitCloseOkAsync(default, false);
            }
            finally
            {
                _closed.Cancel();
                if (heartbeats is not null) await heartbeats.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        catch (OperationCanceledException) when (_closed.IsCancellationRequested || _transport.ConnectionClosed.IsCancellationRequested)
        {
        }
        catch (ConnectionResetException)
        {
        }
        catch (IOException)
        {
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A fault of the server's own: tell the client (541) rather than dropping the socket without a word.
            LogFailed(_log, _transport.RemoteEndPoint, e);
            try
            {
                await CloseAsync(ReplyCodes.InternalError, ReplyCodes.Text(ReplyCodes.InternalError, "the server failed; see its log"), 0, 0);
            }
            catch (Exception inner) when (inner is IOException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
            {
                // The socket may be gone too.
            }
        }
        finally
        {
            foreach (var channel in _channels.Values) channel.Release();
            _channels.Clear();
        }
    }

    private enum Handshake { AwaitStartOk, AwaitTuneOk, AwaitOpen, Open }

    /// <summary>The negotiated heartbeat interval in seconds (0: none).</summary>
    public ushort Heartbeat { get; private set; }

    private async Task FrameAsync(Frame frame)
    {
        if (frame.Type == FrameType.Heartbeat) return;
        if (frame.Channel == 0)
        {
            if (frame.Type != FrameType.Method)
                throw new AmqpConnectionException(ReplyCodes.UnexpectedFrame, ReplyCodes.Text(ReplyCodes.UnexpectedFrame, "content frame on channel 0"));
            var method = ReadMethodOrClose(frame.Payload, 0);
            switch (method)
            {
                case Connection.Close:
                    await SendAsync(0, Connection.CloseOk.Instance);
                    _closing = _peerClosed = true;
                    return;
                case Connection.CloseOk:
                    _closing = _peerClosed = true;
                    return;
                default:
                    throw new AmqpConnectionException(ReplyCodes.CommandInvalid, ReplyCodes.Text(ReplyCodes.CommandInvalid, $"method {method.ClassId}.{method.MethodId} is not valid on channel 0"));
            }
        }

        if (!_channels.TryGetValue(frame.Channel, out var channel))
        {
            if (frame.Type == FrameType.Method && ReadMethodOrClose(frame.Payload, frame.Channel) is Channel.Open)
            {
                if (frame.Channel > ChannelMax)
                    throw new AmqpConnectionException(ReplyCodes.ChannelError, ReplyCodes.Text(ReplyCodes.ChannelError, $"channel {frame.Channel} is above channel-max {ChannelMax}"));
                _channels[frame.Channel] = new AmqpChannel(this, frame.Channel);
                await SendAsync(frame.Channel, new Channel.OpenOk());
                return;
            }
            throw new AmqpConnectionException(ReplyCodes.ChannelError, ReplyCodes.Text(ReplyCodes.ChannelError, $"channel {frame.Channel} is not open"));
        }
        if (await channel.FrameAsync(frame))
        {
            channel.Release();
            _channels.Remove(frame.Channel);
        }
    }

    /// <summary>Decodes a method; an unknown one or a syntax error closes the connection (540, 502).</summary>
    internal static IAmqpMethod ReadMethodOrClose(ReadOnlySequence<byte> payload, ushort channel)
    {
        try
        {
            return ReadMethod(payload);
        }
        catch (AmqpUnknownMethodException e)
        {
            throw new AmqpConnectionException(ReplyCodes.NotImplemented, ReplyCodes.Text(ReplyCodes.NotImplemented, $"unknown method {e.ClassId}.{e.MethodId} on channel {channel}"));
        }
        catch (AmqpSyntaxException e)
        {
            throw new AmqpConnectionException(ReplyCodes.SyntaxError, ReplyCodes.Text(ReplyCodes.SyntaxError, e.Message));
        }
    }

    private static IAmqpMethod ReadMethod(ReadOnlySequence<byte> payload)
    {
        if (payload.IsSingleSegment) return AmqpMethod.Read(payload.FirstSpan);
        var copy = ArrayPool<byte>.Shared.Rent((int)payload.Length);
        try
        {
            payload.CopyTo(copy);
            return AmqpMethod.Read(copy.AsSpan(0, (int)payload.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    /// <summary>Sends <c>connection.close</c>; the connection then waits for close-ok and ends.</summary>
    private async Task CloseAsync(ushort code, string text, ushort classId, ushort methodId)
    {
        LogClosing(_log, _transport.RemoteEndPoint, code, text);
        _closing = true;
        await SendAsync(0, new Connection.Close(code, text.Length == 0 ? ReplyCodes.Text(code, "closed") : ReplyCodes.Fit(text), classId, methodId));
    }

    /// <summary>After the server's close: reads until close-ok (or a second), then ends; anything else is discarded.</summary>
    private async Task AwaitCloseOkAsync(ReadOnlySequence<byte> pending, bool completed)
    {
        _closing = true;
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            if (!pending.IsEmpty)
            {
                var found = ContainsCloseOk(pending);
                _input.AdvanceTo(pending.End);
                if (found) return;
            }
            if (completed) return;
            while (true)
            {
                var result = await _input.ReadAsync(wait.Token);
                var buffer = result.Buffer;
                var done = result.IsCompleted;
                try
                {
                    while (Frame.TryRead(ref buffer, 0, out var frame))
                        if (frame.Type == FrameType.Method && frame.Channel == 0 && frame.Payload.Length >= 4 && IsCloseOk(frame.Payload)) done = true;
                }
                catch (AmqpFrameException)
                {
                    done = true;
                }
                _input.AdvanceTo(buffer.End);
                if (done) return;
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static bool ContainsCloseOk(ReadOnlySequence<byte> buffer)
    {
        try
        {
            while (Frame.TryRead(ref buffer, 0, out var frame))
                if (frame.Type == FrameType.Method && frame.Channel == 0 && frame.Payload.Length >= 4 && IsCloseOk(frame.Payload)) return true;
        }
        catch (AmqpFrameException)
        {
        }
        return false;
    }

    private static bool IsCloseOk(ReadOnlySequence<byte> payload)
    {
        Span<byte> ids = stackalloc byte[4];
        payload.Slice(0, 4).CopyTo(ids);
        return ids[0] == 0 && ids[1] == 10 && ids[2] == 0 && ids[3] == 51;
    }

    /// <summary>
    /// The node stops: <c>connection.close</c> 320 CONNECTION_FORCED, and the read loop ends at the client's close-ok or
    /// after 2 s, so the node's shutdown does not wait for clients to hang up (their consumers stop with the connection).
    /// </summary>
    public async Task ShutdownAsync()
    {
        if (_closing || _closed.IsCancellationRequested) return;
        try
        {
            _closed.CancelAfter(TimeSpan.FromSeconds(2));
            await CloseAsync(ReplyCodes.ConnectionForced, ReplyCodes.Text(ReplyCodes.ConnectionForced, "the node is shutting down"), 0, 0);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// Ends the connection. Publishes still waiting for the journal finish on their own and send nothing (the semaphores
    /// are left to the collector for them); the write buffer goes back to the pool under the write lock.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        _closed.Cancel();
        await _writeLock.WaitAsync();
        try
        {
            _disposed = true;
            _writer.Dispose();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "AMQP connection from {Remote} opened as {Principal}")]
    private static partial void LogOpened(ILogger logger, EndPoint? remote, string principal);

    [LoggerMessage(Level = LogLevel.Warning, Message = "AMQP connection from {Remote}: not an AMQP 0-9-1 protocol header ({Header}); answered with ours and closed")]
    private static partial void LogBadHeader(ILogger logger, EndPoint? remote, string header);

    [LoggerMessage(Level = LogLevel.Warning, Message = "AMQP connection from {Remote}: authentication failed ({Mechanism}, user {User})")]
    private static partial void LogAuthenticationFailed(ILogger logger, EndPoint? remote, string mechanism, string? user);

    [LoggerMessage(Level = LogLevel.Warning, Message = "AMQP connection from {Remote}: handshake timed out")]
    private static partial void LogHandshakeTimeout(ILogger logger, EndPoint? remote);

    [LoggerMessage(Level = LogLevel.Warning, Message = "AMQP connection from {Remote}: no frame for two heartbeat intervals ({Heartbeat} s); closed")]
    private static partial void LogMissedHeartbeats(ILogger logger, EndPoint? remote, ushort heartbeat);

    [LoggerMessage(Level = LogLevel.Error, Message = "AMQP connection from {Remote} failed")]
    private static partial void LogFailed(ILogger logger, EndPoint? remote, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "AMQP connection from {Remote} closed by the server: {Code} {Text}")]
    private static partial void LogClosing(ILogger logger, EndPoint? remote, ushort code, string text);
}

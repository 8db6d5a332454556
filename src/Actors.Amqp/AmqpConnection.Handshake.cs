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

/// <summary>The handshake: protocol header, start/start-ok with authentication, tune/tune-ok, open/open-ok.</summary>
internal sealed partial class AmqpConnection
{
    private async Task<bool> NegotiateHeaderAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_transport.ConnectionClosed);
        timeout.CancelAfter(_options.HandshakeTimeout);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await _input.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
            var buffer = result.Buffer;
            if (buffer.Length >= 8 || result.IsCompleted)
            {
                Span<byte> header = stackalloc byte[8];
                var length = (int)Math.Min(8, buffer.Length);
                buffer.Slice(0, length).CopyTo(header);
                var ok = length == 8 && header.SequenceEqual(Frame.ProtocolHeader);
                _input.AdvanceTo(buffer.GetPosition(length));
                if (ok) return true;
                // A client that speaks another protocol (or version) hears which one the server speaks, then the socket closes.
                LogBadHeader(_log, _transport.RemoteEndPoint, Convert.ToHexString(header[..length]));
                await _output.WriteAsync(Frame.ProtocolHeader.ToArray());
                return false;
            }
            _input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private async Task<Handshake> HandshakeFrameAsync(Handshake state, Frame frame)
    {
        if (frame.Type == FrameType.Heartbeat) return state;
        if (frame.Type != FrameType.Method || frame.Channel != 0)
            throw new AmqpConnectionException(ReplyCodes.UnexpectedFrame, ReplyCodes.Text(ReplyCodes.UnexpectedFrame, "expected a method frame on channel 0 during the handshake"));
        var method = ReadMethod(frame.Payload);
        switch (state, method)
        {
            case (Handshake.AwaitStartOk, Connection.StartOk startOk):
                var credentials = AmqpAuthenticator.ParseResponse(startOk.Mechanism, startOk.Response);
                var local = (_transport.LocalEndPoint as IPEndPoint)?.Address;
                var principal = credentials is { } c ? _authenticator.Authenticate(c.User, c.Password, local) : null;
                if (principal is null)
                {
                    LogAuthenticationFailed(_log, _transport.RemoteEndPoint, startOk.Mechanism, credentials?.User);
                    throw new AmqpConnectionException(ReplyCodes.AccessRefused, ReplyCodes.Text(ReplyCodes.AccessRefused,
                        $"Login was refused using authentication mechanism {startOk.Mechanism}: the password must be an API key of this node"));
                }
                Principal = principal;
                NotifiesBlocked = AnnouncesBlocked(startOk.ClientProperties);
                ConsumerCancelNotify = startOk.ClientProperties.GetValueOrDefault("capabilities") is IReadOnlyDictionary<string, object?> capabilities
                    && capabilities.GetValueOrDefault("consumer_cancel_notify") is true;
                await SendAsync(0, new Connection.Tune(_options.ChannelMax, _options.FrameMax, _options.Heartbeat));
                return Handshake.AwaitTuneOk;
            case (Handshake.AwaitTuneOk, Connection.TuneOk tuneOk):
                if (tuneOk.FrameMax != 0 && tuneOk.FrameMax < 4096)
                    throw new AmqpConnectionException(ReplyCodes.NotAllowed, ReplyCodes.Text(ReplyCodes.NotAllowed, $"frame-max {tuneOk.FrameMax} is below the minimum of 4096"));
                if (tuneOk.FrameMax > _options.FrameMax)
                    throw new AmqpConnectionException(ReplyCodes.NotAllowed, ReplyCodes.Text(ReplyCodes.NotAllowed, $"frame-max {tuneOk.FrameMax} is above the server's {_options.FrameMax}"));
                FrameMax = tuneOk.FrameMax == 0 ? _options.FrameMax : tuneOk.FrameMax;
                ChannelMax = tuneOk.ChannelMax == 0 ? _options.ChannelMax : Math.Min(tuneOk.ChannelMax, _options.ChannelMax);
                Heartbeat = tuneOk.Heartbeat;
                return Handshake.AwaitOpen;
            case (Handshake.AwaitOpen, Connection.Open open):
                if (open.VirtualHost is not ("/" or ""))
                    throw new AmqpConnectionException(ReplyCodes.NotAllowed, ReplyCodes.Text(ReplyCodes.NotAllowed, $"vhost '{open.VirtualHost}' not found: a node has one virtual host, '/'"));
                await SendAsync(0, new Connection.OpenOk());
                LogOpened(_log, _transport.RemoteEndPoint, Principal.Name);
                return Handshake.Open;
            case (_, Connection.Close):
                await SendAsync(0, Connection.CloseOk.Instance);
                _closing = _peerClosed = true;
                return state;
            default:
                throw new AmqpConnectionException(ReplyCodes.CommandInvalid, ReplyCodes.Text(ReplyCodes.CommandInvalid, $"unexpected method {method.ClassId}.{method.MethodId} during the handshake"));
        }
    }

    /// <summary>Whether the client announced <c>consumer_cancel_notify</c>: it takes a server-sent <c>basic.cancel</c> when a queue is deleted.</summary>
    public bool ConsumerCancelNotify { get; private set; }

    private static Dictionary<string, object?> ServerProperties() => new()
    {
        ["product"] = "Actors",
        ["version"] = typeof(AmqpConnection).Assembly.GetName().Version?.ToString() ?? "1.0",
        ["platform"] = ".NET",
        ["information"] = "Actors node: durable queues on Akka.NET",
        ["capabilities"] = new Dictionary<string, object?>
        {
            ["publisher_confirms"] = true,
            ["basic.nack"] = true,
            ["consumer_cancel_notify"] = true,
            ["connection.blocked"] = true,
            ["authentication_failure_close"] = true,
            ["per_consumer_qos"] = true,
            ["exchange_exchange_bindings"] = false,
        },
    };
}

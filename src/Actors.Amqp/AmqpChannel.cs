using System.Buffers;
using Actors.Amqp.Codec;
using Actors.Client;
using Actors.Http.Security;
using Actors.Protocol;
using Akka.Actor;
using Microsoft.Extensions.Logging;
using static Actors.Amqp.Codec.AmqpMethod;
using static Actors.Protocol.QueueCommands;

namespace Actors.Amqp;

/// <summary>
/// One channel of a connection: its methods (queue and exchange declarations, qos, confirms), the assembly of a
/// published message from its method, header and body frames, and the publish itself: the message goes to the queues
/// its exchange routes it to, and with confirms on, <c>basic.ack</c> is sent only when every queue has committed it to
/// its journal (<c>basic.nack</c> when one refused it). A mandatory message no queue took comes back first as
/// <c>basic.return</c> 312 NO_ROUTE. Its consumers are <see cref="AmqpConsumer"/> actors attached to their queues; the
/// channel sends their deliveries with delivery tags and reports the client's acknowledgements to the delivering queue.
/// </summary>
internal sealed partial class AmqpChannel(AmqpConnection connection, ushort number) : IDeliverySink
{
    private readonly object _gate = new();
    private readonly UnackedDeliveries<Outstanding> _unacked = new();
    private readonly Dictionary<string, Consumer> _consumers = new(StringComparer.Ordinal);
    private Basic.Publish? _publish;
    private ContentHeader? _header;
    private byte[]? _body;
    private int _received;
    private volatile bool _closing;
    private volatile bool _released;
    private bool _confirm;
    private ulong _publishSeq;

    /// <summary>The prefetch count of the last <c>basic.qos</c> (0: unlimited).</summary>
    public ushort Prefetch { get; private set; }

    /// <summary>Whether deliveries flow: false while the client has paused them with <c>channel.flow</c> (guarded by the lock).</summary>
    public bool FlowActive { get; private set; } = true;

    /// <summary>Handles one frame; true when the channel is finished (closed by either side).</summary>
    public async ValueTask<bool> FrameAsync(Frame frame)
    {
        if (_closing)
        {
            // After the server's channel.close only close and close-ok count; content still in flight is dropped.
            if (frame.Type != FrameType.Method) return false;
            var method = AmqpConnection.ReadMethodOrClose(frame.Payload, number);
            if (method is Channel.Close)
            {
                await connection.SendAsync(number, Channel.CloseOk.Instance);
                return true;
            }
            return method is Channel.CloseOk;
        }
        try
        {
            switch (frame.Type)
            {
                case FrameType.Method:
                    if (_publish is not null)
                        throw new AmqpConnectionException(ReplyCodes.UnexpectedFrame, ReplyCodes.Text(ReplyCodes.UnexpectedFrame, $"expected a content header on channel {number}"));
                    return await MethodAsync(AmqpConnection.ReadMethodOrClose(frame.Payload, number));
                case FrameType.Header:
                    await HeaderAsync(frame.Payload);
                    return false;
                case FrameType.Body:
                    await BodyAsync(frame.Payload);
                    return false;
                default:
                    throw new AmqpConnectionException(ReplyCodes.UnexpectedFrame, ReplyCodes.Text(ReplyCodes.UnexpectedFrame, $"frame type {frame.Type} on channel {number}"));
            }
        }
        catch (AmqpChannelException e)
        {
            await CloseAsync(e.Code, e.Message, _failing.ClassId, _failing.MethodId);
            return false;
        }
    }

    private (ushort ClassId, ushort MethodId) _failing;

    private async ValueTask<bool> MethodAsync(IAmqpMethod method)
    {
        _failing = (method.ClassId, method.MethodId);
        switch (method)
        {
            case Channel.Close:
                await connection.SendAsync(number, Channel.CloseOk.Instance);
                return true;
            case Channel.CloseOk:
                return true;
            case Channel.Open:
                throw new AmqpConnectionException(ReplyCodes.ChannelError, ReplyCodes.Text(ReplyCodes.ChannelError, $"second 'channel.open' seen on channel {number}"));
            case Channel.Flow flow:
                await FlowAsync(flow.Active);
                return false;
            case Basic.Qos qos:
                Prefetch = qos.PrefetchCount;
                await connection.SendAsync(number, Basic.QosOk.Instance);
                return false;
            case Confirm.Select select:
                _confirm = true;
                if (!select.NoWait) await connection.SendAsync(number, Confirm.SelectOk.Instance);
                return false;
            case Basic.Publish publish:
                if (publish.Immediate)
                    throw new AmqpConnectionException(ReplyCodes.NotImplemented, ReplyCodes.Text(ReplyCodes.NotImplemented, "immediate=true"));
                _publish = publish;
                return false;
            case Queue.Declare declare:
                await DeclareQueueAsync(declare);
                return false;
            case Queue.Bind bind:
                await BindAsync(bind.Queue, bind.Exchange, bind.RoutingKey, bind: true);
                if (!bind.NoWait) await connection.SendAsync(number, Queue.BindOk.Instance);
                return false;
            case Queue.Unbind unbind:
                await BindAsync(unbind.Queue, unbind.Exchange, unbind.RoutingKey, bind: false);
                await connection.SendAsync(number, Queue.UnbindOk.Instance);
                return false;
            case Queue.Purge purge:
                var purged = await PurgeQueueAsync(purge.Queue);
                if (!purge.NoWait) await connection.SendAsync(number, new Queue.PurgeOk(purged));
                return false;
            case Queue.Delete delete:
                var deleted = await DeleteQueueAsync(delete);
                if (!delete.NoWait) await connection.SendAsync(number, new Queue.DeleteOk(deleted));
                return false;
            case Exchange.Declare declare:
                DeclareExchange(declare);
                if (!declare.NoWait) await connection.SendAsync(number, Exchange.DeclareOk.Instance);
                return false;
            case Exchange.Delete delete:
                DeleteExchange(delete);
                if (!delete.NoWait) await connection.SendAsync(number, Exchange.DeleteOk.Instance);
                return false;
            case Tx.TxMethod:
                throw new AmqpChannelException(ReplyCodes.NotImplemented, ReplyCodes.Text(ReplyCodes.NotImplemented,
                    "transactions (tx) are not supported: use publisher confirms (confirm.select), acknowledged only after the journal commit"));
            case Basic.Consume consume:
                await ConsumeAsync(consume);
                return false;
            case Basic.Cancel cancel:
                await CancelAsync(cancel.ConsumerTag);
                if (!cancel.NoWait) await connection.SendAsync(number, new Basic.CancelOk(cancel.ConsumerTag));
                return false;
            case Basic.Ack ack:
                Ack(Take(ack.DeliveryTag, ack.Multiple));
                return false;
            case Basic.Nack nack:
                Refuse(Take(nack.DeliveryTag, nack.Multiple), nack.Requeue);
                return false;
            case Basic.Reject reject:
                Refuse(Take(reject.DeliveryTag, false), reject.Requeue);
                return false;
            case Basic.Get get:
                await GetAsync(get);
                return false;
            case Basic.Recover recover:
                await RecoverAsync(recover.Requeue);
                await connection.SendAsync(number, Basic.RecoverOk.Instance);
                return false;
            case Basic.RecoverAsync recover:
                await RecoverAsync(recover.Requeue);
                return false;
            default:
                throw new AmqpConnectionException(ReplyCodes.CommandInvalid, ReplyCodes.Text(ReplyCodes.CommandInvalid,
                    $"method {method.ClassId}.{method.MethodId} is not one a client sends"));
        }
    }

    private async ValueTask DeclareQueueAsync(Queue.Declare declare)
    {
        if (declare.Queue.Length == 0)
            throw new AmqpChannelException(ReplyCodes.AccessRefused, ReplyCodes.Text(ReplyCodes.AccessRefused,
                "server-named queues are not supported: declare a queue of the node's configuration by name"));
        if (!connection.Principal.Allows(PermissionKind.Produce, declare.Queue) && !connection.Principal.Allows(PermissionKind.Read, declare.Queue))
            throw new AmqpChannelException(ReplyCodes.AccessRefused, ReplyCodes.Text(ReplyCodes.AccessRefused, $"access to queue '{declare.Queue}' refused for {connection.Principal.Name}"));
        var stats = await StatsAsync(declare.Queue);
        if (stats is null)
        {
            if (declare.Passive || !connection.Options.AllowDeclare)
                throw new AmqpChannelException(ReplyCodes.NotFound, ReplyCodes.Text(ReplyCodes.NotFound,
                    $"no queue '{declare.Queue}' in vhost '/': queues are declared in the node's configuration (Actors:Queues)"));
            await CreateQueueAsync(declare.Queue);
            stats = await StatsAsync(declare.Queue) ?? throw new AmqpChannelException(ReplyCodes.InternalError,
                ReplyCodes.Text(ReplyCodes.InternalError, $"queue '{declare.Queue}' was declared but does not answer"));
        }
        if (!declare.NoWait)
            await connection.SendAsync(number, new Queue.DeclareOk(declare.Queue, (uint)Math.Clamp(stats.Depth, 0, uint.MaxValue), (uint)Math.Max(0, stats.Consumers)));
    }

    /// <summary>
    /// Creates <paramref name="queue"/> at run time (<see cref="AmqpOptions.AllowDeclare"/>) with the node's
    /// <c>DeclaredQueueDefaults</c>: no in-process workers, so its consumers are AMQP's. Needs <c>manage</c> on it.
    /// </summary>
    private async ValueTask CreateQueueAsync(string queue)
    {
        if (!connection.Principal.Allows(PermissionKind.Manage, queue))
            throw new AmqpChannelException(ReplyCodes.AccessRefused, ReplyCodes.Text(ReplyCodes.AccessRefused,
                $"creating queue '{queue}' needs manage permission, which {connection.Principal.Name} lacks"));
        try
        {
            await connection.Queues.DeclareQueueAsync(queue, null, connection.Closed);
        }
        catch (QueueException e) when (e.Code == RejectionCode.InvalidQueueName)
        {
            throw new AmqpChannelException(ReplyCodes.PreconditionFailed, ReplyCodes.Text(ReplyCodes.PreconditionFailed, e.Message));
        }
        catch (QueueException e)
        {
            throw new AmqpChannelException(ReplyCodes.InternalError, ReplyCodes.Text(ReplyCodes.InternalError, $"queue '{queue}' could not be declared: {e.Message}"));
        }
    }

    private async ValueTask<QueueQueries.QueueStats?> StatsAsync(string queue)
    {
        try
        {
            return await connection.Queues.GetStatsAsync(queue, connection.Closed);
        }
        catch (QueueException e) when (e.Code is RejectionCode.UnknownQueue or RejectionCode.InvalidQueueName)
        {
            return null;
        }
        catch (QueueException e)
        {
            throw new AmqpChannelException(ReplyCodes.InternalError, ReplyCodes.Text(ReplyCodes.InternalError, $"queue '{queue}' is unavailable: {e.Message}"));
        }
    }

    private async ValueTask BindAsync(string queue, string exchange, string key, bool bind)
    {
        if (exchange.Length == 0)
            throw new AmqpChannelException(ReplyCodes.AccessRefused, ReplyCodes.Text(ReplyCodes.AccessRefused, "operation not permitted on the default exchange"));
        if (!connection.Principal.Allows(PermissionKind.Manage, queue))
            throw new AmqpChannelException(ReplyCodes.AccessRefused, ReplyCodes.Text(ReplyCodes.AccessRefused, $"binding queue '{queue}' refused for {connection.Principal.Name}: needs manage"));
        if (connection.Exchanges.Find(exchange) is null)
            throw new AmqpChannelException(ReplyCodes.NotFound, ReplyCodes.Text(ReplyCodes.NotFound, $"no exchange '{exchange}' in vhost '/'"));
        if (await StatsAsync(queue) is null)
            throw new AmqpChannelException(ReplyCodes.NotFound, ReplyCodes.Text(ReplyCodes.NotFound, $"no queue '{queue}' in vhost '/'"));
        var done = bind ? connection.Exchanges.Bind(exchange, queue, key) : connection.Exchanges.Unbind(exchange, queue, key);
        if (!done) throw new AmqpChannelException(ReplyCodes.NotFound, ReplyCodes.Text(ReplyCodes.NotFound, $"no exchange '{exchange}' in vhost '/'"));
    }

    private void DeclareExchange(Exchange.Declare declare)
    {
        var existing = declare.Exchange.Length == 0 ? null : connection.Exchanges.Find(declare.Exchange);
        if (declare.Passive)
        {
            if (declare.Exchange.Length > 0 && existing is null)
                throw new AmqpChannelException(ReplyCodes.NotFound, ReplyCodes.Text(ReplyCodes.NotFound, $"no exchange '{declare.Exchange}' in vhost '/'"));
            return;
        }
        if (!AmqpExchanges.TryParseType(declare.Type, out var type))
            throw declare.Type is "topic" or "headers"
                ? new AmqpChannelException(ReplyCodes.NotImplemented, ReplyCodes.Text(ReplyCodes.NotImplemented, $"exchange type '{declare.Type}' is not supported yet: direct and fanout are"))
                : new AmqpConnectionException(ReplyCodes.CommandInvalid, ReplyCodes.Text(ReplyCodes.CommandInvalid, $"invalid exchange type '{declare.Type}'"));
        if (existing is not null && existing.Type != type)
            throw new AmqpChannelException(ReplyCodes.PreconditionFailed, ReplyCodes.Text(ReplyCodes.PreconditionFailed,
                $"inequivalent arg 'type' for exchange '{declare.Exchange}' in vhost '/': received '{declare.Type}' but current is '{existing.Type.ToString().ToLowerInvariant()}'"));
        if (existing is not null) return;
        if (declare.Exchange.Length == 0 || declare.Exchange.StartsWith("amq.", StringComparison.Ordinal))
            throw new AmqpChannelException(ReplyCodes.AccessRefused, ReplyCodes.Text(ReplyCodes.AccessRefused, $"exchange name '{declare.Exchange}' contains reserved prefix 'amq.'"));
        if (!connection.Principal.Allows(PermissionKind.Manage, null))
            throw new AmqpChannelException(ReplyCodes.AccessRefused, ReplyCodes.Text(ReplyCodes.AccessRefused, $"declaring exchange '{declare.Exchange}' refused for {connection.Principal.Name}: needs manage:*"));
        connection.Exchanges.Declare(declare.Exchange, type);
    }

    private void DeleteExchange(Exchange.Delete delete)
    {
        if (delete.Exchange.Length == 0 || delete.Exchange.StartsWith("amq.", StringComparison.Ordinal))
            throw new AmqpChannelException(ReplyCodes.AccessRefused, ReplyCodes.Text(ReplyCodes.AccessRefused, $"exchange '{delete.Exchange}' cannot be deleted"));
        if (!connection.Principal.Allows(PermissionKind.Manage, null))
            throw new AmqpChannelException(ReplyCodes.AccessRefused, ReplyCodes.Text(ReplyCodes.AccessRefused, $"deleting exchange '{delete.Exchange}' refused for {connection.Principal.Name}: needs manage:*"));
        if (!connection.Exchanges.Delete(delete.Exchange))
            throw new AmqpChannelException(ReplyCodes.NotFound, ReplyCodes.Text(ReplyCodes.NotFound, $"no exchange '{delete.Exchange}' in vhost '/'"));
    }

    private async ValueTask HeaderAsync(ReadOnlySequence<byte> payload)
    {
        if (_publish is null || _header is not null)
            throw new AmqpConnectionException(ReplyCodes.UnexpectedFrame, ReplyCodes.Text(ReplyCodes.UnexpectedFrame, $"content header without a publish on channel {number}"));
        ContentHeader header;
        try
        {
            header = payload.IsSingleSegment ? ContentHeader.Read(payload.FirstSpan) : ContentHeader.Read(payload.ToArray());
        }
        catch (AmqpSyntaxException e)
        {
            throw new AmqpConnectionException(ReplyCodes.SyntaxError, ReplyCodes.Text(ReplyCodes.SyntaxError, e.Message));
        }
        if (header.BodySize > (ulong)connection.Options.MaxBodyBytes)
        {
            _publish = null;
            throw new AmqpChannelException(ReplyCodes.PreconditionFailed, ReplyCodes.Text(ReplyCodes.PreconditionFailed,
                $"message size {header.BodySize} is larger than configured max size {connection.Options.MaxBodyBytes}"));
        }
        _header = header;
        _body = header.BodySize == 0 ? [] : GC.AllocateUninitializedArray<byte>((int)header.BodySize);
        _received = 0;
        if (header.BodySize == 0) await PublishAsync();
    }

    private async ValueTask BodyAsync(ReadOnlySequence<byte> payload)
    {
        if (_header is null || _body is null)
            throw new AmqpConnectionException(ReplyCodes.UnexpectedFrame, ReplyCodes.Text(ReplyCodes.UnexpectedFrame, $"content body without a header on channel {number}"));
        if (_received + payload.Length > _body.Length)
            throw new AmqpConnectionException(ReplyCodes.FrameError, ReplyCodes.Text(ReplyCodes.FrameError, $"content body longer than the {_body.Length} bytes its header announced"));
        payload.CopyTo(_body.AsSpan(_received));
        _received += (int)payload.Length;
        if (_received == _body.Length) await PublishAsync();
    }

    private async ValueTask PublishAsync()
    {
        var publish = _publish!;
        var header = _header!;
        var body = _body!;
        _publish = null;
        _header = null;
        _body = null;
        _failing = (publish.ClassId, publish.MethodId);
        var queues = connection.Exchanges.Route(publish.Exchange, publish.RoutingKey)
            ?? throw new AmqpChannelException(ReplyCodes.NotFound, ReplyCodes.Text(ReplyCodes.NotFound, $"no exchange '{publish.Exchange}' in vhost '/'"));
        foreach (var queue in queues)
            if (!connection.Principal.Allows(PermissionKind.Produce, queue))
                throw new AmqpChannelException(ReplyCodes.AccessRefused, ReplyCodes.Text(ReplyCodes.AccessRefused, $"publishing to queue '{queue}' refused for {connection.Principal.Name}"));
        var message = MessageMapping.ToMessage(header.Properties, body);
        var seq = _confirm ? ++_publishSeq : 0;
        await connection.InFlight.WaitAsync(connection.Closed);
        _ = CompleteAsync(seq, queues, message, publish, header, body);
    }

    private async Task CompleteAsync(ulong seq, IReadOnlyList<string> queues, NewMessage message, Basic.Publish publish, ContentHeader header, byte[] body)
    {
        try
        {
            // Every routed queue at once, each in this channel's publish order; the confirm waits for all of them.
            var outcomes = new Task<RejectionCode?>[queues.Count];
            for (var i = 0; i < queues.Count; i++) outcomes[i] = EnqueueAsync(queues[i], message);
            var routed = false;
            QueueException? refused = null;
            for (var i = 0; i < outcomes.Length; i++)
            {
                try
                {
                    if (await outcomes[i] is null)
                    {
                        routed = true;
                        connection.QueueAccepted(queues[i]);
                    }
                }
                catch (QueueException e)
                {
                    refused ??= e;
                    if (e.Code == RejectionCode.QueueFull) connection.QueueFull(queues[i]);
                    LogRefused(connection.Log, queues[i], e.Code, e.Message);
                }
            }
            if (_closing || _released) return;
            if (!routed && refused is null && publish.Mandatory)
                await connection.SendAsync(number, new Basic.Return(ReplyCodes.NoRoute, "NO_ROUTE", publish.Exchange, publish.RoutingKey), header, body);
            if (_closing || _released) return;
            if (seq > 0)
                await connection.SendAsync(number, refused is null ? new Basic.Ack(seq, false) : new Basic.Nack(seq, false, false));
            if (refused is not null && IsCallersFault(refused.Code))
                await CloseAsync(ReplyCodes.PreconditionFailed, ReplyCodes.Text(ReplyCodes.PreconditionFailed, $"message refused ({refused.Code}): {refused.Message}"), publish.ClassId, publish.MethodId);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            // A timeout or an unavailable node: the message may not be stored, so the publisher hears nack.
            LogPublishFailed(connection.Log, e);
            if (seq > 0 && !_closing && !_released) await connection.SendAsync(number, new Basic.Nack(seq, false, false));
        }
        finally
        {
            connection.InFlight.Release();
        }
    }

    /// <summary>Null when stored; the code when there is no such queue (unroutable); throws <see cref="QueueException"/> when refused.</summary>
    private async Task<RejectionCode?> EnqueueAsync(string queue, NewMessage message)
    {
        try
        {
            await connection.Queues.EnqueueAsync(queue, message, connection.Closed);
            return null;
        }
        catch (QueueException e) when (e.Code is RejectionCode.UnknownQueue or RejectionCode.InvalidQueueName)
        {
            // No such queue: unroutable, as a RabbitMQ default-exchange publish to a missing queue is.
            return e.Code;
        }
    }

    private static bool IsCallersFault(RejectionCode code) => code is RejectionCode.InvalidMessageType or RejectionCode.UnknownMessageType
        or RejectionCode.PayloadTooLarge or RejectionCode.InvalidHeaders or RejectionCode.IdempotencyKeyMismatch or RejectionCode.IdempotencyKeyRequired
        or RejectionCode.InvalidIdempotencyKey or RejectionCode.InvalidTiming or RejectionCode.DelayTooLong;

    private async ValueTask CloseAsync(ushort code, string text, ushort classId, ushort methodId)
    {
        if (_closing || _released) return;
        _closing = true;
        LogChannelClosed(connection.Log, number, code, text);
        await connection.SendAsync(number, new Channel.Close(code, ReplyCodes.Fit(text), classId, methodId));
    }

    /// <summary>
    /// The channel is gone (closed, or its connection ended): nothing more is sent on it, and its consumers stop, so
    /// their queues take back at once every delivery the client did not acknowledge.
    /// </summary>
    public void Release()
    {
        _released = true;
        Consumer[] consumers;
        lock (_gate)
        {
            consumers = [.. _byActor.Values];
            _byActor.Clear();
            _consumers.Clear();
            _held.Clear();
            _unacked.TakeAll();
        }
        foreach (var consumer in consumers)
        {
            consumer.Get?.TrySetCanceled();
            connection.System.Stop(consumer.Actor);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "AMQP channel {Channel} closed by the server: {Code} {Text}")]
    private static partial void LogChannelClosed(ILogger logger, ushort channel, ushort code, string text);

    [LoggerMessage(Level = LogLevel.Warning, Message = "AMQP publish failed")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "AMQP publish to queue {Queue} refused: {Code} {Reason}")]
    private static partial void LogRefused(ILogger logger, string queue, RejectionCode code, string reason);
}

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

/// <summary>The channel's consumers: attach on <c>basic.consume</c>, deliver with tags, report acks, nacks and rejects.</summary>
internal sealed partial class AmqpChannel
{
    private sealed record Consumer(string Tag, string Queue, IActorRef Actor, bool NoAck);

    private sealed record Outstanding(string ConsumerTag, WorkerProtocol.Deliver Delivery, IActorRef Queue, IActorRef Consumer, long Started);

    private async ValueTask ConsumeAsync(Basic.Consume consume)
    {
        if (connection.Attachments is NoConsumerAttachments)
            throw new AmqpChannelException(ReplyCodes.NotImplemented, ReplyCodes.Text(ReplyCodes.NotImplemented, "basic.consume is not supported yet"));
        if (!connection.Principal.Allows(PermissionKind.Read, consume.Queue))
            throw new AmqpChannelException(ReplyCodes.AccessRefused, ReplyCodes.Text(ReplyCodes.AccessRefused, $"consuming from queue '{consume.Queue}' refused for {connection.Principal.Name}: needs read"));
        if (await StatsAsync(consume.Queue) is null)
            throw new AmqpChannelException(ReplyCodes.NotFound, ReplyCodes.Text(ReplyCodes.NotFound, $"no queue '{consume.Queue}' in vhost '/'"));
        var tag = consume.ConsumerTag.Length == 0 ? "amq.ctag-" + Guid.NewGuid().ToString("N") : consume.ConsumerTag;
        Consumer consumer;
        lock (_gate)
        {
            if (_consumers.ContainsKey(tag))
                throw new AmqpConnectionException(ReplyCodes.NotAllowed, ReplyCodes.Text(ReplyCodes.NotAllowed, $"attempt to reuse consumer tag '{tag}'"));
            consumer = new Consumer(tag, consume.Queue, connection.System.ActorOf(AmqpConsumer.Props(this, tag)), consume.NoAck);
            _consumers[tag] = consumer;
        }
        // consume-ok goes out before the first delivery can: the consumer is attached only after it.
        if (!consume.NoWait) await connection.SendAsync(number, new Basic.ConsumeOk(tag));
        try
        {
            await connection.Attachments.AttachAsync(consume.Queue, consumer.Actor, consume.NoAck ? 0 : Prefetch, connection.Closed);
        }
        catch (QueueException e)
        {
            lock (_gate) _consumers.Remove(tag);
            connection.System.Stop(consumer.Actor);
            throw new AmqpChannelException(e.Code == RejectionCode.UnknownQueue ? ReplyCodes.NotFound : ReplyCodes.InternalError,
                ReplyCodes.Text(e.Code == RejectionCode.UnknownQueue ? ReplyCodes.NotFound : ReplyCodes.InternalError, $"queue '{consume.Queue}': {e.Message}"));
        }
    }

    private async ValueTask CancelAsync(string tag)
    {
        Consumer? consumer;
        lock (_gate)
            if (_consumers.Remove(tag, out consumer)) { }
        if (consumer is null) return;
        try
        {
            await connection.Attachments.DetachAsync(consumer.Queue, consumer.Actor, connection.Closed);
        }
        catch (QueueException)
        {
            // Stopping the actor detaches it as well.
        }
        connection.System.Stop(consumer.Actor);
    }

    /// <inheritdoc />
    public void Deliver(string consumerTag, WorkerProtocol.Deliver delivery, IActorRef queue, IActorRef consumer)
    {
        // Called on the consumer actor's thread. A delivery to a closed channel is dropped: the stopped consumer returns it.
        if (_closing || _released) return;
        _ = DeliverAsync(consumerTag, delivery, queue, consumer);
    }

    private async Task DeliverAsync(string consumerTag, WorkerProtocol.Deliver delivery, IActorRef queue, IActorRef consumer)
    {
        bool noAck;
        lock (_gate)
        {
            if (!_consumers.TryGetValue(consumerTag, out var found)) return;
            noAck = found.NoAck;
        }
        var header = new ContentHeader(60, (ulong)delivery.Payload.Length, MessageMapping.ToProperties(delivery.Type, delivery.Headers));
        var sent = false;
        await connection.SendAsync(number, () =>
        {
            if (_closing || _released) return null;
            ulong tag;
            lock (_gate)
                tag = noAck ? _unacked.Skip() : _unacked.Add(new Outstanding(consumerTag, delivery, queue, consumer, Environment.TickCount64));
            sent = true;
            return new Basic.Deliver(consumerTag, tag, Redelivered(delivery), "", delivery.QueueId);
        }, header, delivery.Payload);
        if (sent && noAck) queue.Tell(new WorkerProtocol.Completed(delivery.QueueId, delivery.MessageId, delivery.Attempt, null, TimeSpan.Zero), consumer);
    }

    /// <summary>A message that may have been delivered before (a retry, or handed back by a consumer that went away).</summary>
    private static bool Redelivered(WorkerProtocol.Deliver delivery) => delivery.Redelivered || delivery.Attempt > 1;

    private IReadOnlyList<Outstanding> Take(ulong tag, bool multiple)
    {
        lock (_gate) return _unacked.Take(tag, multiple);
    }

    private static TimeSpan Elapsed(Outstanding o) => TimeSpan.FromMilliseconds(Environment.TickCount64 - o.Started);

    /// <summary>nack or reject: with requeue, a failed attempt the queue's retry policy handles; without, a dead letter now.</summary>
    private static void Refuse(IReadOnlyList<Outstanding> taken, bool requeue)
    {
        foreach (var o in taken)
        {
            var error = new ErrorInfo("AmqpReject", requeue ? "The AMQP consumer rejected the message (requeue)." : "The AMQP consumer rejected the message (no requeue): dead-lettered.",
                null, "amqp:" + o.ConsumerTag, DateTime.UtcNow);
            o.Queue.Tell(new WorkerProtocol.Failed(o.Delivery.QueueId, o.Delivery.MessageId, o.Delivery.Attempt, error,
                requeue ? RequestedFailureAction.FollowPolicy : RequestedFailureAction.DeadLetter, null, Elapsed(o)), o.Consumer);
        }
    }
}

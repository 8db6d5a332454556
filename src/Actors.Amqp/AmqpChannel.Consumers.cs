using Actors.Amqp.Codec;
using Actors.Client;
using Actors.Http.Security;
using Actors.Protocol;
using Akka.Actor;
using static Actors.Amqp.Codec.AmqpMethod;

namespace Actors.Amqp;

/// <summary>
/// The channel's consumers: attach on <c>basic.consume</c>, deliver with tags (held while <c>channel.flow</c> has paused
/// the channel), report acks, nacks and rejects, keep a cancelled consumer until what it delivered is settled, and hand
/// every unacknowledged delivery back on <c>basic.recover</c>.
/// </summary>
internal sealed partial class AmqpChannel
{
    /// <summary>
    /// A consumer (<c>basic.consume</c>) or one <c>basic.get</c>: the actor attached to the queue for it, and how many of
    /// its deliveries wait for the client. A closing one (cancelled, or a get) sends nothing new and stops its actor once
    /// that count is 0, which hands back whatever the queue gave it meanwhile. Mutable state is guarded by the channel's lock.
    /// </summary>
    private sealed class Consumer(string tag, string queue, IActorRef actor, bool noAck, int prefetch)
    {
        public string Tag => tag;

        public string Queue => queue;

        public bool NoAck => noAck;

        /// <summary>The prefetch it was attached with (0: unlimited).</summary>
        public int Prefetch => prefetch;

        /// <summary>Its actor now (<c>basic.recover</c> replaces it).</summary>
        public IActorRef Actor { get; set; } = actor;

        public int Unacked { get; set; }

        public bool Closing { get; set; }

        /// <summary>For a <c>basic.get</c>: completed with the first delivery.</summary>
        public TaskCompletionSource<Taken>? Get { get; init; }

        /// <summary>How a rejection names it in the message's error.</summary>
        public string Source => "amqp:" + (tag.Length == 0 ? "basic.get" : tag);
    }

    /// <summary>A delivery the queue gave a consumer actor: the message, and the queue partition actor to report to.</summary>
    private sealed record Taken(WorkerProtocol.Deliver Delivery, IActorRef Queue);

    /// <summary>A delivery sent to the client and not yet acknowledged: whose it is, and which actor holds it for the queue.</summary>
    private sealed record Outstanding(Consumer Owner, WorkerProtocol.Deliver Delivery, IActorRef Queue, IActorRef Actor, long Started);

    /// <summary>A delivery that waits for <c>channel.flow</c> to resume the channel.</summary>
    private sealed record Held(Consumer Owner, WorkerProtocol.Deliver Delivery, IActorRef Queue, IActorRef Actor);

    private readonly Dictionary<IActorRef, Consumer> _byActor = [];
    private readonly Queue<Held> _held = new();
    private bool _flushing;

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
            consumer = new Consumer(tag, consume.Queue, connection.System.ActorOf(AmqpConsumer.Props(this)), consume.NoAck, consume.NoAck ? 0 : Prefetch);
            _consumers[tag] = consumer;
            _byActor[consumer.Actor] = consumer;
        }
        // consume-ok goes out before the first delivery can: the consumer is attached only after it.
        if (!consume.NoWait) await connection.SendAsync(number, new Basic.ConsumeOk(tag));
        try
        {
            await connection.Attachments.AttachAsync(consume.Queue, consumer.Actor, consumer.Prefetch, connection.Closed);
        }
        catch (QueueException e)
        {
            lock (_gate)
            {
                _consumers.Remove(tag);
                _byActor.Remove(consumer.Actor);
            }
            connection.System.Stop(consumer.Actor);
            throw new AmqpChannelException(e.Code == RejectionCode.UnknownQueue ? ReplyCodes.NotFound : ReplyCodes.InternalError,
                ReplyCodes.Text(e.Code == RejectionCode.UnknownQueue ? ReplyCodes.NotFound : ReplyCodes.InternalError, $"queue '{consume.Queue}': {e.Message}"));
        }
    }

    /// <summary>
    /// <c>basic.cancel</c>: the consumer sends nothing more. What it delivered and the client has not acknowledged stays
    /// with the channel, as RabbitMQ keeps it: acks, nacks and rejects of those tags still count, and the consumer's actor
    /// detaches when the last one is settled (its prefetch drops to 1 meanwhile, so the queue gives it nothing new).
    /// </summary>
    private async ValueTask CancelAsync(string tag)
    {
        Consumer? consumer;
        bool now;
        lock (_gate)
        {
            if (!_consumers.Remove(tag, out consumer)) return;
            consumer.Closing = true;
            now = consumer.Unacked == 0;
            if (now) _byActor.Remove(consumer.Actor);
        }
        try
        {
            if (now) await connection.Attachments.DetachAsync(consumer.Queue, consumer.Actor, connection.Closed);
            else await connection.Attachments.AttachAsync(consumer.Queue, consumer.Actor, 1, connection.Closed);
        }
        catch (QueueException)
        {
            // Stopping the actor detaches it as well; a consumer that keeps its prefetch only holds more until it stops.
        }
        if (now) connection.System.Stop(consumer.Actor);
    }

    /// <inheritdoc />
    public void Deliver(WorkerProtocol.Deliver delivery, IActorRef queue, IActorRef consumer)
    {
        // Called on the consumer actor's thread. A delivery to a closed channel, a cancelled consumer or a replaced actor
        // is not sent: the actor keeps it until it stops, and the queue takes it back then.
        if (_closing || _released) return;
        Consumer? owner;
        lock (_gate)
        {
            if (!_byActor.TryGetValue(consumer, out owner)) return;
            if (owner.Get is null)
            {
                if (owner.Closing) return;
                if (!FlowActive || _flushing)
                {
                    _held.Enqueue(new Held(owner, delivery, queue, consumer));
                    return;
                }
            }
        }
        if (owner.Get is not null) owner.Get.TrySetResult(new Taken(delivery, queue));
        else _ = SendDeliveryAsync(owner, delivery, queue, consumer);
    }

    private async Task SendDeliveryAsync(Consumer owner, WorkerProtocol.Deliver delivery, IActorRef queue, IActorRef consumer)
    {
        var header = new ContentHeader(60, (ulong)delivery.Payload.Length, MessageMapping.ToProperties(delivery.Type, delivery.Headers));
        var sent = false;
        await connection.SendAsync(number, () =>
        {
            if (_closing || _released) return null;
            ulong tag;
            lock (_gate)
            {
                // Checked again under the write lock: a cancel-ok or recover-ok sent before this frame means it is not sent.
                if (owner.Closing || !owner.Actor.Equals(consumer)) return null;
                tag = owner.NoAck ? _unacked.Skip() : Track(owner, delivery, queue, consumer);
            }
            sent = true;
            return new Basic.Deliver(owner.Tag, tag, Redelivered(delivery), "", delivery.QueueId);
        }, header, delivery.Payload);
        if (sent && owner.NoAck) queue.Tell(new WorkerProtocol.Completed(delivery.QueueId, delivery.MessageId, delivery.Attempt, null, TimeSpan.Zero), consumer);
    }

    /// <summary>Under the lock: the next tag, for a delivery that waits for the client.</summary>
    private ulong Track(Consumer owner, WorkerProtocol.Deliver delivery, IActorRef queue, IActorRef consumer)
    {
        owner.Unacked++;
        return _unacked.Add(new Outstanding(owner, delivery, queue, consumer, Environment.TickCount64));
    }

    /// <summary>
    /// <c>channel.flow</c>: paused, the channel sends no deliveries and keeps what its consumers get (it counts against
    /// their prefetch, so the queues soon stop giving more); resumed, it sends what it kept, in order, then carries on.
    /// </summary>
    private async ValueTask FlowAsync(bool active)
    {
        bool flush;
        lock (_gate)
        {
            FlowActive = active;
            flush = active && _held.Count > 0;
            if (flush) _flushing = true;
        }
        await connection.SendAsync(number, new Channel.FlowOk(active));
        while (flush)
        {
            Held next;
            lock (_gate)
            {
                if (_held.Count == 0 || !FlowActive)
                {
                    _flushing = false;
                    return;
                }
                next = _held.Dequeue();
            }
            await SendDeliveryAsync(next.Owner, next.Delivery, next.Queue, next.Actor);
        }
    }

    /// <summary>
    /// <c>basic.recover</c> with requeue: every delivery of the channel the client has not acknowledged goes back to its
    /// queue at once, as a consumer that went away hands it back (the same attempt, no error, no retry delay), and is
    /// delivered again with <c>redelivered</c>, to this channel or another consumer. The consumers that held them get a
    /// fresh actor (same tag, same prefetch) and the old one stops; the old delivery tags are no longer valid.
    /// </summary>
    private async ValueTask RecoverAsync(bool requeue)
    {
        if (!requeue)
            throw new AmqpChannelException(ReplyCodes.NotImplemented, ReplyCodes.Text(ReplyCodes.NotImplemented,
                "basic.recover with requeue=false is not supported (as in RabbitMQ): use requeue=true"));
        List<Consumer> owners = [];
        lock (_gate)
        {
            foreach (var o in _unacked.TakeAll())
                if (!owners.Contains(o.Owner)) owners.Add(o.Owner);
            foreach (var owner in owners)
            {
                owner.Unacked = 0;
                _byActor.Remove(owner.Actor);
            }
        }
        foreach (var owner in owners)
        {
            var old = owner.Actor;
            if (!owner.Closing) await ReplaceActorAsync(owner);
            connection.System.Stop(old);
        }
    }

    private async ValueTask ReplaceActorAsync(Consumer owner)
    {
        var fresh = connection.System.ActorOf(AmqpConsumer.Props(this));
        lock (_gate)
        {
            owner.Actor = fresh;
            _byActor[fresh] = owner;
        }
        try
        {
            await connection.Attachments.AttachAsync(owner.Queue, fresh, owner.Prefetch, connection.Closed);
        }
        catch (QueueException)
        {
            // The queue cannot take the consumer back now: the server cancels it, as when its queue goes away.
            lock (_gate)
            {
                owner.Closing = true;
                _consumers.Remove(owner.Tag);
                _byActor.Remove(fresh);
            }
            connection.System.Stop(fresh);
            await connection.SendAsync(number, new Basic.Cancel(owner.Tag, true));
        }
    }

    /// <summary>A message that may have been delivered before (a retry, or handed back by a consumer that went away).</summary>
    private static bool Redelivered(WorkerProtocol.Deliver delivery) => delivery.Redelivered || delivery.Attempt > 1;

    private IReadOnlyList<Outstanding> Take(ulong tag, bool multiple)
    {
        lock (_gate) return _unacked.Take(tag, multiple);
    }

    private static TimeSpan Elapsed(Outstanding o) => TimeSpan.FromMilliseconds(Environment.TickCount64 - o.Started);

    private void Ack(IReadOnlyList<Outstanding> taken) =>
        Settle(taken, o => new WorkerProtocol.Completed(o.Delivery.QueueId, o.Delivery.MessageId, o.Delivery.Attempt, null, Elapsed(o)));

    /// <summary>nack or reject: with requeue, a failed attempt the queue's retry policy handles; without, a dead letter now.</summary>
    private void Refuse(IReadOnlyList<Outstanding> taken, bool requeue) => Settle(taken, o =>
    {
        var error = new ErrorInfo("AmqpReject", requeue ? "The AMQP consumer rejected the message (requeue)." : "The AMQP consumer rejected the message (no requeue): dead-lettered.",
            null, o.Owner.Source, DateTime.UtcNow);
        return new WorkerProtocol.Failed(o.Delivery.QueueId, o.Delivery.MessageId, o.Delivery.Attempt, error,
            requeue ? RequestedFailureAction.FollowPolicy : RequestedFailureAction.DeadLetter, null, Elapsed(o));
    });

    /// <summary>
    /// Reports each settled delivery to its queue (from the actor that holds it), then stops the actors of closing
    /// consumers (cancelled ones, gets) that now hold nothing unacknowledged: reports first, so none is a handback.
    /// </summary>
    private void Settle(IReadOnlyList<Outstanding> taken, Func<Outstanding, object> report)
    {
        foreach (var o in taken) o.Queue.Tell(report(o), o.Actor);
        List<IActorRef>? done = null;
        lock (_gate)
        {
            foreach (var o in taken)
            {
                var owner = o.Owner;
                if (!owner.Actor.Equals(o.Actor)) continue;
                owner.Unacked--;
                if (owner.Closing && owner.Unacked == 0 && _byActor.Remove(o.Actor)) (done ??= []).Add(o.Actor);
            }
        }
        if (done is not null)
            foreach (var actor in done) connection.System.Stop(actor);
    }
}

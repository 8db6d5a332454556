using Actors.Protocol;
using Akka.Actor;

namespace Actors.Amqp;

/// <summary>Where an AMQP consumer's deliveries go: the channel that sends them to the client (<c>basic.deliver</c>, or <c>basic.get-ok</c>).</summary>
internal interface IDeliverySink
{
    /// <summary>A delivery to the consumer actor <paramref name="consumer"/> from <paramref name="queue"/> (the partition actor to report to).</summary>
    void Deliver(WorkerProtocol.Deliver delivery, IActorRef queue, IActorRef consumer);

    /// <summary>The queue of the consumer actor <paramref name="consumer"/> was deleted: the consumer is gone (a server-sent <c>basic.cancel</c>).</summary>
    void QueueDeleted(IActorRef consumer);
}

/// <summary>
/// The worker a <c>basic.consume</c> (or one <c>basic.get</c>) attaches to a queue: it takes the queue's deliveries and
/// hands each to its channel, which sends it to the client and reports the client's ack, nack or reject back to the
/// queue, or keeps it unsent (a cancelled consumer, a get that has its message). Stopping it (its deliveries are
/// settled, <c>basic.recover</c>, its channel or connection closes) makes the queue take back at once what it still holds.
/// </summary>
internal sealed class AmqpConsumer : ReceiveActor
{
    public AmqpConsumer(IDeliverySink sink)
    {
        Receive<WorkerProtocol.Deliver>(delivery => sink.Deliver(delivery, Sender, Self));
        // A lease that expired or a cancelled message: the client may still answer its tag; the queue ignores that report.
        Receive<WorkerProtocol.LeaseExpired>(_ => { });
        Receive<WorkerProtocol.CancelDelivery>(_ => { });
        Receive<ConsumerProtocol.ConsumerCancelled>(_ =>
        {
            sink.QueueDeleted(Self);
            Context.Stop(Self);
        });
    }

    /// <summary>The consumer's props.</summary>
    public static Props Props(IDeliverySink sink) => Akka.Actor.Props.Create(() => new AmqpConsumer(sink));
}

/// <summary>Attaches the actors of AMQP consumers to queues as external workers, and detaches them.</summary>
public interface IConsumerAttachments
{
    /// <summary>Attaches <paramref name="consumer"/> with <paramref name="prefetch"/> (0: unlimited).</summary>
    /// <returns>The queue's answer, with the messages ready when the consumer attached.</returns>
    Task<ConsumerProtocol.Attached> AttachAsync(string queue, IActorRef consumer, int prefetch, CancellationToken cancellationToken);

    /// <summary>Detaches it; what it holds goes back to the queue.</summary>
    Task DetachAsync(string queue, IActorRef consumer, CancellationToken cancellationToken);
}

/// <summary>The node has no external consumers: <c>basic.consume</c> is answered 540 NOT_IMPLEMENTED.</summary>
public sealed class NoConsumerAttachments : IConsumerAttachments
{
    /// <inheritdoc />
    public Task<ConsumerProtocol.Attached> AttachAsync(string queue, IActorRef consumer, int prefetch, CancellationToken cancellationToken) =>
        throw new AmqpChannelException(ReplyCodes.NotImplemented, ReplyCodes.Text(ReplyCodes.NotImplemented, "basic.consume is not supported yet"));

    /// <inheritdoc />
    public Task DetachAsync(string queue, IActorRef consumer, CancellationToken cancellationToken) => Task.CompletedTask;
}

using Actors.Client;
using Akka.Actor;

namespace Actors.Amqp;

/// <summary>Attaches AMQP consumers through the node's queue client: each is an external consumer of the queue (see <c>ConsumerProtocol</c>).</summary>
public sealed class QueueClientConsumerAttachments(IQueueClient queues) : IConsumerAttachments
{
    /// <inheritdoc />
    public Task<Protocol.ConsumerProtocol.Attached> AttachAsync(string queue, IActorRef consumer, int prefetch, CancellationToken cancellationToken) =>
        queues.AttachConsumerAsync(queue, consumer, prefetch, cancellationToken);

    /// <inheritdoc />
    public Task DetachAsync(string queue, IActorRef consumer, CancellationToken cancellationToken) =>
        queues.DetachConsumerAsync(queue, consumer, cancellationToken);
}

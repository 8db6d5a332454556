using Akka.Actor;

namespace Actors.Protocol;

/// <summary>
/// External consumers: actors outside the queue's own pool (an AMQP channel's consumer, for one) that take deliveries
/// from a queue. A consumer is a worker like any other: once attached it gets ordinary
/// <see cref="WorkerProtocol.Deliver"/> messages from the queue (their sender is the queue partition's actor) and
/// answers each with <see cref="WorkerProtocol.Completed"/> or <see cref="WorkerProtocol.Failed"/> to that sender, as a
/// pool worker does. Its deliveries are leases: one not answered within the queue's lease fails as an attempt (the
/// consumer gets <see cref="WorkerProtocol.LeaseExpired"/> and stays attached), and a consumer that detaches or stops
/// hands back everything it holds at once. A cancelled message's delivery is recalled with
/// <see cref="WorkerProtocol.CancelDelivery"/>; a later report of it is ignored.
/// <para>Attached consumers share dispatch with the pool's workers: the queue gives the next message to the
/// least-loaded of all of them below its prefetch, and a paused or draining queue delivers to none. A queue with
/// <c>Workers: 0</c> has no pool and delivers only to consumers.</para>
/// <para>Send <see cref="Attach"/> and <see cref="Detach"/> through the node's queue manager (or use
/// <see cref="Client.IQueueClient.AttachConsumerAsync"/>). A queue with partitions is one actor per partition: the
/// manager attaches the consumer to every partition, each with the prefetch divided by the partition count (rounded
/// up, at least 1), and merges the answers. For a queue that does not exist the answer is
/// <see cref="QueueQueries.QueueNotFound"/>; for one that cannot answer now (restarting, draining),
/// <see cref="QueueQueries.QueueUnavailable"/>.</para>
/// <para>Attachments live in memory, and the attachment outlives the queue actor. When a queue partition restarts in
/// place (after a crash or a journal failure) its host attaches the consumers it forwarded again at once; when it moves
/// to another node (a cluster hand-over) the queue manager of the node the consumer attached through attaches it again
/// within its wake interval (2 s). The deliveries the consumer held from the previous incarnation are delivered again
/// (their reports to the stopped actor are lost), with the same attempt number: the sender of a
/// <see cref="WorkerProtocol.Deliver"/> is the incarnation to report to.</para>
/// </summary>
public static class ConsumerProtocol
{
    /// <summary>
    /// Most unfinished deliveries one consumer may hold from one queue partition: an <see cref="Attach"/> with a larger
    /// prefetch, or with 0 (unlimited), gets this many.
    /// </summary>
    public const int MaxPrefetch = 1000;

    /// <summary>
    /// Attach <paramref name="Consumer"/> to a queue; answered with <see cref="Attached"/>. The queue watches the consumer
    /// (its stopping, or its node's, is a <see cref="Detach"/>) and delivers to it whenever it holds fewer than
    /// <paramref name="Prefetch"/> unfinished deliveries. Attaching a consumer again changes its prefetch.
    /// </summary>
    /// <param name="QueueId">The queue's name.</param>
    /// <param name="Consumer">The actor that takes the deliveries and reports on them.</param>
    /// <param name="Prefetch">Most unfinished deliveries at once, 1–<see cref="MaxPrefetch"/>; 0 for unlimited (which is <see cref="MaxPrefetch"/>).</param>
    public sealed record Attach(string QueueId, IActorRef Consumer, int Prefetch) : IWithQueueId, IQueueMessage;

    /// <summary>The consumer is attached.</summary>
    /// <param name="QueueId">The queue's name.</param>
    /// <param name="ReadyCount">Messages waiting for a worker or consumer when the consumer attached (summed over partitions).</param>
    /// <param name="ConsumerCount">Consumers attached to the queue, this one included (the most any partition has).</param>
    public sealed record Attached(string QueueId, int ReadyCount, int ConsumerCount) : IWithQueueId, IQueueMessage;

    /// <summary>
    /// Detach a consumer; answered with <see cref="Detached"/> (also when it was not attached). Every delivery it still
    /// holds goes back to the queue at once and is ready for another worker or consumer: this is not a failed attempt
    /// (no retry delay, no error recorded, not counted against MaxAttempts), so the next delivery of such a message keeps
    /// its <see cref="WorkerProtocol.Deliver.Attempt"/> and carries <see cref="WorkerProtocol.Deliver.Redelivered"/>.
    /// Reports the consumer sends after it detached are ignored.
    /// </summary>
    /// <param name="QueueId">The queue's name.</param>
    /// <param name="Consumer">The consumer to detach.</param>
    public sealed record Detach(string QueueId, IActorRef Consumer) : IWithQueueId, IQueueMessage;

    /// <summary>The consumer is detached and what it held is back in the queue.</summary>
    /// <param name="QueueId">The queue's name.</param>
    public sealed record Detached(string QueueId) : IWithQueueId, IQueueMessage;

    /// <summary>
    /// Sent by a queue to each attached consumer when the queue is deleted (see <see cref="QueueLifecycle.Delete"/>):
    /// the consumer is detached, and its deliveries are void (reports of them are ignored; the messages are gone).
    /// </summary>
    /// <param name="QueueId">The queue's name.</param>
    public sealed record ConsumerCancelled(string QueueId) : IWithQueueId, IQueueMessage;

    /// <summary>The prefetch a consumer gets for <paramref name="requested"/>: 0, negative or above <see cref="MaxPrefetch"/> → <see cref="MaxPrefetch"/>.</summary>
    public static int EffectivePrefetch(int requested) => requested is <= 0 or > MaxPrefetch ? MaxPrefetch : requested;

    /// <summary>
    /// A partition's share of a consumer's prefetch: <paramref name="prefetch"/> (after <see cref="EffectivePrefetch"/>)
    /// divided by <paramref name="partitions"/>, rounded up, at least 1.
    /// </summary>
    public static int PartitionShare(int prefetch, int partitions) =>
        Math.Max(1, (EffectivePrefetch(prefetch) + partitions - 1) / Math.Max(1, partitions));
}

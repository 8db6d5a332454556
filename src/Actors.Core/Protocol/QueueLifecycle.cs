namespace Actors.Protocol;

/// <summary>
/// Emptying and removing a whole queue: <see cref="Purge"/> drops every message waiting for delivery (the
/// operator's "start over" for a backlog nobody wants), <see cref="Delete"/> removes a queue declared at run time
/// with everything it holds (see <see cref="QueueRegistryProtocol"/>).
/// </summary>
public static class QueueLifecycle
{
    /// <summary>
    /// Drop every message of a queue partition that waits for delivery (ready, delayed, or waiting for a retry), in one
    /// journal event; messages in flight (leased to a worker or consumer) and dead letters stay. A purged message ends as
    /// a cancelled one (its idempotency key answers with its id and status <c>cancelled</c> for the key's window).
    /// Answered with <see cref="Purged"/> once stored (a queue with partitions: every partition, summed), or with
    /// <see cref="QueueQueries.QueueUnavailable"/> when the journal does not store it (nothing changed).
    /// </summary>
    /// <param name="QueueId">The queue's name (or a partition's entity id).</param>
    public sealed record Purge(string QueueId) : IWithQueueId, IQueueMessage;

    /// <summary>The answer to <see cref="Purge"/>.</summary>
    /// <param name="QueueId">The queue.</param>
    /// <param name="Count">Messages purged.</param>
    public sealed record Purged(string QueueId, int Count) : IWithQueueId, IQueueMessage;

    /// <summary>
    /// Delete a queue declared at run time; sent to the queue manager, answered with <see cref="Deleted"/> or
    /// <see cref="DeleteRefused"/> (or <see cref="QueueQueries.QueueNotFound"/>, <see cref="QueueQueries.QueueUnavailable"/>).
    /// </summary>
    /// <param name="Queue">The queue's name.</param>
    /// <param name="IfUnused">Refuse when consumers are attached.</param>
    /// <param name="IfEmpty">Refuse when the queue holds messages (ready, in flight or scheduled).</param>
    public sealed record Delete(string Queue, bool IfUnused = false, bool IfEmpty = false) : IQueueMessage;

    /// <summary>The queue was deleted: it is unknown from now on, and declaring it again starts it empty.</summary>
    /// <param name="Queue">The queue.</param>
    /// <param name="MessageCount">Messages it held (ready, in flight and scheduled) when it was deleted.</param>
    public sealed record Deleted(string Queue, int MessageCount) : IQueueMessage;

    /// <summary>Why a delete was refused (nothing changed).</summary>
    public enum DeleteRefusalReason
    {
        /// <summary>The queue comes from the node's configuration; only queues declared at run time can be deleted.</summary>
        Configured = 0,

        /// <summary>Consumers are attached and the delete asked <see cref="Delete.IfUnused"/>.</summary>
        InUse = 1,

        /// <summary>The queue holds messages and the delete asked <see cref="Delete.IfEmpty"/>.</summary>
        NotEmpty = 2,
    }

    /// <summary>The answer to a delete that was refused.</summary>
    /// <param name="Queue">The queue.</param>
    /// <param name="Refusal">Why.</param>
    /// <param name="Reason">Human-readable.</param>
    public sealed record DeleteRefused(string Queue, DeleteRefusalReason Refusal, string Reason) : IQueueMessage;

    /// <summary>
    /// Sent by the deletion to each partition of a queue being deleted: the partition tells its consumers
    /// (<see cref="ConsumerProtocol.ConsumerCancelled"/>), stops its workers, deletes its journal and snapshots and stops;
    /// answered with <see cref="PartitionRetired"/> once the deletes are done.
    /// </summary>
    /// <param name="QueueId">The partition's entity id.</param>
    public sealed record RetirePartition(string QueueId) : IWithQueueId, IQueueMessage;

    /// <summary>The answer to <see cref="RetirePartition"/>.</summary>
    /// <param name="QueueId">The partition's entity id.</param>
    /// <param name="MessageCount">Messages it held (ready, in flight, scheduled).</param>
    public sealed record PartitionRetired(string QueueId, int MessageCount) : IWithQueueId, IQueueMessage;

    /// <summary>
    /// Sent by the deletion, once the registry stored the removal, to each partition's sharding entity: a retired host
    /// passivates now, so a queue declared again under the name starts in a new entity with its new options. Ignored by
    /// a host whose queue runs.
    /// </summary>
    /// <param name="QueueId">The partition's entity id.</param>
    public sealed record PartitionGone(string QueueId) : IWithQueueId, IQueueMessage;
}

using System.Collections.Immutable;

namespace Actors.Protocol;

/// <summary>Messages between a queue and the workers of its consumer pool.</summary>
public static class WorkerProtocol
{
    /// <summary>Run one message. The worker answers <see cref="Completed"/> or <see cref="Failed"/> to the sender.</summary>
    /// <param name="QueueId">The queue the message belongs to.</param>
    /// <param name="MessageId">The message id within the queue.</param>
    /// <param name="Attempt">The attempt number (1 for the first delivery); replies must echo it.</param>
    /// <param name="Type">The message type name.</param>
    /// <param name="Payload">The payload bytes.</param>
    /// <param name="Headers">The message's headers.</param>
    /// <param name="EnqueuedAt">When the message was accepted (UTC).</param>
    /// <param name="Lease">How long the worker has before the queue gives the message to someone else.</param>
    /// <param name="Redelivered">
    /// True when the message may have been delivered before: an earlier attempt failed or ran out of lease
    /// (<paramref name="Attempt"/> &gt; 1), or a consumer that held it detached or stopped without reporting, which hands
    /// it back without counting an attempt (the attempt number stays). A delivery of an attempt that was in flight when
    /// the queue restarted is repeated with the same attempt and without this flag.
    /// </param>
    public sealed record Deliver(
        string QueueId,
        long MessageId,
        int Attempt,
        string Type,
        ReadOnlyMemory<byte> Payload,
        ImmutableDictionary<string, string> Headers,
        DateTime EnqueuedAt,
        TimeSpan Lease,
        bool Redelivered = false) : IWithQueueId, IQueueMessage;

    /// <summary>The handler finished; <paramref name="Result"/> is stored with the message.</summary>
    public sealed record Completed(string QueueId, long MessageId, int Attempt, ReadOnlyMemory<byte>? Result, TimeSpan ServiceTime)
        : IWithQueueId, IQueueMessage;

    /// <summary>The attempt failed. The queue's retry policy decides what happens next.</summary>
    /// <param name="QueueId">The queue.</param>
    /// <param name="MessageId">The message.</param>
    /// <param name="Attempt">The failed attempt.</param>
    /// <param name="Error">What went wrong.</param>
    /// <param name="Requested">What the handler asked for, if anything.</param>
    /// <param name="RetryAfter">The delay asked for with <see cref="RequestedFailureAction.RetryAfter"/> or <see cref="RequestedFailureAction.RetryLater"/>.</param>
    /// <param name="ServiceTime">How long the handler ran.</param>
    public sealed record Failed(
        string QueueId,
        long MessageId,
        int Attempt,
        ErrorInfo Error,
        RequestedFailureAction Requested,
        TimeSpan? RetryAfter,
        TimeSpan ServiceTime) : IWithQueueId, IQueueMessage;

    /// <summary>The queue gave up waiting for this attempt: cancel the handler's token.</summary>
    public sealed record LeaseExpired(string QueueId, long MessageId, int Attempt) : IWithQueueId, IQueueMessage;

    /// <summary>The message was cancelled while this attempt ran: cancel the handler's token; no report is expected.</summary>
    public sealed record CancelDelivery(string QueueId, long MessageId, int Attempt) : IWithQueueId, IQueueMessage;
}

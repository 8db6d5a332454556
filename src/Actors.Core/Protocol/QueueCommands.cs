using System.Collections.Immutable;

namespace Actors.Protocol;

/// <summary>Commands a producer sends to a queue, and the queue's replies.</summary>
public static class QueueCommands
{
    /// <summary>
    /// Hand one message to a queue. The queue replies <see cref="Accepted"/> once the message is durably stored,
    /// or <see cref="Rejected"/>; both echo <paramref name="CorrelationId"/>.
    /// </summary>
    /// <param name="QueueId">The queue's name.</param>
    /// <param name="Type">The message type name; selects the handler.</param>
    /// <param name="Payload">The payload bytes (JSON for typed handlers).</param>
    /// <param name="Headers">Optional headers, kept with the message and shown to the handler.</param>
    /// <param name="CorrelationId">Any number the producer chooses; echoed in the reply.</param>
    public sealed record Enqueue(
        string QueueId,
        string Type,
        ReadOnlyMemory<byte> Payload,
        ImmutableDictionary<string, string>? Headers = null,
        long CorrelationId = 0) : IWithQueueId, IQueueMessage;

    /// <summary>One message of an <see cref="EnqueueBatch"/>.</summary>
    public sealed record NewMessage(string Type, ReadOnlyMemory<byte> Payload, ImmutableDictionary<string, string>? Headers = null);

    /// <summary>
    /// Hand many messages to a queue at once. Each is accepted or rejected on its own; the queue answers with one
    /// <see cref="BatchResult"/> after every accepted message is stored.
    /// </summary>
    public sealed record EnqueueBatch(string QueueId, ImmutableArray<NewMessage> Messages, long CorrelationId = 0)
        : IWithQueueId, IQueueMessage;

    /// <summary>The message is durably stored under <paramref name="MessageId"/>.</summary>
    public sealed record Accepted(string QueueId, long MessageId, long CorrelationId) : IWithQueueId, IQueueMessage;

    /// <summary>The message was not accepted; nothing was stored.</summary>
    public sealed record Rejected(string QueueId, RejectionCode Code, string Reason, long CorrelationId)
        : IWithQueueId, IQueueMessage;

    /// <summary>The outcome of one message of a batch: an id when accepted, otherwise a code and reason.</summary>
    public sealed record EnqueueOutcome(long? MessageId, RejectionCode? Code, string? Reason)
    {
        /// <summary>True when the message was stored.</summary>
        public bool IsAccepted => MessageId.HasValue;
    }

    /// <summary>Per-message outcomes of an <see cref="EnqueueBatch"/>, in the batch's order.</summary>
    public sealed record BatchResult(string QueueId, ImmutableArray<EnqueueOutcome> Outcomes, long CorrelationId)
        : IWithQueueId, IQueueMessage;

    /// <summary>Stop accepting work, finish in-flight deliveries (up to the drain timeout) and reply <see cref="Drained"/>.</summary>
    public sealed class Drain : IQueueMessage
    {
        /// <summary>The single instance.</summary>
        public static readonly Drain Instance = new();
        private Drain() { }
    }

    /// <summary>A queue (or the whole manager) finished draining.</summary>
    /// <param name="QueueId">The queue, or <c>*</c> for all queues of a node.</param>
    /// <param name="Unfinished">Deliveries still running at the timeout; they will be redelivered after restart.</param>
    public sealed record Drained(string QueueId, int Unfinished) : IQueueMessage;

    /// <summary>
    /// Starts a queue if it is not running (in a cluster: on its shard's current node) and does nothing else. The
    /// queue manager sends it for every declared queue periodically and when a member leaves, so a queue with
    /// pending work resumes on its new node without waiting for a producer.
    /// </summary>
    public sealed record WakeUp(string QueueId) : IWithQueueId, IQueueMessage;
}

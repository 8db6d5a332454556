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
    /// <param name="IdempotencyKey">
    /// Names the request: within the queue's de-duplication window, the same key with the same request is answered
    /// with the first answer (<see cref="Accepted.Replayed"/>) instead of storing a second message. At most
    /// <see cref="MaxIdempotencyKeyLength"/> characters.
    /// </param>
    /// <param name="Timing">When the message may start and when it expires; null for "now, never".</param>
    public sealed record Enqueue(
        string QueueId,
        string Type,
        ReadOnlyMemory<byte> Payload,
        ImmutableDictionary<string, string>? Headers = null,
        long CorrelationId = 0,
        string? IdempotencyKey = null,
        MessageTiming? Timing = null) : IWithQueueId, IQueueMessage;

    /// <summary>One message of an <see cref="EnqueueBatch"/>; the fields mean what they mean on <see cref="Enqueue"/>.</summary>
    public sealed record NewMessage(
        string Type,
        ReadOnlyMemory<byte> Payload,
        ImmutableDictionary<string, string>? Headers = null,
        string? IdempotencyKey = null,
        MessageTiming? Timing = null);

    /// <summary>Longest idempotency key, in characters.</summary>
    public const int MaxIdempotencyKeyLength = 255;

    /// <summary>
    /// When a message may start and when it stops being worth running. Relative values count from the moment the
    /// queue receives the request. Give at most one of <paramref name="DeliverAt"/> and <paramref name="Delay"/>,
    /// and at most one of <paramref name="ExpiresAt"/> and <paramref name="Ttl"/>.
    /// </summary>
    /// <param name="DeliverAt">Not before this time (UTC); in the past means now.</param>
    /// <param name="Delay">Not before this long after receipt; zero or negative means now.</param>
    /// <param name="ExpiresAt">Not started by this time (UTC) → expired, never run.</param>
    /// <param name="Ttl">Not started within this long after receipt → expired, never run.</param>
    public sealed record MessageTiming(DateTime? DeliverAt = null, TimeSpan? Delay = null, DateTime? ExpiresAt = null, TimeSpan? Ttl = null)
    {
        /// <summary>No delay, no expiry.</summary>
        public static readonly MessageTiming None = new();

        /// <summary>Starts no earlier than <paramref name="at"/>.</summary>
        public static MessageTiming At(DateTime at) => new(DeliverAt: at);

        /// <summary>Starts no earlier than <paramref name="delay"/> after receipt.</summary>
        public static MessageTiming After(TimeSpan delay) => new(Delay: delay);
    }

    /// <summary>
    /// Hand many messages to a queue at once. Each is accepted or rejected on its own; the queue answers with one
    /// <see cref="BatchResult"/> after every accepted message is stored.
    /// </summary>
    public sealed record EnqueueBatch(string QueueId, ImmutableArray<NewMessage> Messages, long CorrelationId = 0)
        : IWithQueueId, IQueueMessage;

    /// <summary>
    /// The message is durably stored under <paramref name="MessageId"/>. <paramref name="Replayed"/> is true when
    /// an earlier request with the same idempotency key stored it and this one stored nothing.
    /// </summary>
    public sealed record Accepted(string QueueId, long MessageId, long CorrelationId, bool Replayed = false) : IWithQueueId, IQueueMessage;

    /// <summary>The message was not accepted; nothing was stored.</summary>
    public sealed record Rejected(string QueueId, RejectionCode Code, string Reason, long CorrelationId)
        : IWithQueueId, IQueueMessage;

    /// <summary>The outcome of one message of a batch: an id when accepted, otherwise a code and reason.</summary>
    /// <param name="MessageId">The message's id when accepted.</param>
    /// <param name="Code">Why it was refused.</param>
    /// <param name="Reason">Why it was refused, for people.</param>
    /// <param name="Replayed">True when an earlier request with the same idempotency key stored it.</param>
    public sealed record EnqueueOutcome(long? MessageId, RejectionCode? Code, string? Reason, bool Replayed = false)
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

    /// <summary>
    /// Cancel a message: a queued, scheduled or retry-waiting one never runs; an in-flight one has its handler's
    /// cancellation token fired and is not retried. Answered with <see cref="CancelResult"/> once the cancellation
    /// is stored.
    /// </summary>
    public sealed record CancelMessage(string QueueId, long MessageId, long CorrelationId = 0) : IWithQueueId, IQueueMessage;

    /// <summary>What a <see cref="CancelMessage"/> did.</summary>
    /// <param name="QueueId">The queue.</param>
    /// <param name="MessageId">The message.</param>
    /// <param name="Outcome">Cancelled, or why not.</param>
    /// <param name="PreviousStatus">The message's status before the cancellation, when the queue knows it.</param>
    /// <param name="CorrelationId">Echoed from the command.</param>
    public sealed record CancelResult(string QueueId, long MessageId, CancelOutcome Outcome, MessageStatus? PreviousStatus, long CorrelationId)
        : IWithQueueId, IQueueMessage;
}

/// <summary>The outcome of a <see cref="QueueCommands.CancelMessage"/>.</summary>
public enum CancelOutcome
{
    /// <summary>Cancelled and stored; it never runs (again).</summary>
    Cancelled = 0,

    /// <summary>The queue holds no such message.</summary>
    NotFound = 1,

    /// <summary>The message already finished (succeeded, dead-lettered, discarded, expired or cancelled).</summary>
    AlreadyFinished = 2,

    /// <summary>The journal could not store the cancellation; nothing changed.</summary>
    JournalUnavailable = 3,
}

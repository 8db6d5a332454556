using System.Collections.Immutable;

namespace Actors.Protocol;

/// <summary>
/// The events a queue persists. Hot events carry many messages each (group commit): one
/// <see cref="MessagesEnqueued"/> per batch of accepted messages, one <see cref="MessagesAcked"/> per batch of
/// completions.
/// </summary>
public static class QueueEvents
{
    /// <summary>Marker for the events of a queue's journal.</summary>
    public interface IQueueEvent : IQueueMessage;

    /// <summary>One accepted message as stored.</summary>
    /// <param name="Id">The message id.</param>
    /// <param name="Type">The message type name.</param>
    /// <param name="Payload">The payload bytes.</param>
    /// <param name="Headers">The headers.</param>
    /// <param name="EnqueuedAt">When the queue received it (UTC).</param>
    /// <param name="DueAt">Not to start before this time (UTC); null when it may start at once.</param>
    /// <param name="ExpiresAt">Not to start after this time (UTC); null when it never expires.</param>
    /// <param name="IdempotencyKey">The producer's idempotency key, if any.</param>
    /// <param name="Fingerprint">A hash of what was asked, to tell a replay of the same request from a different one under the same key.</param>
    public sealed record EnqueuedMessage(
        long Id,
        string Type,
        ReadOnlyMemory<byte> Payload,
        ImmutableDictionary<string, string> Headers,
        DateTime EnqueuedAt,
        DateTime? DueAt = null,
        DateTime? ExpiresAt = null,
        string? IdempotencyKey = null,
        ulong Fingerprint = 0);

    /// <summary>A batch of messages was accepted.</summary>
    public sealed record MessagesEnqueued(ImmutableArray<EnqueuedMessage> Messages) : IQueueEvent;

    /// <summary>One successful completion as stored.</summary>
    public sealed record AckedMessage(long Id, int Attempt, ReadOnlyMemory<byte>? Result, DateTime CompletedAt);

    /// <summary>A batch of messages finished successfully.</summary>
    public sealed record MessagesAcked(ImmutableArray<AckedMessage> Acks) : IQueueEvent;

    /// <summary>An attempt failed and the next one is due at <paramref name="DueAt"/>.</summary>
    public sealed record RetryScheduled(long Id, int Attempt, ErrorInfo Error, DateTime DueAt) : IQueueEvent;

    /// <summary>
    /// An attempt failed and the message moved to the dead-letter set. <paramref name="Parked"/>: a keyed message that
    /// also parks its key (the queue's <c>KeyFailure</c> is <c>Park</c>), so nothing of the key starts until an operator
    /// releases (redrives), skips or purges it.
    /// </summary>
    public sealed record DeadLettered(long Id, int Attempt, ErrorInfo Error, string Reason, bool Parked = false) : IQueueEvent;

    /// <summary>An operator skipped a parked message: it stays a dead letter, and the rest of its key goes on.</summary>
    public sealed record ParkedMessageSkipped(long Id, DateTime At) : IQueueEvent;

    /// <summary>An operator purged a parked key: its parked dead letter is deleted and its waiting messages cancelled.</summary>
    public sealed record KeyPurged(string Key, ImmutableArray<long> Ids, DateTime At) : IQueueEvent;

    /// <summary>An operator paused the queue: it accepts messages but starts no deliveries until <see cref="QueueResumed"/>.</summary>
    public sealed record QueuePaused(string? By, string? Reason, DateTime At) : IQueueEvent;

    /// <summary>An operator resumed a paused queue: deliveries start again.</summary>
    public sealed record QueueResumed(string? By, DateTime At) : IQueueEvent;

    /// <summary>An attempt failed and a discard rule dropped the message (recorded, counted).</summary>
    public sealed record Discarded(long Id, int Attempt, ErrorInfo Error) : IQueueEvent;

    /// <summary>An operator moved these dead letters back to the ready set, with a fresh attempt count.</summary>
    public sealed record DeadLettersRedrivenEvent(ImmutableArray<long> Ids, DateTime At) : IQueueEvent;

    /// <summary>A producer or operator cancelled the message; it never runs again.</summary>
    public sealed record MessageCancelled(long Id, DateTime At) : IQueueEvent;

    /// <summary>
    /// An operator purged the queue: these messages, all waiting for delivery (ready or scheduled), never run; each ends
    /// as a cancelled message.
    /// </summary>
    public sealed record MessagesPurged(ImmutableArray<long> Ids, DateTime At) : IQueueEvent;

    /// <summary>These messages were not started before they expired: dead-lettered (reason <c>expired</c>) or dropped.</summary>
    public sealed record MessagesExpired(ImmutableArray<long> Ids, DateTime At, bool DeadLettered) : IQueueEvent;

    /// <summary>An operator deleted these dead letters.</summary>
    public sealed record DeadLettersPurgedEvent(ImmutableArray<long> Ids, DateTime At) : IQueueEvent;

    /// <summary>
    /// The follow-ups of these messages (see <see cref="Continuation"/>) were stored by their target queues (or refused
    /// for good): they are no longer pending, and each message's status names its follow-up.
    /// </summary>
    public sealed record FollowUpsSent(ImmutableArray<SentFollowUp> FollowUps) : IQueueEvent;

    /// <summary>
    /// One follow-up that left the queue: message <paramref name="Id"/>'s follow-up of <paramref name="Kind"/> went to
    /// <paramref name="Queue"/> as message <paramref name="FollowUpId"/>, or was refused for good (<paramref name="FollowUpId"/>
    /// 0, <paramref name="Error"/> says why).
    /// </summary>
    public sealed record SentFollowUp(long Id, FollowUpKind Kind, string Queue, long FollowUpId, string? Error = null);

    /// <summary>One payload or result kept in a queue's archive stream.</summary>
    /// <param name="Id">The message it belongs to.</param>
    /// <param name="IsResult">True for a succeeded message's result, false for a dead letter's payload.</param>
    /// <param name="Bytes">The payload or result.</param>
    public sealed record ArchivedPayload(long Id, bool IsResult, ReadOnlyMemory<byte> Bytes);

    /// <summary>
    /// The one event of a queue's archive stream (<c>queue-{name}-{partition}-archive</c>): payloads of dead letters and
    /// results of succeeded messages that left memory, read back by sequence number when they are needed.
    /// </summary>
    public sealed record PayloadsArchived(ImmutableArray<ArchivedPayload> Items) : IQueueMessage;
}

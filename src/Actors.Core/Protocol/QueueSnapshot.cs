using System.Collections.Immutable;

namespace Actors.Protocol;

/// <summary>A queue's whole durable state at one journal position; recovery starts from the newest one.</summary>
/// <param name="LastId">The highest message id handed out.</param>
/// <param name="Totals">Lifetime counters.</param>
/// <param name="Messages">Every message the queue holds: waiting, scheduled and dead-lettered.</param>
/// <param name="Succeeded">The retained finished messages (succeeded, cancelled, expired), oldest first.</param>
/// <param name="IdempotencyKeys">The remembered idempotency keys, oldest first (default: none).</param>
public sealed record QueueSnapshot(
    long LastId,
    QueueTotals Totals,
    ImmutableArray<SnapshotMessage> Messages,
    ImmutableArray<SnapshotSucceeded> Succeeded,
    ImmutableArray<IdempotencyRecord> IdempotencyKeys = default) : IQueueMessage
{
    /// <summary>Follow-ups derived from outcomes and not yet stored by their target queues (default: none).</summary>
    public ImmutableArray<PendingFollowUp> FollowUps { get; init; }

    /// <summary>The follow-ups already sent, of the messages the queue still reports on (default: none).</summary>
    public ImmutableArray<QueueEvents.SentFollowUp> SentFollowUps { get; init; }

    /// <summary>The pause in force (see <see cref="PauseCommands"/>); null while the queue runs (and in snapshots older than S6).</summary>
    public QueuePause? Pause { get; init; }
}

/// <summary>
/// A follow-up the queue owes: message <paramref name="Id"/>'s outcome of <paramref name="Kind"/> calls for
/// <paramref name="Type"/> with <paramref name="Payload"/> and <paramref name="Headers"/> in <paramref name="Queue"/>,
/// enqueued with the idempotency key <see cref="Continuation.IdempotencyKey"/>.
/// </summary>
public sealed record PendingFollowUp(long Id, FollowUpKind Kind, string Queue, string Type, ReadOnlyMemory<byte> Payload, ImmutableDictionary<string, string> Headers);

/// <summary>A queue's lifetime counters.</summary>
public sealed record QueueTotals(long Enqueued, long Succeeded, long FailedAttempts, long DeadLettered, long Discarded, long Expired = 0, long Cancelled = 0)
{
    /// <summary>All zero.</summary>
    public static readonly QueueTotals Zero = new(0, 0, 0, 0, 0);
}

/// <summary>A remembered idempotency key: the message it stored, the request's fingerprint and when it was accepted.</summary>
public sealed record IdempotencyRecord(string Key, long MessageId, ulong Fingerprint, DateTime AcceptedAt);

/// <summary>Where a message stands in a snapshot.</summary>
public enum SnapshotStage
{
    /// <summary>Waiting for a worker (a delivery in flight at snapshot time is stored as Ready).</summary>
    Ready = 0,
    /// <summary>Waiting for a due time (a delayed message, or a retry).</summary>
    Scheduled = 1,
    /// <summary>In the dead-letter set.</summary>
    DeadLettered = 2,
    /// <summary>In the dead-letter set, keeping its key parked.</summary>
    Parked = 3,
}

/// <summary>
/// One held message in a snapshot. <paramref name="SequenceNr"/> is the journal event that holds the payload (then
/// <paramref name="Payload"/> is empty), or 0 when the payload is stored here or, for a dead letter (or one redriven
/// from there), in the queue's archive event <paramref name="ArchiveSeq"/>. <paramref name="PayloadLength"/> is the
/// payload's size wherever it is (0 in snapshots older than S4).
/// </summary>
public sealed record SnapshotMessage(
    long Id,
    string Type,
    ReadOnlyMemory<byte> Payload,
    ImmutableDictionary<string, string> Headers,
    DateTime EnqueuedAt,
    int FailedAttempts,
    ImmutableList<ErrorInfo> Errors,
    SnapshotStage Stage,
    DateTime DueAt,
    string? DeadLetterReason,
    DateTime? FinishedAt,
    long SequenceNr = 0,
    DateTime? ExpiresAt = null,
    long ArchiveSeq = 0,
    int PayloadLength = 0);

/// <summary>
/// One retained finished message in a snapshot (succeeded unless <paramref name="Status"/> says otherwise); its result is
/// here, or in the queue's archive event <paramref name="ArchiveSeq"/> when that is not 0. <paramref name="TraceParent"/> is the
/// message's <see cref="MessageHeaders.TraceParent"/> header, if it had one (null in snapshots older than S6).
/// </summary>
public sealed record SnapshotSucceeded(long Id, string Type, int Attempts, DateTime EnqueuedAt, DateTime CompletedAt, ReadOnlyMemory<byte>? Result,
    MessageStatus Status = MessageStatus.Succeeded, long ArchiveSeq = 0, string? TraceParent = null);

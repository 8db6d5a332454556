using System.Collections.Immutable;

namespace Actors.Protocol;

/// <summary>A queue's whole durable state at one journal position; recovery starts from the newest one.</summary>
/// <param name="LastId">The highest message id handed out.</param>
/// <param name="Totals">Lifetime counters.</param>
/// <param name="Messages">Every message the queue holds: waiting, scheduled and dead-lettered.</param>
/// <param name="Succeeded">The retained succeeded messages, oldest first.</param>
public sealed record QueueSnapshot(
    long LastId,
    QueueTotals Totals,
    ImmutableArray<SnapshotMessage> Messages,
    ImmutableArray<SnapshotSucceeded> Succeeded) : IQueueMessage;

/// <summary>A queue's lifetime counters.</summary>
public sealed record QueueTotals(long Enqueued, long Succeeded, long FailedAttempts, long DeadLettered, long Discarded)
{
    /// <summary>All zero.</summary>
    public static readonly QueueTotals Zero = new(0, 0, 0, 0, 0);
}

/// <summary>Where a message stands in a snapshot.</summary>
public enum SnapshotStage
{
    /// <summary>Waiting for a worker (a delivery in flight at snapshot time is stored as Ready).</summary>
    Ready = 0,
    /// <summary>Waiting for a retry's due time.</summary>
    Scheduled = 1,
    /// <summary>In the dead-letter set.</summary>
    DeadLettered = 2,
}

/// <summary>
/// One held message in a snapshot. <paramref name="SequenceNr"/> is the journal event that holds the payload (then
/// <paramref name="Payload"/> is empty), or 0 when the payload is stored here.
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
    long SequenceNr = 0);

/// <summary>One retained succeeded message in a snapshot.</summary>
public sealed record SnapshotSucceeded(long Id, string Type, int Attempts, DateTime EnqueuedAt, DateTime CompletedAt, ReadOnlyMemory<byte>? Result);

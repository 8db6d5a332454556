using System.Collections.Immutable;
using Actors.Protocol;

namespace Actors.State;

/// <summary>Where a message held by a queue is. The delivery stages are volatile: a restart turns them back into Ready.</summary>
internal enum Stage : byte
{
    Ready,
    InFlight,
    /// <summary>The worker reported success; the acknowledgement is waiting for its journal write.</summary>
    Completing,
    /// <summary>The attempt failed; the policy's decision is waiting for its journal write.</summary>
    Failing,
    /// <summary>Waiting for a due time: a delayed message, or a retry's backoff.</summary>
    Scheduled,
    DeadLettered,
    /// <summary>Cancelled or expired; the decision is waiting for its journal write.</summary>
    Ending,
    /// <summary>Acknowledged, discarded or purged: no longer held.</summary>
    Gone,
}

/// <summary>
/// A message the queue holds, with its durable history and its current delivery. Kept small: a deep backlog holds
/// one of these per message, so what only failed messages need lives in a <see cref="FailureHistory"/> allocated on
/// the first failure, and the payload may be absent from memory (<see cref="HasPayload"/> false) while the journal
/// event at <see cref="SequenceNr"/> holds it.
/// </summary>
internal sealed class StoredMessage
{
    /// <summary>Errors kept per message; the oldest are dropped past this.</summary>
    public const int MaxErrorsKept = 20;

    private FailureHistory? _history;

    public StoredMessage(long id, string type, ReadOnlyMemory<byte> payload, ImmutableDictionary<string, string> headers, DateTime enqueuedAt, long sequenceNr = 0, bool hasPayload = true)
    {
        Id = id;
        Type = type;
        Payload = hasPayload ? payload : default;
        HasPayload = hasPayload;
        Headers = headers;
        EnqueuedAt = enqueuedAt;
        SequenceNr = sequenceNr;
    }

    public long Id { get; }
    public string Type { get; }
    public ImmutableDictionary<string, string> Headers { get; }
    public DateTime EnqueuedAt { get; }

    /// <summary>The payload; empty while <see cref="HasPayload"/> is false.</summary>
    public ReadOnlyMemory<byte> Payload { get; private set; }

    /// <summary>True when the payload is in memory.</summary>
    public bool HasPayload { get; private set; }

    /// <summary>
    /// The journal sequence number of the event that stores the payload, so it can be read back when it is not in
    /// memory; 0 when memory (and so the snapshot) is the payload's only home, as for dead letters.
    /// </summary>
    public long SequenceNr { get; set; }

    /// <summary>Failed attempts recorded in the journal.</summary>
    public int FailedAttempts { get; set; }

    public Stage Stage { get; set; }

    /// <summary>The worker slot holding the current delivery.</summary>
    public int WorkerSlot { get; set; } = -1;

    /// <summary>When the current delivery's lease runs out.</summary>
    public DateTime LeaseDeadline { get; set; }

    /// <summary>The recorded errors, oldest first, at most <see cref="MaxErrorsKept"/>.</summary>
    public ImmutableList<ErrorInfo> Errors
    {
        get => _history?.Errors ?? ImmutableList<ErrorInfo>.Empty;
        set { if (value.Count > 0 || _history is not null) History.Errors = value; }
    }

    /// <summary>When a scheduled message (delayed, or a retry) is due; default when it is not scheduled.</summary>
    public DateTime DueAt { get; set; }

    /// <summary>When the message expires if it has not started by then; null when it never does.</summary>
    public DateTime? ExpiresAt
    {
        get => _history?.ExpiresAt;
        set { if (value is not null || _history is not null) History.ExpiresAt = value; }
    }

    /// <summary>Why the message was dead-lettered.</summary>
    public string? DeadLetterReason
    {
        get => _history?.DeadLetterReason;
        set { if (value is not null || _history is not null) History.DeadLetterReason = value; }
    }

    /// <summary>When the message was dead-lettered.</summary>
    public DateTime? FinishedAt
    {
        get => _history?.FinishedAt;
        set { if (value is not null || _history is not null) History.FinishedAt = value; }
    }

    /// <summary>The attempt number of the current (or next) delivery.</summary>
    public int Attempt => FailedAttempts + 1;

    private FailureHistory History => _history ??= new FailureHistory();

    public void RecordError(ErrorInfo error)
    {
        var errors = Errors.Add(error);
        Errors = errors.Count > MaxErrorsKept ? errors.RemoveAt(0) : errors;
    }

    /// <summary>Puts the payload, read back from the journal, in memory.</summary>
    public void AttachPayload(ReadOnlyMemory<byte> payload)
    {
        Payload = payload;
        HasPayload = true;
    }

    /// <summary>Lets go of the payload; the journal event at <see cref="SequenceNr"/> still has it.</summary>
    public void DropPayload()
    {
        Payload = default;
        HasPayload = false;
    }

    /// <summary>What only a message that failed (or that expires) needs.</summary>
    private sealed class FailureHistory
    {
        public ImmutableList<ErrorInfo> Errors = ImmutableList<ErrorInfo>.Empty;
        public DateTime? ExpiresAt;
        public string? DeadLetterReason;
        public DateTime? FinishedAt;
    }
}

/// <summary>A message that finished (succeeded, cancelled, expired and dropped, discarded), kept for status queries for a retention window.</summary>
internal sealed record FinishedMessage(long Id, string Type, MessageStatus Status, int Attempts, DateTime EnqueuedAt, DateTime FinishedAt, ReadOnlyMemory<byte>? Result);

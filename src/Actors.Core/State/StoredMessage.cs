using System.Collections.Immutable;
using Actors.Protocol;

namespace Actors.State;

/// <summary>Where a message held by a queue is. The delivery stages are volatile: a restart turns them back into Ready.</summary>
internal enum Stage
{
    Ready,
    InFlight,
    /// <summary>The worker reported success; the acknowledgement is waiting for its journal write.</summary>
    Completing,
    /// <summary>The attempt failed; the policy's decision is waiting for its journal write.</summary>
    Failing,
    Scheduled,
    DeadLettered,
}

/// <summary>A message the queue holds, with its durable history and its current delivery.</summary>
internal sealed class StoredMessage
{
    /// <summary>Errors kept per message; the oldest are dropped past this.</summary>
    public const int MaxErrorsKept = 20;

    public StoredMessage(long id, string type, ReadOnlyMemory<byte> payload, ImmutableDictionary<string, string> headers, DateTime enqueuedAt)
    {
        Id = id;
        Type = type;
        Payload = payload;
        Headers = headers;
        EnqueuedAt = enqueuedAt;
    }

    public long Id { get; }
    public string Type { get; }
    public ReadOnlyMemory<byte> Payload { get; }
    public ImmutableDictionary<string, string> Headers { get; }
    public DateTime EnqueuedAt { get; }

    /// <summary>Failed attempts recorded in the journal.</summary>
    public int FailedAttempts { get; set; }

    /// <summary>The recorded errors, oldest first, at most <see cref="MaxErrorsKept"/>.</summary>
    public ImmutableList<ErrorInfo> Errors { get; set; } = ImmutableList<ErrorInfo>.Empty;

    public Stage Stage { get; set; }

    /// <summary>When a scheduled retry is due.</summary>
    public DateTime DueAt { get; set; }

    /// <summary>Why the message was dead-lettered.</summary>
    public string? DeadLetterReason { get; set; }

    /// <summary>When the message was dead-lettered.</summary>
    public DateTime? FinishedAt { get; set; }

    /// <summary>The attempt number of the current (or next) delivery.</summary>
    public int Attempt => FailedAttempts + 1;

    /// <summary>The worker slot holding the current delivery.</summary>
    public int WorkerSlot { get; set; } = -1;

    public DateTime DispatchedAt { get; set; }
    public DateTime LeaseDeadline { get; set; }

    public void RecordError(ErrorInfo error)
    {
        var errors = Errors.Add(error);
        Errors = errors.Count > MaxErrorsKept ? errors.RemoveAt(0) : errors;
    }
}

/// <summary>A message that succeeded, kept for status queries for a retention window.</summary>
internal sealed record SucceededMessage(long Id, string Type, int Attempts, DateTime EnqueuedAt, DateTime CompletedAt, ReadOnlyMemory<byte>? Result);

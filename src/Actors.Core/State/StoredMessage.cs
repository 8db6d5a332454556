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

    /// <summary>
    /// A held message; without <paramref name="hasPayload"/> the payload is left out of memory, and
    /// <paramref name="payloadLength"/> gives its size when <paramref name="payload"/> is not at hand.
    /// </summary>
    public StoredMessage(long id, string type, ReadOnlyMemory<byte> payload, ImmutableDictionary<string, string> headers, DateTime enqueuedAt, long sequenceNr = 0, bool hasPayload = true,
        int? payloadLength = null)
    {
        Id = id;
        Type = type;
        Payload = hasPayload ? payload : default;
        HasPayload = hasPayload;
        PayloadLength = payloadLength ?? payload.Length;
        Headers = headers;
        EnqueuedAt = enqueuedAt;
        SequenceNr = sequenceNr;
        if (headers.Count == 0) return;
        Key = headers.TryGetValue(MessageHeaders.Key, out var key) ? key : null;
        if (headers.TryGetValue(MessageHeaders.Priority, out var priority) && TryParsePriority(priority, out var level)) Priority = level;
    }

    /// <summary>Reads a <see cref="MessageHeaders.Priority"/> header: a single digit 0–9.</summary>
    public static bool TryParsePriority(string? text, out byte priority)
    {
        priority = 0;
        if (text is not { Length: 1 } || text[0] is < '0' or > '9') return false;
        priority = (byte)(text[0] - '0');
        return true;
    }

    public long Id { get; }
    public string Type { get; }

    /// <summary>The ordering key (<see cref="MessageHeaders.Key"/>), if any: see <see cref="KeyLanes"/>.</summary>
    public string? Key { get; }

    /// <summary>The <see cref="MessageHeaders.TraceParent"/> header, if any: what a finished message keeps of its headers.</summary>
    public string? TraceParent => Headers.Count == 0 ? null : Headers.GetValueOrDefault(MessageHeaders.TraceParent);

    /// <summary>The priority, 0–9 (<see cref="MessageHeaders.Priority"/>): higher starts first among ready messages.</summary>
    public byte Priority { get; }

    /// <summary>A dead letter that keeps its key blocked until an operator releases, skips or purges it.</summary>
    public bool Parked { get; set; }
    public ImmutableDictionary<string, string> Headers { get; }
    public DateTime EnqueuedAt { get; }

    /// <summary>The payload; empty while <see cref="HasPayload"/> is false.</summary>
    public ReadOnlyMemory<byte> Payload { get; private set; }

    /// <summary>The payload's size, wherever it is.</summary>
    public int PayloadLength { get; private set; }

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

    /// <summary>
    /// A consumer that held it detached or stopped, and handed it back without a failed attempt: its next delivery says
    /// it is redelivered. Volatile, like the stage: not in events or snapshots.
    /// </summary>
    public bool HandedBack { get; set; }

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

    /// <summary>
    /// The sequence number of the event in the queue's archive stream that holds the payload of a dead letter (or of
    /// one redriven from there), so it can be read back when it is not in memory; 0 when it is not archived.
    /// </summary>
    public long ArchiveSeq
    {
        get => _history?.ArchiveSeq ?? 0;
        set { if (value != 0 || _history is not null) History.ArchiveSeq = value; }
    }

    /// <summary>The fingerprint of the last error, kept while the message is a dead letter; null otherwise.</summary>
    public string? DeadLetterFingerprint
    {
        get => _history?.Fingerprint;
        set { if (value is not null || _history is not null) History.Fingerprint = value; }
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
        PayloadLength = payload.Length;
    }

    /// <summary>Lets go of the payload; the journal event at <see cref="SequenceNr"/> (or the archive's at <see cref="ArchiveSeq"/>) still has it.</summary>
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
        public long ArchiveSeq;
        public string? Fingerprint;
    }
}

/// <summary>
/// A message that finished (succeeded, cancelled, expired and dropped, discarded), kept for status queries for a
/// retention window. A result that moved to the queue's archive is null here, with <see cref="ArchiveSeq"/> naming the
/// archive event that holds it. Of the message's headers it keeps only its <see cref="MessageHeaders.TraceParent"/> (as
/// <see cref="TraceParentBits"/>), so its status still names its trace.
/// </summary>
internal sealed class FinishedMessage(long id, string type, MessageStatus status, int attempts, DateTime enqueuedAt, DateTime finishedAt, ReadOnlyMemory<byte>? result, long archiveSeq = 0,
    string? traceParent = null)
{
    public long Id { get; } = id;
    public string Type { get; } = type;
    public MessageStatus Status { get; } = status;
    public int Attempts { get; } = attempts;
    public DateTime EnqueuedAt { get; } = enqueuedAt;
    public DateTime FinishedAt { get; } = finishedAt;

    private readonly TraceParentBits _traceParent = TraceParentBits.Parse(traceParent);

    /// <summary>The message's <see cref="MessageHeaders.TraceParent"/> header, if it had a valid one.</summary>
    public string? TraceParent => _traceParent.Text;

    /// <summary>The headers a finished message's status shows: its trace parent, if any.</summary>
    public ImmutableDictionary<string, string> Headers => TraceParent is { } traceParent
        ? ImmutableDictionary<string, string>.Empty.Add(MessageHeaders.TraceParent, traceParent)
        : ImmutableDictionary<string, string>.Empty;

    /// <summary>The result, while it is in memory.</summary>
    public ReadOnlyMemory<byte>? Result { get; private set; } = result;

    /// <summary>The archive event holding the result; 0 while the result (if any) is in memory.</summary>
    public long ArchiveSeq { get; private set; } = archiveSeq;

    /// <summary>The result's bytes held in memory.</summary>
    public int ResultBytesInMemory => Result?.Length ?? 0;

    /// <summary>The result is stored in archive event <paramref name="archiveSeq"/>: memory lets go of it.</summary>
    public void Archived(long archiveSeq)
    {
        ArchiveSeq = archiveSeq;
        Result = null;
    }
}

using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Protocol;
using static Actors.Protocol.QueueEvents;

namespace Actors.State;

/// <summary>
/// The state of one queue, free of actors and I/O so it can be tested on its own. The durable part changes only
/// through <see cref="Apply"/> (events from the journal or from a committed write); the delivery part (which
/// message is with which worker, until when) is volatile and rebuilt empty after a restart, which makes every
/// unfinished message ready again.
/// <para>
/// Payloads: a message's payload stays in memory while the payloads of waiting messages fit in
/// <see cref="QueueOptions.PayloadMemoryBytes"/>; past it, new messages are held without their payload (the journal
/// event at <see cref="StoredMessage.SequenceNr"/> has it) until <see cref="AttachPayloads"/> brings it back, in id
/// order, ahead of dispatch. Only messages with a payload in memory are dispatched.
/// </para>
/// <para>
/// Retained bytes (dead letters' payloads and succeeded results) are bounded by
/// <see cref="QueueOptions.RetainedMemoryBytes"/>: past it <see cref="TakeForArchive"/> offers the oldest to the queue's
/// archive stream, and once stored there (<see cref="MarkArchived"/>) memory keeps only the archive event's sequence
/// number. Until then they stay in memory and in snapshots, so a crash at any point loses nothing.
/// </para>
/// </summary>
internal sealed partial class QueueState
{
    private readonly MessageIndex _live = new();
    private readonly SortedDictionary<long, StoredMessage> _dead = new();
    private readonly DispatchOrder _order = new();
    private readonly Dictionary<long, StoredMessage> _inFlight = new();
    // Messages with an expiry, by expiry time; entries of messages that started or finished are skipped.
    private readonly PriorityQueue<StoredMessage, DateTime> _expiries = new();
    // Messages found expired when they were about to be dispatched, waiting for TakeExpired.
    private readonly List<StoredMessage> _expiredAtDispatch = new();
    private readonly Queue<FinishedMessage> _finished = new();
    private readonly Dictionary<long, FinishedMessage> _finishedById = new();
    private readonly IdempotencyIndex _keys = new();
    private readonly DeadLetterGroups _groups = new();
    private readonly SharedStrings _strings = new();
    // Retained items whose bytes are in memory and not archived, oldest first; entries that no longer qualify are skipped.
    private readonly Queue<(long Id, bool IsResult)> _archiveCandidates = new();
    private static readonly List<StoredMessage> NoMessages = new();

    public QueueState(string queueId, QueueOptions options)
    {
        QueueId = queueId;
        Options = options;
        Rules = new IntakeRules(queueId, options);
    }

    public string QueueId { get; }
    public QueueOptions Options { get; }

    /// <summary>The highest message id applied.</summary>
    public long LastId { get; private set; }

    public long TotalEnqueued { get; private set; }
    public long TotalSucceeded { get; private set; }
    public long TotalFailedAttempts { get; private set; }
    public long TotalDeadLettered { get; private set; }
    public long TotalDiscarded { get; private set; }
    public long TotalExpired { get; private set; }
    public long TotalCancelled { get; private set; }

    /// <summary>Messages held and not finished: ready, in flight and scheduled.</summary>
    public int PendingCount => _live.Count;
    public int ReadyCount => _order.ReadyCount;
    public int InFlightCount => _inFlight.Count;

    /// <summary>Messages waiting for a due time: delayed ones and retries in backoff.</summary>
    public int ScheduledCount => _order.ScheduledCount;
    public int DeadLetterCount => _dead.Count;

    /// <summary>Idempotency keys remembered.</summary>
    public int IdempotencyKeyCount => _keys.Count;

    /// <summary>Ready messages whose payload is only in the journal.</summary>
    public int ReadyWithoutPayload => _order.ReadyWithoutPayload;

    /// <summary>Payload bytes of the messages held and not finished (wherever the payloads are): the measure of <see cref="QueueOptions.MaxBytes"/>.</summary>
    public long HeldPayloadBytes { get; private set; }

    /// <summary>Bytes of dead letters' payloads and succeeded results in memory: the measure of <see cref="QueueOptions.RetainedMemoryBytes"/>.</summary>
    public long RetainedBytes { get; private set; }

    /// <summary>Dead letters whose payload is only in the journal (after a recovery replayed their failure).</summary>
    public int DeadWithoutPayload { get; private set; }

    /// <summary>
    /// Payload bytes in memory of ready messages the journal also has: the measure of the payload budget. Deliveries
    /// in flight are bounded by credit instead, and a scheduled retry lets go of its payload until it is due.
    /// </summary>
    public long ReadyPayloadBytes => _order.ReadyPayloadBytes;

    /// <summary>A delayed message due within this long of its receipt keeps its payload in memory (within budget).</summary>
    public static readonly TimeSpan KeepPayloadWhenDueWithin = TimeSpan.FromMinutes(1);

    /// <summary>The rules a new message is checked against.</summary>
    public IntakeRules Rules { get; }

    /// <summary>
    /// Checks a new message against the queue's limits. <paramref name="buffered"/> counts messages accepted but not yet
    /// applied, <paramref name="bufferedBytes"/> their payload bytes.
    /// </summary>
    public (RejectionCode Code, string Reason)? Validate(string type, int payloadLength, ImmutableDictionary<string, string>? headers, int buffered, long bufferedBytes = 0) =>
        Rules.Validate(type, payloadLength, headers, _live.Count + buffered, HeldPayloadBytes + bufferedBytes);

    /// <inheritdoc cref="IntakeRules.ValidateIdempotencyKey"/>
    public (RejectionCode Code, string Reason)? ValidateIdempotencyKey(string? key) => Rules.ValidateIdempotencyKey(key);

    /// <inheritdoc cref="IntakeRules.ResolveTiming"/>
    public (RejectionCode Code, string Reason)? ResolveTiming(QueueCommands.MessageTiming? timing, DateTime now, out DateTime? dueAt, out DateTime? expiresAt) =>
        Rules.ResolveTiming(timing, now, out dueAt, out expiresAt);

    /// <summary>The record of an idempotency key still within the queue's window, if any.</summary>
    public IdempotencyRecord? FindIdempotencyKey(string key, DateTime now) =>
        _keys.TryGet(key, out var record) && record.AcceptedAt > now - Options.DeduplicationWindow ? record : null;

    /// <summary>Forgets idempotency keys older than the window; returns how many.</summary>
    public int PruneIdempotencyKeys(DateTime now) => _keys.Prune(now, Options.DeduplicationWindow);

    // ---------------------------------------------------------------- events

    /// <summary>
    /// Applies a committed event. <paramref name="sequenceNr"/> is the event's journal sequence number (0 when
    /// there is none, as in tests: payloads then stay in memory).
    /// </summary>
    public void Apply(IQueueEvent evt, long sequenceNr = 0)
    {
        switch (evt)
        {
            case MessagesEnqueued e:
                foreach (var m in e.Messages)
                {
                    if (m.DueAt is { } dueAt)
                    {
                        // A message due soon keeps its payload while the scheduled ones in memory fit in half the budget,
                        // so it starts the moment it is due; one due later leaves it in the journal until then, so a
                        // deep schedule costs bookkeeping only (read back when it becomes ready).
                        var keepDelayed = sequenceNr == 0 || (dueAt - m.EnqueuedAt <= KeepPayloadWhenDueWithin
                            && _order.ScheduledPayloadBytes + m.Payload.Length <= Options.PayloadMemoryBytes / 2);
                        var delayed = new StoredMessage(m.Id, m.Type, m.Payload, m.Headers, m.EnqueuedAt, sequenceNr, hasPayload: keepDelayed);
                        Arrive(delayed, m);
                        _order.EnterScheduled(delayed, dueAt);
                        continue;
                    }
                    // Once one payload is left in the journal, every later one is too, so they come back in id order.
                    var keep = sequenceNr == 0 || (ReadyWithoutPayload == 0 && ReadyPayloadBytes + m.Payload.Length <= Options.PayloadMemoryBytes);
                    var message = new StoredMessage(m.Id, m.Type, m.Payload, m.Headers, m.EnqueuedAt, sequenceNr, keep);
                    Arrive(message, m);
                    _order.EnterReady(message, arriving: true);
                }
                TotalEnqueued += e.Messages.Length;
                if (e.Messages.Length > 0) _keys.Prune(e.Messages[^1].EnqueuedAt, Options.DeduplicationWindow);
                break;
            case MessagesAcked e:
                foreach (var ack in e.Acks)
                {
                    if (!TakeLive(ack.Id, out var message)) continue;
                    Forget(message);
                    OweFollowUp(message, FollowUpKind.Then, ack.Result);
                    TotalSucceeded++;
                    Retain(new FinishedMessage(message.Id, message.Type, MessageStatus.Succeeded, ack.Attempt, message.EnqueuedAt, ack.CompletedAt, ack.Result, traceParent: message.TraceParent));
                }
                break;
            case RetryScheduled e:
                if (_live.TryGetValue(e.Id, out var retried))
                {
                    var cancelling = retried.Stage == Stage.Ending;
                    LeaveStage(retried);
                    retried.FailedAttempts = e.Attempt;
                    retried.RecordError(_strings.Share(e.Error));
                    TotalFailedAttempts++;
                    // A message being cancelled while its failure was written stays out of every queue until the
                    // cancellation is written after it.
                    if (cancelling)
                    {
                        retried.Stage = Stage.Ending;
                        break;
                    }
                    // Until it is due, the journal keeps the payload; it is read back with the ready ones.
                    if (retried.SequenceNr != 0) retried.DropPayload();
                    _order.EnterScheduled(retried, e.DueAt);
                }
                break;
            case DeadLettered { Reason: PayloadMissingReason } e:
                // Not an attempt: the journal lost the payload. The dead letter keeps an empty one, so nothing waits
                // for that event again, and the error says why.
                if (TakeLive(e.Id, out var lost))
                {
                    LeaveStage(lost);
                    lost.RecordError(_strings.Share(e.Error));
                    lost.AttachPayload(ReadOnlyMemory<byte>.Empty);
                    Bury(lost, e.Reason, e.Error.At);
                    TotalDeadLettered++;
                }
                else if (_dead.TryGetValue(e.Id, out var buried) && !buried.HasPayload && buried.SequenceNr != 0)
                {
                    _groups.Remove(buried);
                    buried.RecordError(_strings.Share(e.Error));
                    buried.AttachPayload(ReadOnlyMemory<byte>.Empty);
                    Pin(buried);
                    _groups.Add(buried);
                    DeadWithoutPayload--;
                }
                break;
            case DeadLettered e:
                if (TakeLive(e.Id, out var dead))
                {
                    LeaveStage(dead);
                    dead.FailedAttempts = e.Attempt;
                    dead.RecordError(_strings.Share(e.Error));
                    dead.Parked = e.Parked && dead.Key is not null;
                    Bury(dead, e.Reason, e.Error.At);
                    TotalFailedAttempts++;
                    TotalDeadLettered++;
                }
                break;
            case Discarded e:
                if (TakeLive(e.Id, out var discarded))
                {
                    Forget(discarded);
                    TotalFailedAttempts++;
                    TotalDiscarded++;
                    Retain(new FinishedMessage(discarded.Id, discarded.Type, MessageStatus.Discarded, e.Attempt, discarded.EnqueuedAt, e.Error.At, null, traceParent: discarded.TraceParent));
                }
                break;
            case MessageCancelled e:
                if (TakeLive(e.Id, out var cancelled))
                {
                    Forget(cancelled);
                    TotalCancelled++;
                    Retain(new FinishedMessage(cancelled.Id, cancelled.Type, MessageStatus.Cancelled, cancelled.FailedAttempts, cancelled.EnqueuedAt, e.At, null, traceParent: cancelled.TraceParent));
                }
                break;
            case MessagesPurged e:
                foreach (var id in e.Ids)
                {
                    if (!TakeLive(id, out var purgedMessage)) continue;
                    Forget(purgedMessage);
                    TotalCancelled++;
                    Retain(new FinishedMessage(purgedMessage.Id, purgedMessage.Type, MessageStatus.Cancelled, purgedMessage.FailedAttempts, purgedMessage.EnqueuedAt, e.At, null, traceParent: purgedMessage.TraceParent));
                }
                break;
            case MessagesExpired e:
                foreach (var id in e.Ids)
                {
                    if (!TakeLive(id, out var expired)) continue;
                    TotalExpired++;
                    if (e.DeadLettered)
                    {
                        LeaveStage(expired);
                        var error = new ErrorInfo("Expired", $"Not started before it expired at {expired.ExpiresAt:O}.", null, null, e.At);
                        expired.RecordError(error);
                        Bury(expired, "expired", e.At);
                        TotalDeadLettered++;
                    }
                    else
                    {
                        Forget(expired);
                        Retain(new FinishedMessage(expired.Id, expired.Type, MessageStatus.Expired, expired.FailedAttempts, expired.EnqueuedAt, e.At, null, traceParent: expired.TraceParent));
                    }
                }
                break;
            case DeadLettersRedrivenEvent e:
                foreach (var id in e.Ids)
                {
                    if (!_dead.Remove(id, out var redriven)) continue;
                    Unbury(redriven);
                    // A parked one is still first in its key's lane; any other joins it again where its id puts it.
                    if (redriven.Parked) Unpark(redriven);
                    else _order.JoinLane(redriven);
                    redriven.FailedAttempts = 0;
                    redriven.DeadLetterReason = null;
                    redriven.FinishedAt = null;
                    // A redriven message gets a fresh start: an expiry it had is behind it.
                    redriven.ExpiresAt = null;
                    Hold(redriven);
                    _order.EnterReady(redriven, arriving: false);
                }
                break;
            case FollowUpsSent e:
                ApplyFollowUpsSent(e);
                break;
            case DeadLettersPurgedEvent e:
                foreach (var id in e.Ids)
                {
                    if (!_dead.Remove(id, out var purged)) continue;
                    Unbury(purged);
                    purged.Stage = Stage.Gone;
                    if (purged.Parked)
                    {
                        Unpark(purged);
                        _order.LeaveLane(purged);
                    }
                }
                break;
            case ParkedMessageSkipped e:
                ApplySkip(e);
                break;
            case KeyPurged e:
                ApplyKeyPurge(e);
                break;
            case QueuePaused e:
                ApplyPause(e);
                break;
            case QueueResumed:
                ApplyResume();
                break;
            default:
                throw new ArgumentException($"Unknown queue event {evt.GetType().Name}.", nameof(evt));
        }
    }

    /// <summary>Takes a message out of the held set, if it is there.</summary>
    private bool TakeLive(long id, out StoredMessage message)
    {
        if (!_live.Remove(id, out message!)) return false;
        HeldPayloadBytes -= message.PayloadLength;
        return true;
    }

    /// <summary>Puts a message in the held set.</summary>
    private void Hold(StoredMessage message)
    {
        _live.Set(message);
        HeldPayloadBytes += message.PayloadLength;
    }

    /// <summary>Registers a new message: the id index, its expiry and its idempotency key.</summary>
    private void Arrive(StoredMessage message, EnqueuedMessage stored)
    {
        Hold(message);
        _order.JoinLane(message);
        if (stored.Id > LastId) LastId = stored.Id;
        TrackExpiry(message, stored.ExpiresAt);
        if (stored.IdempotencyKey is { } key) _keys.Add(new IdempotencyRecord(key, stored.Id, stored.Fingerprint, stored.EnqueuedAt));
    }

    /// <summary>Moves a message that left the live set into the dead-letter set.</summary>
    private void Bury(StoredMessage message, string reason, DateTime at)
    {
        message.Stage = Stage.DeadLettered;
        message.DeadLetterReason = reason;
        message.FinishedAt = at;
        _dead[message.Id] = message;
        if (message.Parked) ParkKey(message);
        else _order.LeaveLane(message);
        if (message.HasPayload) Pin(message);
        else if (message.SequenceNr != 0) DeadWithoutPayload++;
        _groups.Add(message);
        // A parked message is not final yet: a release may still run it; its onFailure is owed if it is skipped.
        if (!message.Parked) OweFollowUp(message, FollowUpKind.OnFailure, null);
    }

    /// <summary>Takes a message that left the dead-letter set out of its bookkeeping.</summary>
    private void Unbury(StoredMessage message)
    {
        _groups.Remove(message);
        if (!message.HasPayload && message.SequenceNr != 0) DeadWithoutPayload--;
        if (message.HasPayload && message.SequenceNr == 0 && message.ArchiveSeq == 0) RetainedBytes -= message.PayloadLength;
    }

    /// <summary>
    /// Makes memory the payload's home (a dead letter keeps it, until it is archived), so the journal event need not be
    /// kept for it. The payload gets an array of its own: one read back from the journal is a slice of its whole event.
    /// </summary>
    private void Pin(StoredMessage message)
    {
        message.SequenceNr = 0;
        message.ArchiveSeq = 0;
        message.AttachPayload(message.Payload.ToArray());
        RetainedBytes += message.PayloadLength;
        AddArchiveCandidate(message.Id, false);
    }

    /// <summary>A message that is no longer held.</summary>
    private void Forget(StoredMessage message)
    {
        LeaveStage(message);
        message.Stage = Stage.Gone;
        _order.LeaveLane(message);
    }

    /// <summary>Removes a message from the index of its current stage.</summary>
    private void LeaveStage(StoredMessage message)
    {
        switch (message.Stage)
        {
            case Stage.Ready:
                _order.LeaveReady(message);
                break;
            case Stage.InFlight or Stage.Completing or Stage.Failing:
                _inFlight.Remove(message.Id);
                message.WorkerSlot = -1;
                break;
            case Stage.Scheduled:
                _order.LeaveScheduled(message);
                break;
        }
    }

    private void Retain(FinishedMessage finished)
    {
        if (Options.SucceededRetention == 0) return;
        _finished.Enqueue(finished);
        if (_finishedById.Remove(finished.Id, out var replaced)) RetainedBytes -= replaced.ResultBytesInMemory;
        _finishedById[finished.Id] = finished;
        RetainedBytes += finished.ResultBytesInMemory;
        if (finished.ResultBytesInMemory > 0) AddArchiveCandidate(finished.Id, true);
        while (_finished.Count > Options.SucceededRetention) DropOldestFinished();
        // Retention time counted from the newest event's time, so a replay lets go of the same ones.
        PruneFinished(finished.FinishedAt);
    }

    /// <summary>Lets go of finished messages that finished more than <see cref="QueueOptions.SucceededRetentionTime"/> before <paramref name="now"/>; returns how many.</summary>
    public int PruneFinished(DateTime now)
    {
        var pruned = 0;
        var cutoff = now - Options.SucceededRetentionTime;
        while (_finished.TryPeek(out var oldest) && oldest.FinishedAt < cutoff)
        {
            DropOldestFinished();
            pruned++;
        }
        return pruned;
    }

    private void DropOldestFinished()
    {
        var oldest = _finished.Dequeue();
        if (!_finishedById.TryGetValue(oldest.Id, out var current) || !ReferenceEquals(current, oldest)) return;
        _finishedById.Remove(oldest.Id);
        RetainedBytes -= oldest.ResultBytesInMemory;
    }

    private void TrackExpiry(StoredMessage message, DateTime? expiresAt)
    {
        if (expiresAt is not { } at) return;
        message.ExpiresAt = at;
        _expiries.Enqueue(message, at);
    }
}

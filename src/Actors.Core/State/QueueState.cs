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
                    Retain(new FinishedMessage(message.Id, message.Type, MessageStatus.Succeeded, ack.Attempt, message.EnqueuedAt, ack.CompletedAt, ack.Result));
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
                    Retain(new FinishedMessage(discarded.Id, discarded.Type, MessageStatus.Discarded, e.Attempt, discarded.EnqueuedAt, e.Error.At, null));
                }
                break;
            case MessageCancelled e:
                if (TakeLive(e.Id, out var cancelled))
                {
                    Forget(cancelled);
                    TotalCancelled++;
                    Retain(new FinishedMessage(cancelled.Id, cancelled.Type, MessageStatus.Cancelled, cancelled.FailedAttempts, cancelled.EnqueuedAt, e.At, null));
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
                        Retain(new FinishedMessage(expired.Id, expired.Type, MessageStatus.Expired, expired.FailedAttempts, expired.EnqueuedAt, e.At, null));
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

    // ---------------------------------------------------------------- payloads kept in the journal

    /// <summary>
    /// The journal sequence number to read payloads from next, or null when none are needed now: the oldest waiting
    /// message that came back without its payload, else the oldest new one once the payloads in memory fall under
    /// half the budget or none of them can go first (a read for a returned message may have given payloads to
    /// messages behind the oldest), else a dead letter whose payload should move into memory.
    /// </summary>
    public long? PayloadsWanted
    {
        get
        {
            if (_order.PayloadWanted(Options.PayloadMemoryBytes) is { } wanted) return wanted;
            if (DeadWithoutPayload > 0)
                foreach (var dead in _dead.Values)
                    if (!dead.HasPayload && dead.SequenceNr != 0) return dead.SequenceNr;
            return null;
        }
    }

    /// <summary>
    /// Gives the messages of an enqueue event read back from the journal their payloads, where they are still held
    /// without one. Returns how many got theirs.
    /// </summary>
    public int AttachPayloads(long sequenceNr, MessagesEnqueued stored)
    {
        var attached = 0;
        foreach (var m in stored.Messages)
        {
            if (!_live.TryGetValue(m.Id, out var message) && !_dead.TryGetValue(m.Id, out message)) continue;
            if (message.HasPayload || message.SequenceNr != sequenceNr || message.Stage is not (Stage.Ready or Stage.DeadLettered)) continue;
            message.AttachPayload(m.Payload);
            attached++;
            if (message.Stage == Stage.DeadLettered)
            {
                DeadWithoutPayload--;
                Pin(message);
                continue;
            }
            _order.PayloadAttached(message);
        }
        _order.Trim();
        return attached;
    }

    /// <summary>The dead-letter reason of a message whose payload the journal no longer has.</summary>
    public const string PayloadMissingReason = "payload-missing";

    /// <summary>
    /// The journal does not have event <paramref name="sequenceNr"/> any more (see <see cref="Queues.PayloadReader"/>),
    /// so the payloads of the messages waiting on it cannot come back: returns a <see cref="DeadLettered"/> decision
    /// with reason <see cref="PayloadMissingReason"/> for each, for the caller to write. Ready ones leave the dispatch
    /// order meanwhile, so the queue moves on (a rejected write puts them back with <see cref="ReturnToReady"/>); dead
    /// letters among them are marked too, so nothing wants that event again.
    /// </summary>
    public List<DeadLettered> GiveUpPayloads(long sequenceNr, DateTime now)
    {
        var error = new ErrorInfo("PayloadMissing",
            $"The journal no longer has event {sequenceNr} of queue '{QueueId}', which held this message's payload.", null, null, now);
        var decisions = new List<DeadLettered>();
        foreach (var message in _live.Values)
        {
            if (message.Stage != Stage.Ready || message.HasPayload || message.SequenceNr != sequenceNr) continue;
            LeaveStage(message);
            message.Stage = Stage.Ending;
            decisions.Add(new DeadLettered(message.Id, message.FailedAttempts, error, PayloadMissingReason));
        }
        foreach (var message in _dead.Values)
            if (!message.HasPayload && message.SequenceNr == sequenceNr)
                decisions.Add(new DeadLettered(message.Id, message.FailedAttempts, error, PayloadMissingReason));
        decisions.Sort((a, b) => a.Id.CompareTo(b.Id));
        return decisions;
    }

    /// <summary>
    /// The lowest journal sequence number whose event still holds the payload of a held message that memory does not
    /// own, or <paramref name="ifNone"/>: the journal may delete the events below it.
    /// </summary>
    public static long PayloadLowWatermark(QueueSnapshot snapshot, long ifNone)
    {
        var low = ifNone;
        foreach (var m in snapshot.Messages)
            if (m.SequenceNr != 0 && m.SequenceNr < low) low = m.SequenceNr;
        return low;
    }

    // ---------------------------------------------------------------- deliveries (volatile)

    /// <summary>
    /// Takes the message that goes next (see <see cref="DispatchOrder"/>) and marks it in flight with
    /// <paramref name="workerSlot"/>; null when none can go now (see <see cref="PayloadsWanted"/>). A message found
    /// expired on the way is not started: it waits for <see cref="TakeExpired"/>.
    /// </summary>
    public StoredMessage? Dispatch(int workerSlot, DateTime now)
    {
        while (_order.TakeNext() is { } message)
        {
            if (message.ExpiresAt is { } expiresAt && expiresAt <= now)
            {
                message.Stage = Stage.Ending;
                _expiredAtDispatch.Add(message);
                continue;
            }
            message.Stage = Stage.InFlight;
            message.WorkerSlot = workerSlot;
            message.LeaseDeadline = now + Options.Lease;
            _inFlight.Add(message.Id, message);
            return message;
        }
        return null;
    }

    /// <summary>
    /// Messages that expired before they started, now ending: the caller persists <see cref="MessagesExpired"/> for
    /// them (or, if that write is rejected, returns them with <see cref="ReturnToReady"/>).
    /// </summary>
    public List<StoredMessage> TakeExpired(DateTime now)
    {
        if (_expiredAtDispatch.Count == 0 && !(_expiries.TryPeek(out _, out var first) && first <= now)) return NoMessages;
        var expired = new List<StoredMessage>(_expiredAtDispatch);
        _expiredAtDispatch.Clear();
        while (_expiries.TryPeek(out var message, out var expiresAt) && expiresAt <= now)
        {
            _expiries.Dequeue();
            if (message.Stage is not (Stage.Ready or Stage.Scheduled) || message.ExpiresAt != expiresAt || !_live.ContainsKey(message.Id)) continue;
            LeaveStage(message);
            message.Stage = Stage.Ending;
            expired.Add(message);
        }
        return expired;
    }

    /// <summary>
    /// Starts cancelling a message. A waiting or scheduled one leaves its queue; an in-flight one leaves its worker's
    /// slot (<paramref name="heldBySlot"/>, with <paramref name="attempt"/>), so a late report of it is stale. The
    /// caller persists <see cref="MessageCancelled"/> (or, if that write is rejected, calls <see cref="ReturnToReady"/>).
    /// </summary>
    public CancelOutcome BeginCancel(long id, out MessageStatus? previous, out int heldBySlot, out int attempt)
    {
        heldBySlot = -1;
        attempt = 0;
        previous = Describe(id)?.Status;
        if (!_live.TryGetValue(id, out var message))
            return previous is null ? CancelOutcome.NotFound : CancelOutcome.AlreadyFinished;
        switch (message.Stage)
        {
            case Stage.Ready or Stage.Scheduled:
                break;
            case Stage.InFlight:
                heldBySlot = message.WorkerSlot;
                attempt = message.Attempt;
                break;
            case Stage.Failing:
                // Its worker already reported; the failure's decision is being written.
                break;
            default:
                // Completing (its success is being written) or already ending.
                return CancelOutcome.AlreadyFinished;
        }
        if (message.Stage == Stage.Failing)
        {
            // The failure's decision is being written; the cancellation is written after it and wins.
            _inFlight.Remove(message.Id);
            message.WorkerSlot = -1;
        }
        else LeaveStage(message);
        message.Stage = Stage.Ending;
        return CancelOutcome.Cancelled;
    }

    /// <summary>Marks a delivery as completing when the report names the current attempt; false for a stale or unknown report.</summary>
    public bool TryBeginCompletion(long id, int attempt, out StoredMessage message) => TryLeaveFlight(id, attempt, Stage.Completing, out message);

    /// <summary>Marks a delivery as failing when the report names the current attempt; false for a stale or unknown report.</summary>
    public bool TryBeginFailure(long id, int attempt, out StoredMessage message) => TryLeaveFlight(id, attempt, Stage.Failing, out message);

    private bool TryLeaveFlight(long id, int attempt, Stage next, out StoredMessage message)
    {
        if (_live.TryGetValue(id, out message!) && message.Stage == Stage.InFlight && message.Attempt == attempt)
        {
            message.Stage = next;
            return true;
        }
        return false;
    }

    /// <summary>Puts a completing, failing or ending message back in the ready set, for a write that was rejected.</summary>
    public void ReturnToReady(long id)
    {
        if (_live.TryGetValue(id, out var message) && message.Stage is Stage.Completing or Stage.Failing or Stage.InFlight or Stage.Ending)
        {
            LeaveStage(message);
            _order.EnterReady(message, arriving: false);
        }
    }

    /// <summary>Deliveries whose lease has run out.</summary>
    public List<StoredMessage> ExpiredLeases(DateTime now)
    {
        var expired = new List<StoredMessage>();
        foreach (var message in _inFlight.Values)
        {
            if (message.Stage == Stage.InFlight && message.LeaseDeadline <= now) expired.Add(message);
        }
        return expired;
    }

    /// <summary>Deliveries held by one worker slot.</summary>
    public List<StoredMessage> InFlightAt(int workerSlot)
    {
        var held = new List<StoredMessage>();
        foreach (var message in _inFlight.Values)
        {
            if (message.Stage == Stage.InFlight && message.WorkerSlot == workerSlot) held.Add(message);
        }
        return held;
    }

    /// <summary>
    /// Moves scheduled messages (delayed ones and retries) that are due at <paramref name="now"/> into the ready set,
    /// at most <paramref name="limit"/>; returns how many moved. Never early.
    /// </summary>
    public int PromoteDue(DateTime now, int limit = int.MaxValue) => _order.PromoteDue(now, limit);

    /// <summary>When the next scheduled message is due, if any.</summary>
    public DateTime? NextDueAt => _order.NextDueAt;

    /// <summary>The oldest message waiting for a worker.</summary>
    public DateTime? OldestReadyEnqueuedAt => _order.OldestReadyEnqueuedAt;

    // ---------------------------------------------------------------- failure policy

    /// <summary>
    /// Decides what a failed attempt leads to, following the handler's request, then the first matching rule, then
    /// the policy's attempt limit and backoff. <paramref name="random01"/> is uniform in [0, 1) and drives jitter.
    /// </summary>
    public IQueueEvent DecideFailure(StoredMessage message, ErrorInfo error, RequestedFailureAction requested, TimeSpan? retryAfter, DateTime now, double random01)
    {
        var decision = DecideByPolicy(message, error, requested, retryAfter, now, random01);
        return decision is DeadLettered dead && ParksOnDeadLetter(message) ? dead with { Parked = true } : decision;
    }

    private IQueueEvent DecideByPolicy(StoredMessage message, ErrorInfo error, RequestedFailureAction requested, TimeSpan? retryAfter, DateTime now, double random01)
    {
        var attempt = message.Attempt;
        var policy = Options.Retry;
        if (requested == RequestedFailureAction.DeadLetter)
            return new DeadLettered(message.Id, attempt, error, "The handler asked for the message to be dead-lettered.");
        // A push-back that does not count: the next delivery keeps this attempt number (the failed-attempt count stays).
        if (requested == RequestedFailureAction.RetryLater && !Options.RetryLaterCountsAsAttempt)
            return new RetryScheduled(message.Id, message.FailedAttempts, error, now + (retryAfter is { } wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero));

        var rule = policy.MatchRule(error.Type);
        switch (rule?.Action)
        {
            case FailureAction.DeadLetter:
                return new DeadLettered(message.Id, attempt, error, $"A rule dead-letters {rule.ExceptionType} without retrying.");
            case FailureAction.Discard:
                return new Discarded(message.Id, attempt, error);
        }

        var maxAttempts = rule?.MaxAttempts ?? policy.MaxAttempts;
        if (attempt >= maxAttempts)
            return new DeadLettered(message.Id, attempt, error, $"Gave up after {attempt} attempt(s).");

        var delay = requested is RequestedFailureAction.RetryAfter or RequestedFailureAction.RetryLater && retryAfter is { } asked
            ? (asked < TimeSpan.Zero ? TimeSpan.Zero : asked)
            : policy.ApplyJitter(policy.BackoffFor(attempt), random01);
        return new RetryScheduled(message.Id, attempt, error, now + delay);
    }

    // ---------------------------------------------------------------- queries

    /// <summary>A held message (live or dead-lettered) by id.</summary>
    public StoredMessage? Find(long id) => _live.TryGetValue(id, out var m) || _dead.TryGetValue(id, out m) ? m : null;

    /// <summary>A message's status; its payload is null while it is only in the journal.</summary>
    public QueueQueries.MessageInfo? Describe(long id)
    {
        if (_live.TryGetValue(id, out var m) || _dead.TryGetValue(id, out m))
        {
            var status = m.Stage switch
            {
                Stage.Ready or Stage.Ending => m.FailedAttempts > 0 ? MessageStatus.FailedRetrying : MessageStatus.Queued,
                Stage.InFlight or Stage.Completing or Stage.Failing => MessageStatus.InFlight,
                Stage.Scheduled => m.FailedAttempts > 0 ? MessageStatus.FailedRetrying : MessageStatus.Scheduled,
                _ => m.Parked ? MessageStatus.Parked : MessageStatus.DeadLettered,
            };
            var attempts = m.Stage is Stage.InFlight or Stage.Completing or Stage.Failing ? m.Attempt : m.FailedAttempts;
            return WithFollowUp(new QueueQueries.MessageInfo(QueueId, m.Id, m.Type, status, attempts, m.EnqueuedAt,
                m.Stage == Stage.Scheduled ? m.DueAt : null, m.FinishedAt, m.Errors, null, m.HasPayload ? m.Payload : (ReadOnlyMemory<byte>?)null, m.Headers));
        }
        if (_finishedById.TryGetValue(id, out var s))
        {
            return WithFollowUp(new QueueQueries.MessageInfo(QueueId, s.Id, s.Type, s.Status, s.Attempts, s.EnqueuedAt,
                null, s.FinishedAt, ImmutableList<ErrorInfo>.Empty, s.Result, null, ImmutableDictionary<string, string>.Empty));
        }
        return null;
    }

    /// <summary>Dead letters matching <paramref name="filter"/>, in id order, starting after <paramref name="afterId"/>.</summary>
    public IEnumerable<StoredMessage> DeadLetters(DeadLetterCommands.DeadLetterFilter filter, long afterId = 0)
    {
        if (!filter.Ids.IsDefaultOrEmpty)
        {
            foreach (var id in filter.Ids.Where(id => id > afterId).Distinct().Order())
                if (_dead.TryGetValue(id, out var byId) && Matches(byId, filter)) yield return byId;
            yield break;
        }
        foreach (var (id, message) in _dead)
            if (id > afterId && Matches(message, filter)) yield return message;
    }

    private static bool Matches(StoredMessage message, DeadLetterCommands.DeadLetterFilter filter)
    {
        if (filter.Type is { } type && message.Type != type) return false;
        if (filter.Since is { } since && !(message.FinishedAt >= since)) return false;
        if (filter.Until is { } until && !(message.FinishedAt < until)) return false;
        var last = message.Errors.Count > 0 ? message.Errors[^1] : null;
        if (filter.ErrorType is { } errorType)
        {
            if (last is null) return false;
            var shortName = last.Type[(last.Type.LastIndexOf('.') + 1)..];
            if (last.Type != errorType && shortName != errorType) return false;
        }
        if (filter.Fingerprint is { } fingerprint && (last is null || FingerprintOf(message) != fingerprint)) return false;
        return true;
    }

    /// <summary>A listing entry for a dead letter.</summary>
    public static DeadLetterCommands.DeadLetterSummary Summarize(StoredMessage m)
    {
        var last = m.Errors.Count > 0 ? m.Errors[^1] : null;
        return new DeadLetterCommands.DeadLetterSummary(m.Id, m.Type, m.FailedAttempts, m.EnqueuedAt, m.FinishedAt, m.DeadLetterReason ?? "",
            last, last is null ? "" : FingerprintOf(m));
    }

    /// <summary>The fingerprint of a message's last error ("" without one), cached while it is a dead letter.</summary>
    private static string FingerprintOf(StoredMessage m) => m.DeadLetterFingerprint ?? DeadLetterGroups.FingerprintOf(m);

    /// <summary>Dead letters grouped by the fingerprint of their last error, largest group first.</summary>
    public ImmutableArray<DeadLetterCommands.DeadLetterGroup> GroupDeadLetters() => _groups.Report(_dead.Values);

    /// <summary>Every held message (live and dead), for invariant checks.</summary>
    public IEnumerable<StoredMessage> HeldMessages => _live.Values.Concat(_dead.Values);

    /// <summary>True when the message succeeded and is still retained.</summary>
    public bool IsRetainedSuccess(long id) => _finishedById.TryGetValue(id, out var f) && f.Status == MessageStatus.Succeeded;

    /// <summary>True when the message finished (succeeded, cancelled, expired, discarded) and is still retained.</summary>
    public bool IsRetainedFinished(long id) => _finishedById.ContainsKey(id);

    // ---------------------------------------------------------------- snapshots

    /// <summary>
    /// The durable state. A payload the journal (or the archive) also holds is not copied into it, only the event's
    /// sequence number; payloads and results that live only in memory are.
    /// </summary>
    public QueueSnapshot ToSnapshot()
    {
        var messages = ImmutableArray.CreateBuilder<SnapshotMessage>(_live.Count + _dead.Count);
        foreach (var m in _live.Values.Concat(_dead.Values).OrderBy(m => m.Id))
        {
            var stage = m.Stage switch
            {
                Stage.Scheduled => SnapshotStage.Scheduled,
                Stage.DeadLettered => m.Parked ? SnapshotStage.Parked : SnapshotStage.DeadLettered,
                _ => SnapshotStage.Ready,
            };
            var archiveSeq = m.SequenceNr == 0 ? m.ArchiveSeq : 0;
            messages.Add(new SnapshotMessage(m.Id, m.Type, m.SequenceNr == 0 && archiveSeq == 0 ? m.Payload : default, m.Headers, m.EnqueuedAt, m.FailedAttempts, m.Errors,
                stage, stage == SnapshotStage.Scheduled ? m.DueAt : default, m.DeadLetterReason, m.FinishedAt, m.SequenceNr,
                stage is SnapshotStage.DeadLettered or SnapshotStage.Parked ? null : m.ExpiresAt, archiveSeq, m.PayloadLength));
        }
        var finished = _finished.Where(f => _finishedById.TryGetValue(f.Id, out var current) && ReferenceEquals(current, f))
            .Select(f => new SnapshotSucceeded(f.Id, f.Type, f.Attempts, f.EnqueuedAt, f.FinishedAt, f.Result, f.Status, f.ArchiveSeq)).ToImmutableArray();
        return WithFollowUps(new QueueSnapshot(LastId, new QueueTotals(TotalEnqueued, TotalSucceeded, TotalFailedAttempts, TotalDeadLettered, TotalDiscarded, TotalExpired, TotalCancelled),
            messages.MoveToImmutable(), finished, _keys.ToArray()));
    }

    public static QueueState FromSnapshot(string queueId, QueueOptions options, QueueSnapshot snapshot)
    {
        var state = new QueueState(queueId, options)
        {
            LastId = snapshot.LastId,
            TotalEnqueued = snapshot.Totals.Enqueued,
            TotalSucceeded = snapshot.Totals.Succeeded,
            TotalFailedAttempts = snapshot.Totals.FailedAttempts,
            TotalDeadLettered = snapshot.Totals.DeadLettered,
            TotalDiscarded = snapshot.Totals.Discarded,
            TotalExpired = snapshot.Totals.Expired,
            TotalCancelled = snapshot.Totals.Cancelled,
        };
        foreach (var s in snapshot.Messages)
        {
            // Payloads the journal holds are read back when they are needed.
            var inSnapshot = s.SequenceNr == 0 && s.ArchiveSeq == 0;
            var m = new StoredMessage(s.Id, s.Type, s.Payload, s.Headers, s.EnqueuedAt, s.SequenceNr, hasPayload: inSnapshot,
                payloadLength: inSnapshot ? s.Payload.Length : s.PayloadLength)
            {
                FailedAttempts = s.FailedAttempts,
                Errors = s.Errors.Count == 0 ? s.Errors : s.Errors.ConvertAll(state._strings.Share),
                DeadLetterReason = s.DeadLetterReason,
                FinishedAt = s.FinishedAt,
                ArchiveSeq = s.ArchiveSeq,
            };
            switch (s.Stage)
            {
                case SnapshotStage.DeadLettered or SnapshotStage.Parked:
                    m.Stage = Stage.DeadLettered;
                    state._dead[m.Id] = m;
                    if (s.Stage == SnapshotStage.Parked && m.Key is not null)
                    {
                        m.Parked = true;
                        state._order.JoinLane(m);
                        state.ParkedKeys++;
                    }
                    state._groups.Add(m);
                    if (m.SequenceNr != 0) state.DeadWithoutPayload++;
                    if (m.HasPayload)
                    {
                        state.RetainedBytes += m.PayloadLength;
                        state.AddArchiveCandidate(m.Id, false);
                    }
                    break;
                case SnapshotStage.Scheduled:
                    state.Hold(m);
                    state._order.JoinLane(m);
                    state.TrackExpiry(m, s.ExpiresAt);
                    state._order.EnterScheduled(m, s.DueAt);
                    break;
                default:
                    // In id order, like new arrivals; one whose payload is stored in the snapshot joins the returns,
                    // so the arrivals' queues keep their order.
                    // One whose payload is archived (a redriven dead letter) is read back from there as a return.
                    state.Hold(m);
                    state._order.JoinLane(m);
                    state.TrackExpiry(m, s.ExpiresAt);
                    state._order.EnterReady(m, arriving: m.SequenceNr != 0);
                    break;
            }
        }
        foreach (var s in snapshot.Succeeded)
            state.Retain(new FinishedMessage(s.Id, s.Type, s.Status, s.Attempts, s.EnqueuedAt, s.CompletedAt, s.Result, s.ArchiveSeq));
        if (!snapshot.IdempotencyKeys.IsDefault)
            foreach (var record in snapshot.IdempotencyKeys) state._keys.Add(record);
        state.RestoreFollowUps(snapshot);
        return state;
    }

    private void TrackExpiry(StoredMessage message, DateTime? expiresAt)
    {
        if (expiresAt is not { } at) return;
        message.ExpiresAt = at;
        _expiries.Enqueue(message, at);
    }
}

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
/// </summary>
internal sealed class QueueState
{
    private readonly MessageIndex _live = new();
    private readonly SortedDictionary<long, StoredMessage> _dead = new();
    // The ready set, in three parts. New messages arrive in id order and join _readyLoaded, or _readyUnloaded once a
    // payload has been left in the journal (then every later one is, until the backlog is read back: every id in
    // _readyLoaded is below every id in _readyUnloaded). Messages that come back (retries, redrives, returns) join
    // _readyReturns, ordered by id. An entry whose message is no longer Ready is skipped when it reaches the front;
    // a message may have two entries, and the first one taken wins.
    private readonly Queue<StoredMessage> _readyLoaded = new();
    private readonly Queue<StoredMessage> _readyUnloaded = new();
    private readonly PriorityQueue<StoredMessage, long> _readyReturns = new();
    private readonly Dictionary<long, StoredMessage> _inFlight = new();
    private readonly PriorityQueue<StoredMessage, DateTime> _scheduled = new();
    private readonly Queue<SucceededMessage> _succeeded = new();
    private readonly Dictionary<long, SucceededMessage> _succeededById = new();
    private readonly HashSet<string>? _allowedTypes;

    public QueueState(string queueId, QueueOptions options)
    {
        QueueId = queueId;
        Options = options;
        _allowedTypes = options.AllowedTypes.Count > 0 ? new HashSet<string>(options.AllowedTypes, StringComparer.Ordinal) : null;
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

    /// <summary>Messages held and not finished: ready, in flight and scheduled.</summary>
    public int PendingCount => _live.Count;
    public int ReadyCount { get; private set; }
    public int InFlightCount => _inFlight.Count;
    public int ScheduledCount { get; private set; }
    public int DeadLetterCount => _dead.Count;

    /// <summary>Ready messages whose payload is only in the journal.</summary>
    public int ReadyWithoutPayload { get; private set; }

    /// <summary>Dead letters whose payload is only in the journal (after a recovery replayed their failure).</summary>
    public int DeadWithoutPayload { get; private set; }

    /// <summary>
    /// Payload bytes in memory of ready messages the journal also has: the measure of the payload budget. Deliveries
    /// in flight are bounded by credit instead, and a scheduled retry lets go of its payload until it is due.
    /// </summary>
    public long ReadyPayloadBytes { get; private set; }

    /// <summary>Checks a new message against the queue's limits. <paramref name="buffered"/> counts messages accepted but not yet applied.</summary>
    public (RejectionCode Code, string Reason)? Validate(string type, int payloadLength, ImmutableDictionary<string, string>? headers, int buffered)
    {
        if (!Names.IsValidMessageType(type))
            return (RejectionCode.InvalidMessageType, $"Message type '{Truncate(type)}' is invalid: {Names.TypeNameRule}.");
        if (_allowedTypes is not null && !_allowedTypes.Contains(type))
            return (RejectionCode.UnknownMessageType, $"Queue '{QueueId}' does not accept messages of type '{type}'; it accepts: {string.Join(", ", _allowedTypes.Order(StringComparer.Ordinal))}.");
        if (payloadLength > Options.MaxPayloadBytes)
            return (RejectionCode.PayloadTooLarge, $"Payload of {payloadLength} bytes exceeds the limit of {Options.MaxPayloadBytes} bytes for queue '{QueueId}'.");
        if (headers is { Count: > 0 } && !HeadersAreValid(headers, out var headerError))
            return (RejectionCode.InvalidHeaders, headerError);
        if (_live.Count + buffered >= Options.MaxLength)
            return (RejectionCode.QueueFull, $"Queue '{QueueId}' is full ({Options.MaxLength} messages).");
        return null;
    }

    /// <summary>At most this many headers per message.</summary>
    public const int MaxHeaders = 64;

    /// <summary>At most this many characters in all header names and values together.</summary>
    public const int MaxHeaderChars = 16 * 1024;

    private static bool HeadersAreValid(ImmutableDictionary<string, string> headers, out string error)
    {
        if (headers.Count > MaxHeaders)
        {
            error = $"At most {MaxHeaders} headers are allowed, got {headers.Count}.";
            return false;
        }
        var total = 0;
        foreach (var (key, value) in headers)
        {
            if (string.IsNullOrEmpty(key))
            {
                error = "Header names must not be empty.";
                return false;
            }
            total += key.Length + (value?.Length ?? 0);
        }
        if (total > MaxHeaderChars)
        {
            error = $"Headers total {total} characters; the limit is {MaxHeaderChars}.";
            return false;
        }
        error = "";
        return true;
    }

    private static string Truncate(string? value) => value is null ? "" : value.Length <= 80 ? value : value[..80] + "…";

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
                    // Once one payload is left in the journal, every later one is too, so they come back in id order.
                    var keep = sequenceNr == 0 || (ReadyWithoutPayload == 0 && ReadyPayloadBytes + m.Payload.Length <= Options.PayloadMemoryBytes);
                    var message = new StoredMessage(m.Id, m.Type, m.Payload, m.Headers, m.EnqueuedAt, sequenceNr, keep);
                    _live.Set(message);
                    EnterReady(message, arriving: true);
                    if (m.Id > LastId) LastId = m.Id;
                }
                TotalEnqueued += e.Messages.Length;
                break;
            case MessagesAcked e:
                foreach (var ack in e.Acks)
                {
                    if (!_live.Remove(ack.Id, out var message)) continue;
                    Forget(message);
                    TotalSucceeded++;
                    Retain(new SucceededMessage(message.Id, message.Type, ack.Attempt, message.EnqueuedAt, ack.CompletedAt, ack.Result));
                }
                break;
            case RetryScheduled e:
                if (_live.TryGetValue(e.Id, out var retried))
                {
                    LeaveStage(retried);
                    retried.FailedAttempts = e.Attempt;
                    retried.RecordError(e.Error);
                    retried.DueAt = e.DueAt;
                    retried.Stage = Stage.Scheduled;
                    // Until it is due, the journal keeps the payload; it is read back with the ready ones.
                    if (retried.SequenceNr != 0) retried.DropPayload();
                    _scheduled.Enqueue(retried, e.DueAt);
                    ScheduledCount++;
                    TotalFailedAttempts++;
                }
                break;
            case DeadLettered e:
                if (_live.Remove(e.Id, out var dead))
                {
                    LeaveStage(dead);
                    dead.FailedAttempts = e.Attempt;
                    dead.RecordError(e.Error);
                    dead.Stage = Stage.DeadLettered;
                    dead.DeadLetterReason = e.Reason;
                    dead.FinishedAt = e.Error.At;
                    _dead[dead.Id] = dead;
                    if (dead.HasPayload) Pin(dead);
                    else DeadWithoutPayload++;
                    TotalFailedAttempts++;
                    TotalDeadLettered++;
                }
                break;
            case Discarded e:
                if (_live.Remove(e.Id, out var discarded))
                {
                    Forget(discarded);
                    TotalFailedAttempts++;
                    TotalDiscarded++;
                }
                break;
            case DeadLettersRedrivenEvent e:
                foreach (var id in e.Ids)
                {
                    if (!_dead.Remove(id, out var redriven)) continue;
                    if (!redriven.HasPayload) DeadWithoutPayload--;
                    redriven.FailedAttempts = 0;
                    redriven.DeadLetterReason = null;
                    redriven.FinishedAt = null;
                    _live.Set(redriven);
                    EnterReady(redriven, arriving: false);
                }
                break;
            case DeadLettersPurgedEvent e:
                foreach (var id in e.Ids)
                {
                    if (!_dead.Remove(id, out var purged)) continue;
                    if (!purged.HasPayload) DeadWithoutPayload--;
                    purged.Stage = Stage.Gone;
                }
                break;
            default:
                throw new ArgumentException($"Unknown queue event {evt.GetType().Name}.", nameof(evt));
        }
    }

    /// <summary>
    /// Makes memory the payload's home (a dead letter keeps it), so the journal event need not be kept for it. The
    /// payload gets an array of its own: one read back from the journal is a slice of its whole event.
    /// </summary>
    private static void Pin(StoredMessage message)
    {
        message.SequenceNr = 0;
        message.AttachPayload(message.Payload.ToArray());
    }

    /// <summary>A message that is no longer held.</summary>
    private void Forget(StoredMessage message)
    {
        LeaveStage(message);
        message.Stage = Stage.Gone;
    }

    /// <summary>The bytes a ready message counts against the payload budget.</summary>
    private static int BudgetedBytes(StoredMessage message) => message.HasPayload && message.SequenceNr != 0 ? message.Payload.Length : 0;

    private void EnterReady(StoredMessage message, bool arriving)
    {
        message.Stage = Stage.Ready;
        ReadyCount++;
        ReadyPayloadBytes += BudgetedBytes(message);
        if (!message.HasPayload) ReadyWithoutPayload++;
        if (!arriving) _readyReturns.Enqueue(message, message.Id);
        else if (message.HasPayload) _readyLoaded.Enqueue(message);
        else _readyUnloaded.Enqueue(message);
    }

    /// <summary>Removes a message from the index of its current stage.</summary>
    private void LeaveStage(StoredMessage message)
    {
        switch (message.Stage)
        {
            case Stage.Ready:
                // Its queue entry is skipped when it reaches the front; trimming the fronts lets go of finished messages.
                ReadyCount--;
                ReadyPayloadBytes -= BudgetedBytes(message);
                if (!message.HasPayload) ReadyWithoutPayload--;
                message.Stage = Stage.Gone;
                TrimFronts();
                break;
            case Stage.InFlight or Stage.Completing or Stage.Failing:
                _inFlight.Remove(message.Id);
                message.WorkerSlot = -1;
                break;
            case Stage.Scheduled:
                // The priority queue entry is skipped lazily: it no longer matches the message's stage.
                ScheduledCount--;
                break;
        }
    }

    private void TrimFronts()
    {
        // A message that left the ready set and came back without its payload (a replayed retry) has a newer entry
        // where it belongs; the old one here is skipped.
        while (_readyLoaded.TryPeek(out var head) && (head.Stage != Stage.Ready || !head.HasPayload)) _readyLoaded.Dequeue();
        while (_readyReturns.TryPeek(out var head, out _) && head.Stage != Stage.Ready) _readyReturns.Dequeue();
        while (_readyUnloaded.TryPeek(out var head) && (head.Stage != Stage.Ready || head.HasPayload))
        {
            _readyUnloaded.Dequeue();
            if (head.Stage == Stage.Ready) _readyLoaded.Enqueue(head);
        }
        if (ReadyWithoutPayload == 0)
        {
            // Whatever is left there has its payload back (or is finished): it all goes on, in order.
            while (_readyUnloaded.TryDequeue(out var rest))
                if (rest.Stage == Stage.Ready) _readyLoaded.Enqueue(rest);
        }
    }

    private void Retain(SucceededMessage succeeded)
    {
        if (Options.SucceededRetention == 0) return;
        _succeeded.Enqueue(succeeded);
        _succeededById[succeeded.Id] = succeeded;
        while (_succeeded.Count > Options.SucceededRetention)
            _succeededById.Remove(_succeeded.Dequeue().Id);
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
            TrimFronts();
            if (_readyReturns.TryPeek(out var returned, out _) && !returned.HasPayload) return returned.SequenceNr;
            if (_readyUnloaded.TryPeek(out var waiting) && (ReadyPayloadBytes < Options.PayloadMemoryBytes / 2 || _readyLoaded.Count == 0))
                return waiting.SequenceNr;
            if (DeadWithoutPayload > 0)
                foreach (var dead in _dead.Values)
                    if (!dead.HasPayload) return dead.SequenceNr;
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
            ReadyPayloadBytes += m.Payload.Length;
            ReadyWithoutPayload--;
        }
        TrimFronts();
        return attached;
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
    /// Takes the oldest ready message whose payload is in memory and marks it in flight with
    /// <paramref name="workerSlot"/>; null when there is none (see <see cref="PayloadsWanted"/>).
    /// </summary>
    public StoredMessage? Dispatch(int workerSlot, DateTime now)
    {
        TrimFronts();
        _readyLoaded.TryPeek(out var fresh);
        _readyReturns.TryPeek(out var returned, out _);
        if (returned is { HasPayload: false }) returned = null;
        StoredMessage message;
        if (fresh is not null && (returned is null || fresh.Id <= returned.Id)) message = _readyLoaded.Dequeue();
        else if (returned is not null) message = _readyReturns.Dequeue();
        else return null;
        ReadyCount--;
        ReadyPayloadBytes -= BudgetedBytes(message);
        message.Stage = Stage.InFlight;
        message.WorkerSlot = workerSlot;
        message.LeaseDeadline = now + Options.Lease;
        _inFlight.Add(message.Id, message);
        return message;
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

    /// <summary>Puts a completing or failing message back in the ready set, for a write that was rejected.</summary>
    public void ReturnToReady(long id)
    {
        if (_live.TryGetValue(id, out var message) && message.Stage is Stage.Completing or Stage.Failing or Stage.InFlight)
        {
            LeaveStage(message);
            EnterReady(message, arriving: false);
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

    /// <summary>Moves scheduled retries that are due into the ready set; returns how many moved.</summary>
    public int PromoteDueRetries(DateTime now)
    {
        var moved = 0;
        while (_scheduled.TryPeek(out var message, out var dueAt))
        {
            var current = message.Stage == Stage.Scheduled && message.DueAt == dueAt && _live.ContainsKey(message.Id);
            if (current && dueAt > now) break;
            _scheduled.Dequeue();
            if (!current) continue;
            ScheduledCount--;
            EnterReady(message, arriving: false);
            moved++;
        }
        return moved;
    }

    /// <summary>When the next scheduled retry is due, if any.</summary>
    public DateTime? NextDueAt
    {
        get
        {
            while (_scheduled.TryPeek(out var message, out var dueAt))
            {
                if (message.Stage == Stage.Scheduled && message.DueAt == dueAt && _live.ContainsKey(message.Id)) return dueAt;
                _scheduled.Dequeue();
            }
            return null;
        }
    }

    /// <summary>The oldest message waiting for a worker.</summary>
    public DateTime? OldestReadyEnqueuedAt
    {
        get
        {
            TrimFronts();
            DateTime? oldest = null;
            foreach (var head in new[] { _readyLoaded.TryPeek(out var a) ? a : null, _readyUnloaded.TryPeek(out var b) ? b : null, _readyReturns.TryPeek(out var c, out _) ? c : null })
                if (head is not null && (oldest is null || head.EnqueuedAt < oldest)) oldest = head.EnqueuedAt;
            return oldest;
        }
    }

    // ---------------------------------------------------------------- failure policy

    /// <summary>
    /// Decides what a failed attempt leads to, following the handler's request, then the first matching rule, then
    /// the policy's attempt limit and backoff. <paramref name="random01"/> is uniform in [0, 1) and drives jitter.
    /// </summary>
    public IQueueEvent DecideFailure(StoredMessage message, ErrorInfo error, RequestedFailureAction requested, TimeSpan? retryAfter, DateTime now, double random01)
    {
        var attempt = message.Attempt;
        var policy = Options.Retry;
        if (requested == RequestedFailureAction.DeadLetter)
            return new DeadLettered(message.Id, attempt, error, "The handler asked for the message to be dead-lettered.");

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

        var delay = requested == RequestedFailureAction.RetryAfter && retryAfter is { } asked
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
                Stage.Ready => m.FailedAttempts > 0 ? MessageStatus.FailedRetrying : MessageStatus.Queued,
                Stage.InFlight or Stage.Completing or Stage.Failing => MessageStatus.InFlight,
                Stage.Scheduled => MessageStatus.FailedRetrying,
                _ => MessageStatus.DeadLettered,
            };
            var attempts = m.Stage is Stage.InFlight or Stage.Completing or Stage.Failing ? m.Attempt : m.FailedAttempts;
            return new QueueQueries.MessageInfo(QueueId, m.Id, m.Type, status, attempts, m.EnqueuedAt,
                m.Stage == Stage.Scheduled ? m.DueAt : null, m.FinishedAt, m.Errors, null, m.HasPayload ? m.Payload : (ReadOnlyMemory<byte>?)null, m.Headers);
        }
        if (_succeededById.TryGetValue(id, out var s))
        {
            return new QueueQueries.MessageInfo(QueueId, s.Id, s.Type, MessageStatus.Succeeded, s.Attempts, s.EnqueuedAt,
                null, s.CompletedAt, ImmutableList<ErrorInfo>.Empty, s.Result, null, ImmutableDictionary<string, string>.Empty);
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
        if (filter.Fingerprint is { } fingerprint && (last is null || Fingerprint.Of(last.Type, last.Message) != fingerprint)) return false;
        return true;
    }

    /// <summary>A listing entry for a dead letter.</summary>
    public static DeadLetterCommands.DeadLetterSummary Summarize(StoredMessage m)
    {
        var last = m.Errors.Count > 0 ? m.Errors[^1] : null;
        return new DeadLetterCommands.DeadLetterSummary(m.Id, m.Type, m.FailedAttempts, m.EnqueuedAt, m.FinishedAt, m.DeadLetterReason ?? "",
            last, last is null ? "" : Fingerprint.Of(last.Type, last.Message));
    }

    /// <summary>Dead letters grouped by the fingerprint of their last error, largest group first.</summary>
    public ImmutableArray<DeadLetterCommands.DeadLetterGroup> GroupDeadLetters() =>
        _dead.Values
            .GroupBy(m => m.Errors.Count > 0 ? Fingerprint.Of(m.Errors[^1].Type, m.Errors[^1].Message) : "")
            .Select(g =>
            {
                var sample = g.First().Errors.LastOrDefault();
                return new DeadLetterCommands.DeadLetterGroup(g.Key, sample?.Type ?? "", sample?.Message ?? "", g.Count(),
                    g.Select(m => m.Type).Distinct().Order(StringComparer.Ordinal).ToImmutableArray(),
                    g.Min(m => m.FinishedAt), g.Max(m => m.FinishedAt));
            })
            .OrderByDescending(g => g.Count).ThenBy(g => g.Fingerprint, StringComparer.Ordinal)
            .ToImmutableArray();

    /// <summary>Every held message (live and dead), for invariant checks.</summary>
    public IEnumerable<StoredMessage> HeldMessages => _live.Values.Concat(_dead.Values);

    /// <summary>True when the message succeeded and is still retained.</summary>
    public bool IsRetainedSuccess(long id) => _succeededById.ContainsKey(id);

    // ---------------------------------------------------------------- snapshots

    /// <summary>
    /// The durable state. A payload the journal also holds is not copied into it, only the event's sequence number;
    /// payloads that live only in memory (dead letters) are.
    /// </summary>
    public QueueSnapshot ToSnapshot()
    {
        var messages = ImmutableArray.CreateBuilder<SnapshotMessage>(_live.Count + _dead.Count);
        foreach (var m in _live.Values.Concat(_dead.Values).OrderBy(m => m.Id))
        {
            var stage = m.Stage switch
            {
                Stage.Scheduled => SnapshotStage.Scheduled,
                Stage.DeadLettered => SnapshotStage.DeadLettered,
                _ => SnapshotStage.Ready,
            };
            messages.Add(new SnapshotMessage(m.Id, m.Type, m.SequenceNr == 0 ? m.Payload : default, m.Headers, m.EnqueuedAt, m.FailedAttempts, m.Errors,
                stage, stage == SnapshotStage.Scheduled ? m.DueAt : default, m.DeadLetterReason, m.FinishedAt, m.SequenceNr));
        }
        var succeeded = _succeeded.Select(s => new SnapshotSucceeded(s.Id, s.Type, s.Attempts, s.EnqueuedAt, s.CompletedAt, s.Result)).ToImmutableArray();
        return new QueueSnapshot(LastId, new QueueTotals(TotalEnqueued, TotalSucceeded, TotalFailedAttempts, TotalDeadLettered, TotalDiscarded),
            messages.MoveToImmutable(), succeeded);
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
        };
        foreach (var s in snapshot.Messages)
        {
            // Payloads the journal holds are read back when they are needed.
            var m = new StoredMessage(s.Id, s.Type, s.Payload, s.Headers, s.EnqueuedAt, s.SequenceNr, hasPayload: s.SequenceNr == 0)
            {
                FailedAttempts = s.FailedAttempts,
                Errors = s.Errors,
                DeadLetterReason = s.DeadLetterReason,
                FinishedAt = s.FinishedAt,
            };
            switch (s.Stage)
            {
                case SnapshotStage.DeadLettered:
                    m.Stage = Stage.DeadLettered;
                    state._dead[m.Id] = m;
                    if (!m.HasPayload) state.DeadWithoutPayload++;
                    break;
                case SnapshotStage.Scheduled:
                    m.Stage = Stage.Scheduled;
                    m.DueAt = s.DueAt;
                    state._live.Set(m);
                    state._scheduled.Enqueue(m, s.DueAt);
                    state.ScheduledCount++;
                    break;
                default:
                    // In id order, like new arrivals; one whose payload is stored in the snapshot joins the returns,
                    // so the arrivals' queues keep their order.
                    state._live.Set(m);
                    state.EnterReady(m, arriving: !m.HasPayload);
                    break;
            }
        }
        foreach (var s in snapshot.Succeeded)
            state.Retain(new SucceededMessage(s.Id, s.Type, s.Attempts, s.EnqueuedAt, s.CompletedAt, s.Result));
        return state;
    }
}

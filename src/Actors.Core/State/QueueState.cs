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
/// </summary>
internal sealed class QueueState
{
    private readonly Dictionary<long, StoredMessage> _live = new();
    private readonly SortedDictionary<long, StoredMessage> _dead = new();
    private readonly SortedSet<long> _ready = new();
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
    public int ReadyCount => _ready.Count;
    public int InFlightCount => _inFlight.Count;
    public int ScheduledCount { get; private set; }
    public int DeadLetterCount => _dead.Count;

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

    /// <summary>Applies a committed event.</summary>
    public void Apply(IQueueEvent evt)
    {
        switch (evt)
        {
            case MessagesEnqueued e:
                foreach (var m in e.Messages)
                {
                    var message = new StoredMessage(m.Id, m.Type, m.Payload, m.Headers, m.EnqueuedAt) { Stage = Stage.Ready };
                    _live[m.Id] = message;
                    _ready.Add(m.Id);
                    if (m.Id > LastId) LastId = m.Id;
                }
                TotalEnqueued += e.Messages.Length;
                break;
            case MessagesAcked e:
                foreach (var ack in e.Acks)
                {
                    if (!_live.Remove(ack.Id, out var message)) continue;
                    LeaveStage(message);
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
                    TotalFailedAttempts++;
                    TotalDeadLettered++;
                }
                break;
            case Discarded e:
                if (_live.Remove(e.Id, out var discarded))
                {
                    LeaveStage(discarded);
                    TotalFailedAttempts++;
                    TotalDiscarded++;
                }
                break;
            case DeadLettersRedrivenEvent e:
                foreach (var id in e.Ids)
                {
                    if (!_dead.Remove(id, out var redriven)) continue;
                    redriven.FailedAttempts = 0;
                    redriven.DeadLetterReason = null;
                    redriven.FinishedAt = null;
                    redriven.Stage = Stage.Ready;
                    _live[id] = redriven;
                    _ready.Add(id);
                }
                break;
            case DeadLettersPurgedEvent e:
                foreach (var id in e.Ids) _dead.Remove(id);
                break;
            default:
                throw new ArgumentException($"Unknown queue event {evt.GetType().Name}.", nameof(evt));
        }
    }

    /// <summary>Removes a message from the index of its current stage.</summary>
    private void LeaveStage(StoredMessage message)
    {
        switch (message.Stage)
        {
            case Stage.Ready:
                _ready.Remove(message.Id);
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

    private void Retain(SucceededMessage succeeded)
    {
        if (Options.SucceededRetention == 0) return;
        _succeeded.Enqueue(succeeded);
        _succeededById[succeeded.Id] = succeeded;
        while (_succeeded.Count > Options.SucceededRetention)
            _succeededById.Remove(_succeeded.Dequeue().Id);
    }

    // ---------------------------------------------------------------- deliveries (volatile)

    /// <summary>Takes the oldest ready message and marks it in flight with <paramref name="workerSlot"/>.</summary>
    public StoredMessage? Dispatch(int workerSlot, DateTime now)
    {
        if (_ready.Count == 0) return null;
        var id = _ready.Min;
        _ready.Remove(id);
        var message = _live[id];
        message.Stage = Stage.InFlight;
        message.WorkerSlot = workerSlot;
        message.DispatchedAt = now;
        message.LeaseDeadline = now + Options.Lease;
        _inFlight.Add(id, message);
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
            message.Stage = Stage.Ready;
            _ready.Add(id);
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
            message.Stage = Stage.Ready;
            ScheduledCount--;
            _ready.Add(message.Id);
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
    public DateTime? OldestReadyEnqueuedAt => _ready.Count == 0 ? null : _live[_ready.Min].EnqueuedAt;

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
                m.Stage == Stage.Scheduled ? m.DueAt : null, m.FinishedAt, m.Errors, null, m.Payload, m.Headers);
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
            messages.Add(new SnapshotMessage(m.Id, m.Type, m.Payload, m.Headers, m.EnqueuedAt, m.FailedAttempts, m.Errors,
                stage, stage == SnapshotStage.Scheduled ? m.DueAt : default, m.DeadLetterReason, m.FinishedAt));
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
            var m = new StoredMessage(s.Id, s.Type, s.Payload, s.Headers, s.EnqueuedAt)
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
                    break;
                case SnapshotStage.Scheduled:
                    m.Stage = Stage.Scheduled;
                    m.DueAt = s.DueAt;
                    state._live[m.Id] = m;
                    state._scheduled.Enqueue(m, s.DueAt);
                    state.ScheduledCount++;
                    break;
                default:
                    m.Stage = Stage.Ready;
                    state._live[m.Id] = m;
                    state._ready.Add(m.Id);
                    break;
            }
        }
        foreach (var s in snapshot.Succeeded)
            state.Retain(new SucceededMessage(s.Id, s.Type, s.Attempts, s.EnqueuedAt, s.CompletedAt, s.Result));
        return state;
    }
}

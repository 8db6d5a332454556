using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Protocol;
using static Actors.Protocol.QueueEvents;

namespace Actors.State;

/// <summary>
/// The volatile delivery part: the next message for a worker, leases, cancellation, expiry before the start, due
/// messages, and what a failed attempt leads to.
/// </summary>
internal sealed partial class QueueState
{
    /// <summary>
    /// Takes the message that goes next (see <see cref="DispatchOrder"/>) and marks it in flight with
    /// <paramref name="workerSlot"/>; null when none can go now (see <see cref="PayloadsWanted"/>). A message found
    /// expired on the way is not started: it waits for <see cref="TakeExpired"/>. None goes while the queue is paused.
    /// </summary>
    public StoredMessage? Dispatch(int workerSlot, DateTime now)
    {
        if (IsPaused) return null;
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

    /// <summary>
    /// Starts purging the queue: every message waiting for delivery (ready, or scheduled: delayed or waiting for a
    /// retry) leaves the dispatch order, in id order; in-flight messages, ones whose outcome is being written, and dead
    /// letters stay. The caller persists <see cref="MessagesPurged"/> with the ids (or, if that write is rejected, calls
    /// <see cref="ReturnToReady"/> for each).
    /// </summary>
    public ImmutableArray<long> BeginPurge()
    {
        var ids = ImmutableArray.CreateBuilder<long>();
        foreach (var message in _live.Values)
        {
            if (message.Stage is not (Stage.Ready or Stage.Scheduled)) continue;
            LeaveStage(message);
            message.Stage = Stage.Ending;
            ids.Add(message.Id);
        }
        ids.Sort();
        return ids.ToImmutable();
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

    /// <summary>
    /// Hands back the deliveries <paramref name="workerSlot"/> holds, for a consumer that detached or stopped: they are
    /// ready again at once, with the same attempt (not a failed attempt: no error, no delay, not counted), and marked
    /// <see cref="StoredMessage.HandedBack"/>. Returns how many.
    /// </summary>
    public int HandBack(int workerSlot)
    {
        var held = InFlightAt(workerSlot);
        foreach (var message in held)
        {
            message.HandedBack = true;
            ReturnToReady(message.Id);
        }
        return held.Count;
    }

    /// <summary>The worker slot holding <paramref name="id"/> when <paramref name="attempt"/> is its delivery in flight; -1 otherwise.</summary>
    public int SlotOf(long id, int attempt) =>
        _live.TryGetValue(id, out var message) && message.Stage == Stage.InFlight && message.Attempt == attempt ? message.WorkerSlot : -1;

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
}

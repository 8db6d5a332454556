namespace Actors.State;

/// <summary>
/// Which message may start next: the one place every delivery rule lives. Messages wait either for a due time
/// (a delayed message, a retry's backoff) in a heap ordered by (due time, id), or in the ready set.
/// <para>
/// The ready set hands out the highest priority first (strict: a level starts only when every higher one is empty),
/// then the oldest. A keyed message enters it only while it may start (<see cref="KeyLanes"/>: first of its key, and
/// nothing of the key running); the others of its key wait in their lane, counted as ready, and the next one joins the
/// back of the ready set when the one before finishes, so keys take turns and one hot key cannot starve the rest.
/// </para>
/// <para>
/// Priority 0 (most messages) has three parts. New messages arrive in id order and join <c>_loaded</c>, or
/// <c>_unloaded</c> once a payload has been left in the journal (then every later one is, until the backlog is read
/// back: every id in <c>_loaded</c> is below every id in <c>_unloaded</c>). Messages that come back (due ones, retries,
/// redrives, returns) join <c>_returns</c>, ordered by id; a key's next message by the newest id at the time it may
/// start. Higher priorities share one heap, <c>_urgent</c>. Entries are removed lazily: one whose message left the
/// ready set (or the schedule, for the heap), or may no longer start, is skipped when it reaches the front, and a
/// message may have two entries, the first one taken wins.
/// </para>
/// </summary>
internal sealed class DispatchOrder
{
    private readonly Queue<StoredMessage> _loaded = new();
    private readonly Queue<StoredMessage> _unloaded = new();
    private readonly PriorityQueue<StoredMessage, long> _returns = new();
    private readonly PriorityQueue<StoredMessage, (int Level, long Turn)> _urgent = new();
    private readonly PriorityQueue<StoredMessage, (DateTime DueAt, long Id)> _due = new();
    private readonly KeyLanes _lanes = new();
    // The highest id seen: a key's next message takes its turn after every message that arrived before it may start.
    private long _newestId;

    /// <summary>The per-key lanes.</summary>
    public KeyLanes Lanes => _lanes;

    /// <summary>Messages waiting for a worker.</summary>
    public int ReadyCount { get; private set; }

    /// <summary>Ready messages whose payload is only in the journal.</summary>
    public int ReadyWithoutPayload { get; private set; }

    /// <summary>Payload bytes in memory of ready messages the journal also has (the measure of the payload budget).</summary>
    public long ReadyPayloadBytes { get; private set; }

    /// <summary>Messages waiting for a due time.</summary>
    public int ScheduledCount { get; private set; }

    /// <summary>Payload bytes in memory of scheduled messages the journal also has.</summary>
    public long ScheduledPayloadBytes { get; private set; }

    /// <summary>The bytes a ready message counts against the payload budget.</summary>
    private static int BudgetedBytes(StoredMessage message) => message.HasPayload && message.SequenceNr != 0 ? message.Payload.Length : 0;

    /// <summary>
    /// Makes a message ready. <paramref name="arriving"/> is true for a new message (it joins the back, in id
    /// order); false for one that comes back (it goes where its id puts it).
    /// </summary>
    public void EnterReady(StoredMessage message, bool arriving)
    {
        message.Stage = Stage.Ready;
        message.DueAt = default;
        ReadyCount++;
        ReadyPayloadBytes += BudgetedBytes(message);
        if (!message.HasPayload) ReadyWithoutPayload++;
        if (message.Id > _newestId) _newestId = message.Id;
        if (message.Key is null)
        {
            Line(message, arriving, message.Id);
            return;
        }
        var next = _lanes.Stopped(message);
        // Otherwise it waits in its lane, and joins the line when the one before it finishes.
        if (_lanes.MayStart(message)) Line(message, arriving, message.Id);
        if (next is not null) TakeTurn(next);
    }

    /// <summary>Puts a ready message that may start in the line, at <paramref name="turn"/> among returns.</summary>
    private void Line(StoredMessage message, bool arriving, long turn)
    {
        if (message.Priority > 0) _urgent.Enqueue(message, (-message.Priority, turn));
        else if (!arriving) _returns.Enqueue(message, turn);
        else if (message.HasPayload) _loaded.Enqueue(message);
        else _unloaded.Enqueue(message);
    }

    /// <summary>A key's next message may start: it joins the back of the line, after everything that may start now.</summary>
    private void TakeTurn(StoredMessage message) => Line(message, arriving: false, _newestId);

    /// <summary>A keyed message joins its lane (on arrival, redrive or recovery), before it enters the ready set or the schedule.</summary>
    public void JoinLane(StoredMessage message)
    {
        if (message.Key is not null) _lanes.Join(message);
    }

    /// <summary>A running keyed message stops without finishing or coming back (it parked its key).</summary>
    public void StopRunning(StoredMessage message)
    {
        if (message.Key is not null && _lanes.Stopped(message) is { } next) TakeTurn(next);
    }

    /// <summary>A message reached a final state (or left its key, as a skipped parked one): the next one of its key may start.</summary>
    public void LeaveLane(StoredMessage message)
    {
        if (message.Key is not null && _lanes.Leave(message) is { } next) TakeTurn(next);
    }

    /// <summary>Takes a ready message out of the ready set by other means than dispatch (acked, cancelled, expired…).</summary>
    public void LeaveReady(StoredMessage message)
    {
        ReadyCount--;
        ReadyPayloadBytes -= BudgetedBytes(message);
        if (!message.HasPayload) ReadyWithoutPayload--;
        message.Stage = Stage.Gone;
        Trim();
    }

    /// <summary>Schedules a message for <paramref name="dueAt"/>; equal due times keep id order.</summary>
    public void EnterScheduled(StoredMessage message, DateTime dueAt)
    {
        message.Stage = Stage.Scheduled;
        message.DueAt = dueAt;
        ScheduledCount++;
        ScheduledPayloadBytes += BudgetedBytes(message);
        if (message.Id > _newestId) _newestId = message.Id;
        _due.Enqueue(message, (dueAt, message.Id));
        if (message.Key is not null && _lanes.Stopped(message) is { } next) TakeTurn(next);
    }

    /// <summary>Takes a scheduled message off the schedule (its heap entry is skipped lazily).</summary>
    public void LeaveScheduled(StoredMessage message)
    {
        ScheduledCount--;
        ScheduledPayloadBytes -= BudgetedBytes(message);
        message.Stage = Stage.Gone;
    }

    private static bool IsCurrent(StoredMessage message, (DateTime DueAt, long Id) entry) =>
        message.Stage == Stage.Scheduled && message.DueAt == entry.DueAt;

    /// <summary>
    /// Moves scheduled messages whose due time is at or before <paramref name="now"/> into the ready set, at most
    /// <paramref name="limit"/> of them; returns how many moved. Never early: a message due after now stays.
    /// </summary>
    public int PromoteDue(DateTime now, int limit = int.MaxValue)
    {
        var moved = 0;
        while (moved < limit && _due.TryPeek(out var message, out var entry))
        {
            var current = IsCurrent(message, entry);
            if (current && entry.DueAt > now) break;
            _due.Dequeue();
            if (!current) continue;
            ScheduledCount--;
            ScheduledPayloadBytes -= BudgetedBytes(message);
            EnterReady(message, arriving: false);
            moved++;
        }
        return moved;
    }

    /// <summary>When the next scheduled message is due, if any.</summary>
    public DateTime? NextDueAt
    {
        get
        {
            while (_due.TryPeek(out var message, out var entry))
            {
                if (IsCurrent(message, entry)) return entry.DueAt;
                _due.Dequeue();
            }
            return null;
        }
    }

    /// <summary>
    /// Takes the ready message that goes next: the highest priority, then the lowest id (or turn) whose payload is in
    /// memory; null when there is none (see <see cref="PayloadWanted"/>). The caller gives it its next stage.
    /// </summary>
    public StoredMessage? TakeNext()
    {
        Trim();
        StoredMessage message;
        if (_urgent.TryPeek(out var urgent, out _))
        {
            // Strict priority: a higher level waits for its payload rather than let a lower one go first.
            if (!urgent.HasPayload) return null;
            message = _urgent.Dequeue();
        }
        else
        {
            _loaded.TryPeek(out var fresh);
            _returns.TryPeek(out var returned, out var turn);
            if (returned is { HasPayload: false }) returned = null;
            if (fresh is not null && (returned is null || fresh.Id <= turn)) message = _loaded.Dequeue();
            else if (returned is not null) message = _returns.Dequeue();
            else return null;
        }
        ReadyCount--;
        ReadyPayloadBytes -= BudgetedBytes(message);
        message.Stage = Stage.Gone;
        if (message.Key is not null) _lanes.Started(message);
        return message;
    }

    /// <summary>
    /// The journal sequence number to read ready payloads from next, or null: the oldest waiting message that came
    /// back without its payload, else the oldest new one once the payloads in memory fall under half of
    /// <paramref name="budget"/> or none of them can go first.
    /// </summary>
    public long? PayloadWanted(long budget)
    {
        Trim();
        // One whose payload is in the queue's archive (SequenceNr 0) is read from there: see ReturnWaitingForPayload.
        if (_urgent.TryPeek(out var urgent, out _) && !urgent.HasPayload && urgent.SequenceNr != 0) return urgent.SequenceNr;
        if (_returns.TryPeek(out var returned, out _) && !returned.HasPayload && returned.SequenceNr != 0) return returned.SequenceNr;
        if (_unloaded.TryPeek(out var waiting) && (ReadyPayloadBytes < budget / 2 || _loaded.Count == 0)) return waiting.SequenceNr;
        return null;
    }

    /// <summary>The oldest message that came back without its payload, if it is first in line among the returns.</summary>
    public StoredMessage? ReturnWaitingForPayload
    {
        get
        {
            Trim();
            if (_urgent.TryPeek(out var urgent, out _)) return urgent.HasPayload ? null : urgent;
            return _returns.TryPeek(out var returned, out _) && !returned.HasPayload ? returned : null;
        }
    }

    /// <summary>A ready message got its payload back from the journal (or the archive).</summary>
    public void PayloadAttached(StoredMessage message)
    {
        ReadyPayloadBytes += BudgetedBytes(message);
        ReadyWithoutPayload--;
    }

    /// <summary>When the oldest ready message was enqueued.</summary>
    public DateTime? OldestReadyEnqueuedAt
    {
        get
        {
            Trim();
            DateTime? oldest = null;
            if (_loaded.TryPeek(out var a)) oldest = a.EnqueuedAt;
            if (_unloaded.TryPeek(out var b) && (oldest is null || b.EnqueuedAt < oldest)) oldest = b.EnqueuedAt;
            if (_returns.TryPeek(out var c, out _) && (oldest is null || c.EnqueuedAt < oldest)) oldest = c.EnqueuedAt;
            if (_urgent.TryPeek(out var d, out _) && (oldest is null || d.EnqueuedAt < oldest)) oldest = d.EnqueuedAt;
            return oldest;
        }
    }

    private bool MayStart(StoredMessage message) => message.Stage == Stage.Ready && (message.Key is null || _lanes.MayStart(message));

    /// <summary>Drops stale entries from the fronts and moves messages whose payload came back to where they go next.</summary>
    public void Trim()
    {
        while (_returns.TryPeek(out var head, out _) && !MayStart(head)) _returns.Dequeue();
        while (_urgent.TryPeek(out var head, out _) && !MayStart(head)) _urgent.Dequeue();
        while (_unloaded.TryPeek(out var head) && (!MayStart(head) || head.HasPayload))
        {
            _unloaded.Dequeue();
            if (MayStart(head)) _loaded.Enqueue(head);
        }
        if (ReadyWithoutPayload == 0)
        {
            // Whatever is left there has its payload back (or is finished): it all goes on, in order.
            while (_unloaded.TryDequeue(out var rest))
                if (rest.Stage == Stage.Ready) _loaded.Enqueue(rest);
        }
        // Last, as the moves above may have lined up new heads. A message that left the ready set and came back without
        // its payload (a replayed retry) has a newer entry where it belongs, and one that may not start (its key's
        // earlier one runs) is left to its lane, which lines it up again: their old entries here are skipped.
        while (_loaded.TryPeek(out var head) && (!MayStart(head) || !head.HasPayload)) _loaded.Dequeue();
    }
}

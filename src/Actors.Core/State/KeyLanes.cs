namespace Actors.State;

/// <summary>
/// The per-key lanes of a queue: for each ordering key, every held message of that key that has not reached a final
/// state, in id (enqueue) order. Only a lane's first message may start, and only while no other message of the lane is
/// running, so a key's messages run one at a time in enqueue order, across retries (a retrying message stays first),
/// lease expiries and restarts (it goes back to the front). A dead letter that parked its key stays first, blocking the
/// lane until an operator releases, skips or purges it. A lane exists only while it holds a message.
/// </summary>
internal sealed class KeyLanes
{
    private readonly Dictionary<string, Lane> _lanes = new(StringComparer.Ordinal);

    /// <summary>Keys with at least one held message.</summary>
    public int Count => _lanes.Count;

    /// <summary>Adds a keyed message to its lane, where its id puts it.</summary>
    public void Join(StoredMessage message)
    {
        var key = message.Key!;
        if (!_lanes.TryGetValue(key, out var lane)) _lanes[key] = new Lane(message);
        else lane.Add(message);
    }

    /// <summary>
    /// Takes a message that reached a final state out of its lane; returns the lane's new first message when the lane
    /// may now start it (it is ready and nothing of the key runs), else null.
    /// </summary>
    public StoredMessage? Leave(StoredMessage message)
    {
        if (message.Key is not { } key || !_lanes.TryGetValue(key, out var lane)) return null;
        if (!lane.Remove(message)) return null;
        if (lane.IsEmpty)
        {
            _lanes.Remove(key);
            return null;
        }
        return NextOf(lane);
    }

    /// <summary>A keyed message was dispatched: its lane runs it, and nothing else of the key starts until it stops.</summary>
    public void Started(StoredMessage message)
    {
        if (message.Key is { } key && _lanes.TryGetValue(key, out var lane)) lane.Running = message;
    }

    /// <summary>
    /// A keyed message came back from a worker (to the ready set or the schedule) without finishing; returns the lane's
    /// first message when another one than <paramref name="message"/> may now start, else null.
    /// </summary>
    public StoredMessage? Stopped(StoredMessage message)
    {
        if (message.Key is not { } key || !_lanes.TryGetValue(key, out var lane) || !ReferenceEquals(lane.Running, message)) return null;
        lane.Running = null;
        return lane.First is { } first && !ReferenceEquals(first, message) ? NextOf(lane) : null;
    }

    /// <summary>True when the keyed <paramref name="message"/> is its lane's first and nothing of its key runs.</summary>
    public bool MayStart(StoredMessage message) =>
        _lanes.TryGetValue(message.Key!, out var lane) && lane.Running is null && ReferenceEquals(lane.First, message);

    /// <summary>The held messages of <paramref name="key"/>, in id order (empty when it has none).</summary>
    public IReadOnlyList<StoredMessage> MessagesOf(string key) =>
        _lanes.TryGetValue(key, out var lane) ? lane.ToList() : Array.Empty<StoredMessage>();

    /// <summary>When the oldest message waiting behind another of its key was enqueued; null when none waits.</summary>
    public DateTime? OldestBlockedEnqueuedAt()
    {
        DateTime? oldest = null;
        foreach (var lane in _lanes.Values)
        {
            // The first message waits too when its key is parked.
            var blocked = lane.First.Stage == Stage.DeadLettered ? lane.First : lane.Second;
            if (blocked is not null && (oldest is null || blocked.EnqueuedAt < oldest)) oldest = blocked.EnqueuedAt;
        }
        return oldest;
    }

    private static StoredMessage? NextOf(Lane lane) =>
        lane.Running is null && lane.First.Stage == Stage.Ready ? lane.First : null;

    /// <summary>
    /// One key's held messages in id order: the first apart (most lanes hold one message), the rest in a list read
    /// from <c>_start</c> so taking the first is cheap.
    /// </summary>
    private sealed class Lane(StoredMessage first)
    {
        private List<StoredMessage>? _rest;
        private int _start;

        public StoredMessage First { get; private set; } = first;

        /// <summary>The message of this key in flight (started and not yet finished or returned), if any.</summary>
        public StoredMessage? Running { get; set; }

        public bool IsEmpty { get; private set; }

        public StoredMessage? Second => _rest is { } rest && _start < rest.Count ? rest[_start] : null;

        public void Add(StoredMessage message)
        {
            _rest ??= new List<StoredMessage>(4);
            if (message.Id < First.Id)
            {
                // A redriven message goes back to its place: ahead of the key's later ones.
                _rest.Insert(_start, First);
                First = message;
                return;
            }
            if (_start == _rest.Count || _rest[^1].Id < message.Id)
            {
                _rest.Add(message);
                return;
            }
            var at = IndexOf(message.Id);
            if (at >= 0) return;
            _rest.Insert(~at, message);
        }

        public bool Remove(StoredMessage message)
        {
            if (ReferenceEquals(Running, message)) Running = null;
            if (ReferenceEquals(First, message))
            {
                if (_rest is { } rest && _start < rest.Count)
                {
                    First = rest[_start++];
                    if (_start == rest.Count) { rest.Clear(); _start = 0; }
                    else if (_start >= 64 && _start * 2 >= rest.Count) { rest.RemoveRange(0, _start); _start = 0; }
                }
                else IsEmpty = true;
                return true;
            }
            var at = IndexOf(message.Id);
            if (at < 0) return false;
            _rest!.RemoveAt(at);
            return true;
        }

        public List<StoredMessage> ToList()
        {
            var all = new List<StoredMessage>(1 + (_rest?.Count ?? 0) - _start) { First };
            if (_rest is { } rest) for (var i = _start; i < rest.Count; i++) all.Add(rest[i]);
            return all;
        }

        /// <summary>The index in the rest of the message with <paramref name="id"/>, or the complement of where it would go.</summary>
        private int IndexOf(long id)
        {
            if (_rest is not { } rest) return ~0;
            int lo = _start, hi = rest.Count - 1;
            while (lo <= hi)
            {
                var mid = (lo + hi) >>> 1;
                var c = rest[mid].Id.CompareTo(id);
                if (c == 0) return mid;
                if (c < 0) lo = mid + 1;
                else hi = mid - 1;
            }
            return ~lo;
        }
    }
}

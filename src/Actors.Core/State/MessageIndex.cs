namespace Actors.State;

/// <summary>
/// The held messages by id. Ids are handed out consecutively, so the messages a queue holds cluster in a window of
/// ids: they are kept in segments of <see cref="SegmentSize"/> slots (8 bytes a message instead of a hash table's
/// 30–60), and a segment is dropped when its last message leaves.
/// </summary>
internal sealed class MessageIndex
{
    private const int Shift = 10;
    public const int SegmentSize = 1 << Shift;
    private const int Mask = SegmentSize - 1;

    private readonly Dictionary<long, Segment> _segments = new();
    private long _cachedKey = long.MinValue;
    private Segment? _cached;

    public int Count { get; private set; }

    public bool TryGetValue(long id, out StoredMessage message)
    {
        message = Find(id >> Shift)?.Slots[id & Mask]!;
        return message is not null;
    }

    public bool ContainsKey(long id) => TryGetValue(id, out _);

    /// <summary>Adds or replaces the message with this id.</summary>
    public void Set(StoredMessage message)
    {
        var key = message.Id >> Shift;
        var segment = Find(key);
        if (segment is null)
        {
            segment = new Segment();
            _segments[key] = segment;
            _cachedKey = key;
            _cached = segment;
        }
        ref var slot = ref segment.Slots[message.Id & Mask];
        if (slot is null)
        {
            segment.Count++;
            Count++;
        }
        slot = message;
    }

    public bool Remove(long id, out StoredMessage message)
    {
        var key = id >> Shift;
        var segment = Find(key);
        message = segment?.Slots[id & Mask]!;
        if (message is null) return false;
        segment!.Slots[id & Mask] = null;
        Count--;
        if (--segment.Count == 0)
        {
            _segments.Remove(key);
            if (_cachedKey == key) _cached = null;
            _cachedKey = long.MinValue;
        }
        return true;
    }

    /// <summary>The messages in id order.</summary>
    public IEnumerable<StoredMessage> Values
    {
        get
        {
            foreach (var key in _segments.Keys.Order().ToList())
            {
                if (!_segments.TryGetValue(key, out var segment)) continue;
                foreach (var message in segment.Slots)
                    if (message is not null) yield return message;
            }
        }
    }

    private Segment? Find(long key)
    {
        if (key == _cachedKey) return _cached;
        if (!_segments.TryGetValue(key, out var segment)) return null;
        _cachedKey = key;
        _cached = segment;
        return segment;
    }

    private sealed class Segment
    {
        public readonly StoredMessage?[] Slots = new StoredMessage?[SegmentSize];
        public int Count;
    }
}

namespace Actors.Http.Dashboard;

/// <summary>
/// One queue's time series in memory: a ring of 1-second points for the last hour (only while someone watches the
/// queue's page: an hour of seconds is 200 KB a queue, too much to keep for a thousand queues nobody looks at), a ring
/// of 10-second points for the last hour (the overview's sparkline, the queue page's older points), and the 10-second
/// bucket being filled. A 10-s point takes the bucket's last depth, in-flight, scheduled, dead and worker counts and
/// the mean of its rates and times. Callers hold the instance's lock.
/// </summary>
internal sealed class QueueSeries
{
    /// <summary>A 10-s point every 10 s.</summary>
    public const long Step = 10;

    /// <summary>An hour of 1-s points.</summary>
    public const int SecondsCapacity = 3600;

    /// <summary>An hour of 10-s points.</summary>
    public const int TensCapacity = 360;

    private readonly float[] _sums = new float[HistoryPoint.Count];
    private long _bucket = long.MinValue;
    private int _samples;
    private HistoryPoint _last;

    /// <summary>The last hour's 1-s points, while <see cref="DetailedUntil"/> has not passed; null otherwise.</summary>
    public Ring<HistoryPoint>? Seconds { get; private set; }

    /// <summary>The last hour's 10-s points.</summary>
    public Ring<HistoryPoint> Tens { get; } = new(TensCapacity);

    /// <summary>Until when (Unix seconds) 1-s points are kept: an hour after the queue's page was last open.</summary>
    public long DetailedUntil { get; set; }

    /// <summary>
    /// Adds a sample. Returns the finished 10-s point when <paramref name="point"/> starts a new bucket, else null.
    /// </summary>
    public HistoryPoint? Add(HistoryPoint point)
    {
        if (DetailedUntil > point.Time)
        {
            Seconds ??= new Ring<HistoryPoint>(SecondsCapacity);
            if (Seconds.Count == 0 || Seconds.Last.Time < point.Time) Seconds.Add(point);
        }
        else Seconds = null;

        var bucket = BucketOf(point.Time);
        var finished = bucket > _bucket ? Close() : null;
        if (bucket < _bucket) return null; // the clock went back: drop the sample
        _bucket = bucket;
        for (var i = 0; i < _sums.Length; i++) _sums[i] += point[i];
        _samples++;
        _last = point;
        return finished;
    }

    /// <summary>The bucket's point if the bucket ended before <paramref name="now"/> (or at once when <paramref name="force"/>), else null.</summary>
    public HistoryPoint? CloseIfBefore(long now, bool force = false) => force || BucketOf(now) > _bucket ? Close() : null;

    /// <summary>Adds stored 10-s points (oldest first) that precede the ones in memory.</summary>
    public void Restore(IEnumerable<HistoryPoint> points)
    {
        foreach (var point in points)
            if (Tens.Count == 0 || Tens.Last.Time < point.Time) Tens.Add(point);
    }

    /// <summary>
    /// The points from <paramref name="from"/> on: 10-s points up to where the 1-s ring starts, then the 1-s points.
    /// </summary>
    public List<HistoryPoint> Since(long from)
    {
        var points = new List<HistoryPoint>();
        var detailFrom = Seconds is { Count: > 0 } seconds ? seconds.First.Time : long.MaxValue;
        foreach (var p in Tens) if (p.Time >= from && p.Time < detailFrom) points.Add(p);
        if (Seconds is not null) foreach (var p in Seconds) if (p.Time >= from) points.Add(p);
        return points;
    }

    /// <summary>The bucket (10-s step) a time falls in.</summary>
    public static long BucketOf(long time) => Math.DivRem(time, Step, out var rest) - (rest < 0 ? 1 : 0);

    private HistoryPoint? Close()
    {
        if (_samples == 0) return null;
        var l = _last;
        float Mean(int i) => _sums[i] / _samples;
        var point = new HistoryPoint(_bucket * Step, l.Depth, l.InFlight, l.Scheduled, l.Dead, Mean(4), Mean(5), Mean(6), Mean(7), Mean(8), l.Workers, l.Suggested);
        Array.Clear(_sums);
        _samples = 0;
        if (Tens.Count == 0 || Tens.Last.Time < point.Time) Tens.Add(point);
        return point;
    }
}

/// <summary>A fixed-capacity ring: adding to a full ring drops the oldest item. Enumerates oldest first.</summary>
internal sealed class Ring<T>(int capacity) : IEnumerable<T>
{
    private readonly T[] _items = new T[capacity];
    private int _start;

    /// <summary>How many items it holds.</summary>
    public int Count { get; private set; }

    /// <summary>The oldest item.</summary>
    public T First => Count > 0 ? _items[_start] : throw new InvalidOperationException("The ring is empty.");

    /// <summary>The newest item.</summary>
    public T Last => Count > 0 ? _items[(_start + Count - 1) % _items.Length] : throw new InvalidOperationException("The ring is empty.");

    /// <summary>Adds an item, dropping the oldest when full.</summary>
    public void Add(T item)
    {
        if (Count < _items.Length)
        {
            _items[(_start + Count) % _items.Length] = item;
            Count++;
            return;
        }
        _items[_start] = item;
        _start = (_start + 1) % _items.Length;
    }

    /// <inheritdoc />
    public IEnumerator<T> GetEnumerator()
    {
        for (var i = 0; i < Count; i++) yield return _items[(_start + i) % _items.Length];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

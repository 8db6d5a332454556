namespace Actors.State;

/// <summary>
/// Moving one-minute windows of a queue's arrivals, completions, wait and service times, kept in one-second
/// buckets. Not persisted: rates describe the recent past of this incarnation.
/// </summary>
internal sealed class QueueMetrics
{
    private const int WindowSeconds = 60;
    private readonly long[] _bucketSecond = new long[WindowSeconds];
    private readonly long[] _arrivals = new long[WindowSeconds];
    private readonly long[] _completions = new long[WindowSeconds];
    private readonly long[] _waitCount = new long[WindowSeconds];
    private readonly double[] _waitSeconds = new double[WindowSeconds];
    private readonly long[] _serviceCount = new long[WindowSeconds];
    private readonly double[] _serviceSeconds = new double[WindowSeconds];
    private readonly DateTime _startedAt;

    public QueueMetrics(DateTime startedAt)
    {
        _startedAt = startedAt;
        Array.Fill(_bucketSecond, -1);
    }

    public void RecordArrivals(int count, DateTime now) => _arrivals[Bucket(now)] += count;

    public void RecordCompletion(DateTime now) => _completions[Bucket(now)]++;

    public void RecordWait(TimeSpan wait, DateTime now)
    {
        var b = Bucket(now);
        _waitCount[b]++;
        _waitSeconds[b] += Math.Max(0, wait.TotalSeconds);
    }

    public void RecordService(TimeSpan service, DateTime now)
    {
        var b = Bucket(now);
        _serviceCount[b]++;
        _serviceSeconds[b] += Math.Max(0, service.TotalSeconds);
    }

    /// <summary>Arrivals per second over the window (or since start, when younger).</summary>
    public double ArrivalRate(DateTime now) => Sum(_arrivals, now) / WindowLength(now);

    /// <summary>Finished messages per second over the window.</summary>
    public double CompletionRate(DateTime now) => Sum(_completions, now) / WindowLength(now);

    public TimeSpan MeanWait(DateTime now) => Mean(_waitSeconds, _waitCount, now);

    public TimeSpan MeanService(DateTime now) => Mean(_serviceSeconds, _serviceCount, now);

    private double WindowLength(DateTime now) => Math.Clamp((now - _startedAt).TotalSeconds, 1, WindowSeconds);

    private int Bucket(DateTime now)
    {
        var second = now.Ticks / TimeSpan.TicksPerSecond;
        var index = (int)(second % WindowSeconds);
        if (_bucketSecond[index] != second)
        {
            _bucketSecond[index] = second;
            _arrivals[index] = 0;
            _completions[index] = 0;
            _waitCount[index] = 0;
            _waitSeconds[index] = 0;
            _serviceCount[index] = 0;
            _serviceSeconds[index] = 0;
        }
        return index;
    }

    private bool InWindow(int index, long nowSecond) => _bucketSecond[index] > nowSecond - WindowSeconds && _bucketSecond[index] <= nowSecond;

    private double Sum(long[] values, DateTime now)
    {
        var nowSecond = now.Ticks / TimeSpan.TicksPerSecond;
        double total = 0;
        for (var i = 0; i < WindowSeconds; i++)
            if (InWindow(i, nowSecond)) total += values[i];
        return total;
    }

    private TimeSpan Mean(double[] sums, long[] counts, DateTime now)
    {
        var nowSecond = now.Ticks / TimeSpan.TicksPerSecond;
        double total = 0;
        long count = 0;
        for (var i = 0; i < WindowSeconds; i++)
        {
            if (!InWindow(i, nowSecond)) continue;
            total += sums[i];
            count += counts[i];
        }
        return count == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(total / count);
    }
}

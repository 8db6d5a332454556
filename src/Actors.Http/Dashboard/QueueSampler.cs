using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Actors.Client;
using Actors.Configuration;
using Actors.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Actors.Http.Dashboard;

/// <summary>What the sampler read in one tick: every queue's statistics, by name, and how long the read took.</summary>
/// <param name="Sequence">Counts the samples since start, so a stream can tell a new one from the one it sent.</param>
/// <param name="At">When it was taken.</param>
/// <param name="Queues">Every queue's statistics, ordered by name.</param>
/// <param name="Took">How long reading them took.</param>
internal sealed record SamplerSnapshot(long Sequence, DateTimeOffset At, IReadOnlyList<QueueQueries.QueueStats> Queues, TimeSpan Took)
{
    /// <summary>When it was taken, in Unix seconds.</summary>
    public long Time => At.ToUnixTimeSeconds();

    private readonly Dictionary<string, QueueQueries.QueueStats> _byName = Queues.ToDictionary(q => q.QueueId, StringComparer.Ordinal);

    /// <summary>A queue's statistics; null when the sample does not hold it.</summary>
    public QueueQueries.QueueStats? Find(string queue) => _byName.GetValueOrDefault(queue);
}

/// <summary>
/// The dashboard's one reader of queue statistics: every dashboard page and stream reads its latest sample, so N open
/// dashboards cost one <see cref="IQueueClient.ListQueuesAsync"/> a tick, not N. It keeps each queue's recent points in
/// memory (<see cref="QueueSeries"/>) and appends a 10-s point per queue to the <see cref="HistoryStore"/>.
/// <para>
/// When it samples: every second while a dashboard page or stream was requested in the last two minutes, else once per
/// 10-s step. The 10-s history is recorded whether or not anybody watches (it is what a page shows after a deploy),
/// and a node with a thousand queues nobody looks at reads their statistics 6 times a minute rather than 60.
/// </para>
/// Writing runs on its own task behind a bounded channel: a slow or failing disk drops points with a warning and never
/// holds up sampling, let alone intake, which this service does not touch.
/// </summary>
internal sealed class QueueSampler : BackgroundService
{
    /// <summary>How long the sampler keeps 1-s sampling after the last dashboard request.</summary>
    public static readonly TimeSpan WatchWindow = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);

    private readonly IQueueClient _client;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, QueueSeries> _series = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _sampling = new(1, 1);
    private readonly Channel<(string Queue, HistoryPoint[] Points)> _writes =
        Channel.CreateBounded<(string, HistoryPoint[])>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private SamplerSnapshot? _latest;
    private long _watchedAt = long.MinValue;
    private long _dropped;
    private Task _writer = Task.CompletedTask;

    /// <summary>A sampler over <paramref name="client"/> that keeps its history in <paramref name="store"/>.</summary>
    public QueueSampler(IQueueClient client, HistoryStore store, TimeProvider time, ILogger<QueueSampler> logger)
    {
        _client = client;
        Store = store;
        _time = time;
        _logger = logger;
    }

    /// <summary>The persisted history.</summary>
    public HistoryStore Store { get; }

    /// <summary>The last sample; null before the first one.</summary>
    public SamplerSnapshot? Latest => Volatile.Read(ref _latest);

    /// <summary>Now, in Unix seconds.</summary>
    public long Now => _time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>
    /// Notes a dashboard request: the sampler reads every second for the next <see cref="WatchWindow"/>, and keeps
    /// 1-s points of <paramref name="queue"/> (when given) for an hour.
    /// </summary>
    public void Watch(string? queue = null)
    {
        var now = Now;
        Volatile.Write(ref _watchedAt, now);
        // Only queues the sampler has seen: a name in a request never creates a series.
        if (queue is not null && _series.TryGetValue(queue, out var series)) lock (series) series.DetailedUntil = now + 3600;
    }

    /// <summary>The latest sample if it is at most <paramref name="maxAge"/> old, else a fresh one; null when the queues do not answer.</summary>
    public async Task<SamplerSnapshot?> CurrentAsync(TimeSpan maxAge, CancellationToken cancellationToken)
    {
        Watch();
        if (!Fresh(maxAge)) await SampleAsync(cancellationToken, maxAge).ConfigureAwait(false);
        return Latest;
    }

    /// <summary>The first sample newer than <paramref name="afterSequence"/>, waiting for it when there is none yet.</summary>
    public async Task<SamplerSnapshot> NextAsync(long afterSequence, CancellationToken cancellationToken)
    {
        while (true)
        {
            Watch();
            var next = Volatile.Read(ref _next);
            if (Latest is { } latest && latest.Sequence > afterSequence) return latest;
            try
            {
                await next.Task.WaitAsync(Tick * 2, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // No sample within two ticks (the queues are slow to answer): look again.
            }
        }
    }

    /// <summary>A queue's points from <paramref name="from"/> (Unix seconds) on, as kept in memory (the last hour).</summary>
    public List<HistoryPoint> Recent(string queue, long from)
    {
        if (!_series.TryGetValue(queue, out var series)) return [];
        lock (series) return series.Since(from);
    }

    /// <summary>A queue's 10-s points of the last <paramref name="count"/> steps (the overview's sparkline).</summary>
    public List<HistoryPoint> Sparkline(string queue, int count)
    {
        if (!_series.TryGetValue(queue, out var series)) return [];
        lock (series) return series.Tens.Skip(Math.Max(0, series.Tens.Count - count)).ToList();
    }

    /// <summary>
    /// A queue's points from <paramref name="from"/> on: the stored 10-s points older than what memory holds, then
    /// memory's.
    /// </summary>
    public List<HistoryPoint> History(string queue, long from)
    {
        var recent = Recent(queue, from);
        var firstInMemory = recent.Count > 0 ? recent[0].Time : long.MaxValue;
        // The last hour is in memory (loaded at start): files are read only for what is older.
        var now = Now;
        if (from >= now - 3600) return recent;
        List<HistoryPoint> stored;
        try
        {
            stored = Store.Read(queue, from, now);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            HistoryLog.Unreadable(_logger, e, Store.Directory);
            return recent;
        }
        stored.RemoveAll(p => p.Time >= firstInMemory);
        stored.AddRange(recent);
        return stored;
    }

    /// <summary>True when the sampler knows <paramref name="queue"/> (in the latest sample or in its history).</summary>
    public bool Knows(string queue) => Latest?.Find(queue) is not null || _series.ContainsKey(queue);

    private bool Fresh(TimeSpan maxAge) => Latest is { } latest && _time.GetUtcNow() - latest.At <= maxAge;

    /// <summary>
    /// Reads every queue's statistics once and records them; false when the queues did not answer. With
    /// <paramref name="unlessFresherThan"/>, a sample taken meanwhile (by the loop or another request) is enough.
    /// </summary>
    public async Task<bool> SampleAsync(CancellationToken cancellationToken, TimeSpan? unlessFresherThan = null)
    {
        await _sampling.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (unlessFresherThan is { } maxAge && Fresh(maxAge)) return true;
            var started = Stopwatch.GetTimestamp();
            IReadOnlyList<QueueQueries.QueueStats> queues;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(ReadTimeout);
                try
                {
                    queues = await _client.ListQueuesAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is QueueException or TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    HistoryLog.SampleFailed(_logger, e.Message);
                    return false;
                }
            }
            var at = _time.GetUtcNow();
            Record(at.ToUnixTimeSeconds(), queues);
            var sorted = queues.OrderBy(q => q.QueueId, StringComparer.Ordinal).ToList();
            Volatile.Write(ref _latest, new SamplerSnapshot((Latest?.Sequence ?? 0) + 1, at, sorted, Stopwatch.GetElapsedTime(started)));
            Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            return true;
        }
        finally
        {
            _sampling.Release();
        }
    }

    /// <summary>Records one sample of every queue at <paramref name="now"/> and queues the finished 10-s points for writing.</summary>
    internal void Record(long now, IReadOnlyList<QueueQueries.QueueStats> queues)
    {
        foreach (var q in queues)
        {
            var series = SeriesOf(q.QueueId);
            HistoryPoint? finished;
            lock (series) finished = series.Add(HistoryPoint.From(now, q));
            if (finished is { } point) Write(q.QueueId, [point]);
        }
        CloseBuckets(now, force: false);
    }

    /// <summary>Loads the stored last hour into memory and deletes what is older than the retention.</summary>
    internal void Load(long now)
    {
        try
        {
            Store.Prune(now);
            var loaded = Store.Load(now - 3600);
            foreach (var (queue, points) in loaded)
            {
                var series = SeriesOf(queue);
                lock (series) series.Restore(points);
            }
            var count = loaded.Values.Sum(p => p.Count);
            var directory = Store.Directory;
            HistoryLog.Loaded(_logger, count, loaded.Count, directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            HistoryLog.Unreadable(_logger, e, Store.Directory);
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        Load(Now);
        _writer = Task.Run(WriteAsync, CancellationToken.None);
        using var timer = new PeriodicTimer(Tick, _time);
        var lastBucket = long.MinValue;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var now = Now;
                var watched = now - Volatile.Read(ref _watchedAt) <= WatchWindow.TotalSeconds;
                if (!watched && QueueSeries.BucketOf(now) == lastBucket) continue;
                if (await SampleAsync(stoppingToken).ConfigureAwait(false)) lastBucket = QueueSeries.BucketOf(now);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The node is stopping.
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        // The bucket in progress is written too, so a restart keeps the last seconds before it.
        CloseBuckets(Now, force: true);
        _writes.Writer.TryComplete();
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _sampling.Dispose();
        base.Dispose();
    }

    private QueueSeries SeriesOf(string queue) => _series.GetOrAdd(queue, _ => new QueueSeries());

    private void CloseBuckets(long now, bool force)
    {
        foreach (var (queue, series) in _series)
        {
            HistoryPoint? finished;
            lock (series) finished = series.CloseIfBefore(now, force);
            if (finished is { } point) Write(queue, [point]);
        }
    }

    private void Write(string queue, HistoryPoint[] points)
    {
        if (!_writes.Writer.TryWrite((queue, points))) Interlocked.Increment(ref _dropped);
    }

    private async Task WriteAsync()
    {
        var period = long.MinValue;
        var lastFailure = long.MinValue / 2;
        await foreach (var (queue, points) in _writes.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                Store.Append(queue, points);
                var now = Now;
                if (HistoryStore.Period(now) != period)
                {
                    Store.Prune(now);
                    period = HistoryStore.Period(now);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // One warning a minute at most: a full disk would otherwise log once per queue every 10 s.
                if (Now - lastFailure >= 60) HistoryLog.WriteFailed(_logger, e);
                lastFailure = Now;
            }
            if (Interlocked.Exchange(ref _dropped, 0) is > 0 and var dropped) HistoryLog.Dropped(_logger, dropped);
        }
    }
}

/// <summary>Registers the dashboard's services.</summary>
public static class DashboardServiceCollectionExtensions
{
    /// <summary>
    /// Adds the dashboard's statistics sampler (a hosted service) with its history under
    /// <c>{<see cref="DurableQueuesOptions.DataDirectory"/>}/dashboard-history/</c> and the clock of
    /// <see cref="DurableQueuesOptions.Time"/>. Needed by <see cref="DashboardEndpoints.MapDashboard"/>.
    /// </summary>
    public static IServiceCollection AddDashboard(this IServiceCollection services, DurableQueuesOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(sp => new HistoryStore(Path.Combine(options.DataDirectory, "dashboard-history"), sp.GetRequiredService<ILogger<HistoryStore>>()));
        services.AddSingleton(sp => new QueueSampler(sp.GetRequiredService<IQueueClient>(), sp.GetRequiredService<HistoryStore>(), options.Time, sp.GetRequiredService<ILogger<QueueSampler>>()));
        services.AddHostedService(sp => sp.GetRequiredService<QueueSampler>());
        return services;
    }
}

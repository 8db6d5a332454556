using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Actors;
using Actors.Configuration;
using Akka.Actor;
using Akka.Configuration;
using HdrHistogram;

// Enqueues N messages of S bytes with P concurrent producers into a real SQLite-backed node whose C workers run
// a no-op handler, waits until every message is processed, and prints one JSON line as its last line.
// http-failover: load over HTTP on a running cluster around a SIGKILL, a SIGTERM or a join (deploy/failover-bench.sh).
if (args.Length > 0 && args[0] == "http-failover") return await HttpFailover.RunAsync(args[1..]);
var settings = LoadSettings.Parse(args);
if (settings.AutoscaleSeconds > 0)
{
    var (scaled, ok) = await AutoscaleRuns.RunAsync(settings);
    Console.WriteLine(JsonSerializer.Serialize(scaled));
    return ok ? 0 : 1;
}
if (settings.LatenessRate > 0 || settings.DueAtOnce > 0 || settings.Keys > 0)
{
    var (timed, ok) = settings.LatenessRate > 0 ? await DelayedRuns.LatenessAsync(settings)
        : settings.DueAtOnce > 0 ? await DelayedRuns.DueAtOnceAsync(settings)
        : await DelayedRuns.KeysAsync(settings);
    Console.WriteLine(JsonSerializer.Serialize(timed));
    return ok ? 0 : 1;
}
if (settings.Retained > 0 || settings.DeadLetters > 0)
{
    var (memory, ok) = await MemoryRuns.RunAsync(settings, deadLetters: settings.DeadLetters > 0);
    Console.WriteLine(JsonSerializer.Serialize(memory));
    return ok ? 0 : 1;
}
if (settings.Pending > 0)
{
    var (recovery, recovered) = await PendingRecovery.RunAsync(settings);
    Console.WriteLine(JsonSerializer.Serialize(recovery));
    return recovered ? 0 : 1;
}
// --telemetry 1: every metric and span of the Actors meter and source recorded (exporters that drop them).
using var telemetry = settings.Telemetry > 0 ? TelemetryRuns.Start(metrics: settings.Telemetry != 3, traces: settings.Telemetry != 2, settings.SamplePercent / 100.0) : null;
var dataDirectory = settings.DataDirectory ?? Path.Combine(Path.GetTempPath(), "actors-load", Guid.NewGuid().ToString("N"));
var options = new DurableQueuesOptions { DataDirectory = dataDirectory, RequestTimeout = TimeSpan.FromMinutes(2), HandlerThreads = settings.HandlerThreads };
if (settings.PostgresConnection is { } postgres)
{
    options.Journal = JournalKind.PostgreSql;
    options.ConnectionString = postgres;
}
// --warmup N: a second queue of the same settings takes N messages before the measured run.
foreach (var name in settings.Warmup > 0 ? ["load", "warmup"] : new[] { "load" }) options.AddQueue(name, q =>
{
    q.Workers = settings.Workers;
    q.Prefetch = settings.Prefetch;
    q.MaxLength = Math.Max(settings.Messages + 1, 1000);
    q.MaxPayloadBytes = Math.Max(settings.PayloadBytes, 1);
    q.SnapshotEvery = settings.SnapshotEvery;
    // A burst of 50 ms of permits (what the README advises): the measured rate shows how closely dispatch keeps to the limit.
    if (settings.RateLimit > 0) q.RateLimit = new RateLimitOptions { Permits = settings.RateLimit, Burst = Math.Max(1, settings.RateLimit / 20) };
    if (settings.MaxConcurrency > 0) q.MaxConcurrency = settings.MaxConcurrency;
});

var deliveries = new int[settings.Messages + 1];
// --ordering-keys: the last message id started per key; a start below it would break the key's order.
var lastStartedByKey = new long[Math.Max(1, settings.OrderingKeys)];
var orderViolations = 0L;
// Every id the queue acknowledged: each must be completed. A request that timed out may still have stored its
// message, so counting acknowledgements alone could hide a lost one behind it.
var acceptedIds = new bool[settings.Messages + 1];
void MarkAccepted(long id)
{
    if (id > 0 && id < acceptedIds.Length) acceptedIds[id] = true;
}
var completed = 0L;
var allHandled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
void Handled(Actors.Handlers.MessageContext context)
{
    if (context.QueueId != "load") return; // the warm-up queue's messages count nowhere
    if (settings.OrderingKeys > 0 && context.Headers.TryGetValue(Actors.Protocol.MessageHeaders.Key, out var key))
    {
        var k = int.Parse(key.AsSpan(1), CultureInfo.InvariantCulture);
        if (context.MessageId < lastStartedByKey[k]) Interlocked.Increment(ref orderViolations);
        lastStartedByKey[k] = context.MessageId;
    }
    if (context.MessageId < deliveries.Length && Interlocked.Increment(ref deliveries[context.MessageId]) == 1
        && Interlocked.Increment(ref completed) == settings.Messages)
        allHandled.TrySetResult();
}
if (settings.BatchHandlerSize > 0)
{
    // --batch-handler N: one batch handler call takes up to N messages and succeeds them all.
    options.Handlers.AddBatch<ReadOnlyMemory<byte>>("load", (batch, _) =>
    {
        foreach (var item in batch) Handled(item.Context);
        batch.SucceedRemaining();
        return ValueTask.CompletedTask;
    }, new Actors.Handlers.BatchOptions { BatchSize = settings.BatchHandlerSize });
}
else
{
    options.Handlers.Add<ReadOnlyMemory<byte>>("load", (_, context, _) =>
    {
        Handled(context);
        return ValueTask.FromResult<object?>(null);
    });
}

DurableQueues.PrepareStorage(options);
// --breakdown 1: every single enqueue's round trip timed stage by stage (Actors.Monitoring.WritePathBreakdown); on
// before the journal opens its connections, which take the SQL library's trace settings when they are made.
if (settings.Breakdown) Actors.Monitoring.WritePathBreakdown.Enable();
var config = ConfigurationFactory.ParseString("akka.loglevel = WARNING").WithFallback(DurableQueues.Configuration(options));
using var system = ActorSystem.Create("load", config);
var queues = DurableQueues.Start(system, options);
var client = queues.Client;
await client.GetStatsAsync("load"); // the queue has recovered and is ready

var payload = new byte[settings.PayloadBytes];
Random.Shared.NextBytes(payload);
// --ordering-keys N: message n gets key k{n mod N}; --priorities 1: priority n mod 10.
var sequence = 0L;
ImmutableDictionary<string, string>? HeadersFor()
{
    if (settings.OrderingKeys == 0 && !settings.Priorities) return null;
    var n = Interlocked.Increment(ref sequence);
    var headers = ImmutableDictionary<string, string>.Empty;
    if (settings.OrderingKeys > 0) headers = headers.Add(Actors.Protocol.MessageHeaders.Key, "k" + (n % settings.OrderingKeys).ToString(CultureInfo.InvariantCulture));
    if (settings.Priorities && n % 10 != 0) headers = headers.Add(Actors.Protocol.MessageHeaders.Priority, (n % 10).ToString(CultureInfo.InvariantCulture));
    return headers;
}
// --warmup N (closed loop): rounds of N messages through the warm-up queue, the same way and with the same payload,
// until all succeeded, before the clock starts: the measured run then starts with the JIT, the journal's statements and
// any telemetry SDK warm, so a comparison of short runs measures the cost per message, not the cost of starting.
// Rounds go on until the JIT is idle (JitWarmUp: a single round of 20,000 left ~4 s of compilation inside a
// 100,000-message run).
var warmupSent = 0;
if (settings.Warmup > 0)
{
    var window = new SemaphoreSlim(settings.Producers * settings.Outstanding);
    await JitWarmUp.RunAsync(async () =>
    {
        var warming = new List<Task>(settings.Warmup);
        for (var i = 0; i < settings.Warmup; i++)
        {
            await window.WaitAsync();
            warming.Add(client.EnqueueAsync("warmup", "load", payload).ContinueWith(_ => window.Release(), TaskScheduler.Default));
        }
        await Task.WhenAll(warming);
        warmupSent += settings.Warmup;
        while ((await client.GetStatsAsync("warmup")).TotalSucceeded < warmupSent) await Task.Delay(5);
        return true;
    });
}
var perProducer = settings.Messages / settings.Producers;
var histograms = new LongHistogram[settings.Producers];
// Open loop only: how late the generator sent each message, and the latency counted from the actual send.
var sendLag = new LongHistogram(TimeStamp.Minutes(10), 3);
var fromSend = new LongHistogram(TimeStamp.Minutes(10), 3);
var accepted = 0L;
var rejected = 0L;
// How much the JIT compiled while the clock ran: a run measured warm compiles next to nothing.
var jitMethodsAtStart = System.Runtime.JitInfo.GetCompiledMethodCount();
var jitTimeAtStart = System.Runtime.JitInfo.GetCompilationTime();
// The process's CPU time in the run (every thread, user and kernel): per message, the cost of the work itself, which a
// busy or noisy machine disturbs far less than the rate.
var cpuAtStart = Environment.CpuUsage.TotalTime;
var gcAtStart = new[] { GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2) };
var poolThreadsAtStart = ThreadPool.ThreadCount;
var allocatedAtStart = GC.GetTotalAllocatedBytes();
var stopwatch = Stopwatch.StartNew();
// The first two seconds of an open-loop run (at most a fifth of it) warm up the JIT, the connection pool and the
// journal, whose SQL library compiles each statement on its first use (the first snapshot and the first delete of old
// events take ~200 ms): those messages are sent, stored and counted, but not in the latency percentiles.
var openLoopWarmup = Math.Min(2 * settings.Rate, settings.Messages / 5);

// Closed loop (default): each producer keeps --outstanding requests in flight. Open loop (--rate R): requests are
// sent on a fixed schedule whatever the answers, and latency counts from the scheduled send time, so a stall
// shows up in the percentiles instead of slowing the offered load (no coordinated omission).
var producers = settings.Rate > 0 ? [Task.Run(OpenLoopAsync)] : settings.Batch > 1 ? Enumerable.Range(0, settings.Producers).Select(p => Task.Run(() => BatchProducerAsync(p))).ToArray() : Enumerable.Range(0, settings.Producers).Select(p => Task.Run(async () =>
{
    var histogram = histograms[p] = new LongHistogram(TimeStamp.Minutes(10), 3);
    var count = perProducer + (p < settings.Messages % settings.Producers ? 1 : 0);
    var window = new SemaphoreSlim(settings.Outstanding);
    var inFlight = new List<Task>(count);
    for (var i = 0; i < count; i++)
    {
        await window.WaitAsync();
        inFlight.Add(EnqueueOneAsync(histogram, Stopwatch.GetTimestamp(), window));
    }
    await Task.WhenAll(inFlight);
})).ToArray();

// One enqueue, counted and timed from `since` (the send, or the scheduled send time in open loop).
async Task EnqueueOneAsync(LongHistogram histogram, long since, SemaphoreSlim? window, bool record = true)
{
    var sentAt = Stopwatch.GetTimestamp();
    try
    {
        long id;
        if (settings.AwaitOutcome)
        {
            // --await 1: the request returns once the message succeeded, so the latency is enqueue to outcome.
            var info = await Actors.Client.AwaitingResults.EnqueueAndWaitAsync(client, "load", new Actors.Protocol.QueueCommands.NewMessage("load", payload, HeadersFor()), TimeSpan.FromSeconds(60));
            id = info?.MessageId ?? 0;
        }
        else id = await client.EnqueueAsync("load", "load", payload, HeadersFor());
        MarkAccepted(id);
        Interlocked.Increment(ref accepted);
    }
    catch (Actors.Client.QueueException)
    {
        Interlocked.Increment(ref rejected);
    }
    finally
    {
        var now = Stopwatch.GetTimestamp();
        if (record) lock (histogram)
        {
            histogram.RecordValue(now - since);
            if (window is null)
            {
                sendLag.RecordValue(sentAt - since);
                fromSend.RecordValue(now - sentAt);
            }
        }
        window?.Release();
    }
}

// Batch mode (--batch B): each producer keeps --outstanding batches of B messages in flight; latency is per batch.
async Task BatchProducerAsync(int p)
{
    var histogram = histograms[p] = new LongHistogram(TimeStamp.Minutes(10), 3);
    var count = perProducer + (p < settings.Messages % settings.Producers ? 1 : 0);
    var window = new SemaphoreSlim(settings.Outstanding);
    var inFlight = new List<Task>();
    for (var sent = 0; sent < count; sent += settings.Batch)
    {
        var size = Math.Min(settings.Batch, count - sent);
        await window.WaitAsync();
        inFlight.Add(SendBatchAsync(size));
    }
    await Task.WhenAll(inFlight);

    async Task SendBatchAsync(int size)
    {
        var since = Stopwatch.GetTimestamp();
        try
        {
            var batch = Enumerable.Range(0, size).Select(_ => new Actors.Protocol.QueueCommands.NewMessage("load", payload, HeadersFor())).ToList();
            var outcomes = await client.EnqueueBatchAsync("load", batch);
            foreach (var outcome in outcomes) if (outcome.MessageId is { } id) MarkAccepted(id);
            var ok = outcomes.Count(o => o.IsAccepted);
            Interlocked.Add(ref accepted, ok);
            Interlocked.Add(ref rejected, size - ok);
        }
        finally
        {
            lock (histogram) histogram.RecordValue(Stopwatch.GetTimestamp() - since);
            window.Release();
        }
    }
}

async Task OpenLoopAsync()
{
    var histogram = histograms[0] = new LongHistogram(TimeStamp.Minutes(10), 3);
    for (var p = 1; p < histograms.Length; p++) histograms[p] = new LongHistogram(TimeStamp.Minutes(10), 3);
    var start = Stopwatch.GetTimestamp();
    var ticksPerMessage = (double)Stopwatch.Frequency / settings.Rate;
    var sends = new List<Task>(settings.Messages);
    // Wake every millisecond and send what is due: no core is burnt spinning, and a late wake-up is charged to
    // the latency of the messages it delayed.
    using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(1));
    var next = 0;
    while (next < settings.Messages && await timer.WaitForNextTickAsync())
    {
        var now = Stopwatch.GetTimestamp();
        for (; next < settings.Messages; next++)
        {
            var scheduled = start + (long)(next * ticksPerMessage);
            if (scheduled > now) break;
            sends.Add(EnqueueOneAsync(histogram, scheduled, null, record: next >= openLoopWarmup));
        }
    }
    await Task.WhenAll(sends);
}

await Task.WhenAll(producers);
var enqueueSeconds = stopwatch.Elapsed.TotalSeconds;
var finished = await Task.WhenAny(allHandled.Task, Task.Delay(TimeSpan.FromMinutes(10))) == allHandled.Task;
// Completed means acknowledged in the journal, not only handled.
while (finished && (await client.GetStatsAsync("load")).TotalSucceeded < Interlocked.Read(ref accepted))
    await Task.Delay(5);
var e2eSeconds = stopwatch.Elapsed.TotalSeconds;
var jitMethodsInRun = System.Runtime.JitInfo.GetCompiledMethodCount() - jitMethodsAtStart;
var jitMsInRun = (System.Runtime.JitInfo.GetCompilationTime() - jitTimeAtStart).TotalMilliseconds;
var cpuUsInRun = (Environment.CpuUsage.TotalTime - cpuAtStart).TotalMicroseconds;

var merged = new LongHistogram(TimeStamp.Minutes(10), 3);
foreach (var h in histograms) merged.Add(h);
double Percentile(double p, LongHistogram? histogram = null) => (histogram ?? merged).GetValueAtPercentile(p) * 1000.0 / Stopwatch.Frequency;

var handled = deliveries.Skip(1).Count(d => d > 0);
var lostIds = Enumerable.Range(1, settings.Messages).Count(id => acceptedIds[id] && deliveries[id] == 0);
var duplicates = deliveries.Skip(1).Sum(d => Math.Max(0, d - 1));
var stats = await client.GetStatsAsync("load");
var result = new
{
    messages = settings.Messages,
    payload = settings.PayloadBytes,
    producers = settings.Producers,
    offered_per_s = settings.Rate,
    warmup_messages = settings.Rate > 0 ? openLoopWarmup : warmupSent,
    batch = settings.Batch,
    journal = options.Journal.ToString(),
    workers = settings.Workers,
    ordering_keys = settings.OrderingKeys,
    priorities = settings.Priorities,
    batch_handler = settings.BatchHandlerSize,
    awaited = settings.AwaitOutcome,
    order_violations = Interlocked.Read(ref orderViolations),
    enqueued = Interlocked.Read(ref accepted),
    rejected = Interlocked.Read(ref rejected),
    completed = stats.TotalSucceeded,
    lost = lostIds,
    duplicates,
    enqueue_per_s = Math.Round(Interlocked.Read(ref accepted) / enqueueSeconds),
    e2e_per_s = Math.Round(stats.TotalSucceeded / e2eSeconds),
    enqueue_p50_ms = Math.Round(Percentile(50), 3),
    enqueue_p99_ms = Math.Round(Percentile(99), 3),
    // Open loop: the generator's own lateness (a timer tick is ~1 ms), and the latency from the actual send.
    send_lag_p50_ms = settings.Rate > 0 ? Math.Round(Percentile(50, sendLag), 3) : (double?)null,
    from_send_p50_ms = settings.Rate > 0 ? Math.Round(Percentile(50, fromSend), 3) : (double?)null,
    from_send_p99_ms = settings.Rate > 0 ? Math.Round(Percentile(99, fromSend), 3) : (double?)null,
    jit_methods_in_run = jitMethodsInRun,
    jit_ms_in_run = Math.Round(jitMsInRun),
    cpu_us_per_message = Math.Round(cpuUsInRun / Math.Max(1, completed), 2),
    gc_in_run = new[] { GC.CollectionCount(0) - gcAtStart[0], GC.CollectionCount(1) - gcAtStart[1], GC.CollectionCount(2) - gcAtStart[2] },
    pool_threads = new[] { poolThreadsAtStart, ThreadPool.ThreadCount },
    allocated_bytes_per_message = (GC.GetTotalAllocatedBytes() - allocatedAtStart) / Math.Max(1, completed),
    heap_mb = GC.GetGCMemoryInfo().HeapSizeBytes >> 20,
    peak_rss_mb = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0, 1),
    breakdown = settings.Breakdown ? Actors.Monitoring.WritePathBreakdown.Percentiles().ToDictionary(s => s.Key, s => new { p50_ms = s.Value.P50Ms, p99_ms = s.Value.P99Ms, n = s.Value.Count }) : null,
};

await system.Terminate();
if (settings.DataDirectory is null) TryDelete(dataDirectory);
Console.WriteLine(JsonSerializer.Serialize(result));
return result.lost == 0 && result.order_violations == 0 && finished ? 0 : 1;

static void TryDelete(string path)
{
    try { Directory.Delete(path, recursive: true); }
    catch (IOException) { }
}

internal sealed record LoadSettings(int Messages, int PayloadBytes, int Producers, int Workers, int Prefetch, int Outstanding, int Rate, int Batch, int Pending, int SnapshotEvery, string? DataDirectory, string? PostgresConnection)
{
    /// <summary>--delay-s: with --pending, every message is delayed this long (scheduled, not pending).</summary>
    public int DelaySeconds { get; init; }

    /// <summary>--lateness-rate: delayed messages per second offered in the lateness run.</summary>
    public int LatenessRate { get; init; }

    /// <summary>--max-delay-s: the longest delay in the lateness run.</summary>
    public int MaxDelaySeconds { get; init; } = 5;

    /// <summary>--due-at-once: messages due in the same second.</summary>
    public int DueAtOnce { get; init; }

    /// <summary>--due-in-s: how far ahead the due-at-once messages are due.</summary>
    public int DueInSeconds { get; init; } = 30;

    /// <summary>--keys: messages with distinct idempotency keys, for the heap of live keys.</summary>
    public int Keys { get; init; }

    /// <summary>--retained: messages completed by an echo handler, for the resident memory their retained results take.</summary>
    public int Retained { get; init; }

    /// <summary>--dead-letters: messages dead-lettered at once, for the resident memory the dead letters take.</summary>
    public int DeadLetters { get; init; }

    /// <summary>--retained-memory-mb: the queue's RetainedMemoryBytes in MiB in the memory runs; -1 (default) keeps the queue's default.</summary>
    public int RetainedMemoryMb { get; init; } = -1;

    /// <summary>--handler-threads: the node's HandlerThreads (0: handlers run inline on their workers); default the option's.</summary>
    public int? HandlerThreads { get; init; }

    /// <summary>--rate-limit: the queue's RateLimit in deliveries per second (burst a twentieth of it); 0 (default) for none.</summary>
    public int RateLimit { get; init; }

    /// <summary>--max-concurrency: the queue's MaxConcurrency; 0 (default) for none.</summary>
    public int MaxConcurrency { get; init; }

    /// <summary>--ordering-keys: message n gets ordering key k{n mod N} (0, default: no keys); with --pending, the heap of N keys.</summary>
    public int OrderingKeys { get; init; }

    /// <summary>--batch-handler N: the messages are handled by a batch handler taking up to N at a time (0, default: one by one).</summary>
    public int BatchHandlerSize { get; init; }

    /// <summary>--await 1: each producer request waits for its message's outcome (EnqueueAndWaitAsync); latency is enqueue to outcome.</summary>
    public bool AwaitOutcome { get; init; }

    /// <summary>--telemetry 1: an OpenTelemetry SDK records every metric and span of the Actors meter and source; 2: metrics only; 3: spans only.</summary>
    public int Telemetry { get; init; }

    /// <summary>--warmup N: closed loop only; rounds of N messages through a second queue before the measured run, until the JIT is idle (see JitWarmUp; default 0).</summary>
    public int Warmup { get; init; }

    /// <summary>--sample-percent: the share of traces the --telemetry runs sample (parent-based ratio sampler); default 100.</summary>
    public int SamplePercent { get; init; } = 100;

    /// <summary>--breakdown 1: the write path's stages of every single enqueue, p50/p99 each, in the result's "breakdown".</summary>
    public bool Breakdown { get; init; }

    /// <summary>--priorities 1: message n gets priority n mod 10.</summary>
    public bool Priorities { get; init; }

    /// <summary>--autoscale S: the autoscaling run, with a load step of S seconds (0, default: off).</summary>
    public int AutoscaleSeconds { get; init; }

    /// <summary>--step-rate: messages per second during the autoscaling run's load step. Default 200.</summary>
    public int StepRate { get; init; } = 200;

    /// <summary>--service-ms: the autoscaling run's handler time. Default 20.</summary>
    public int ServiceMs { get; init; } = 20;

    /// <summary>--tail-s: quiet seconds after the autoscaling run's load step. Default 20.</summary>
    public int TailSeconds { get; init; } = 20;

    /// <summary>--max-workers: the autoscaling run's MaxWorkers. Default 16.</summary>
    public int MaxWorkers { get; init; } = 16;

    /// <summary>Whether --payload was given (the memory runs have their own default).</summary>
    public bool PayloadBytesGiven { get; init; }

    public static LoadSettings Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"Expected --name value pairs, got '{args[i]}'. Flags: --messages --payload --producers --workers --prefetch --outstanding --rate --batch --pending --delay-s --lateness-rate --max-delay-s --due-at-once --due-in-s --keys --retained --dead-letters --retained-memory-mb --handler-threads --rate-limit --max-concurrency --ordering-keys --priorities --batch-handler --await --breakdown --telemetry --sample-percent --warmup --snapshot-every --data --postgres CONNECTION");
            values[args[i][2..]] = args[++i];
        }
        int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        return new LoadSettings(Int("messages", 100_000), Int("payload", 512), Math.Max(1, Int("producers", 4)), Int("workers", 8),
            Int("prefetch", 16), Math.Max(1, Int("outstanding", 64)), Math.Max(0, Int("rate", 0)), Math.Max(1, Int("batch", 1)), Math.Max(0, Int("pending", 0)), Int("snapshot-every", new QueueOptions().SnapshotEvery), values.GetValueOrDefault("data"), values.GetValueOrDefault("postgres"))
        {
            DelaySeconds = Math.Max(0, Int("delay-s", 0)),
            LatenessRate = Math.Max(0, Int("lateness-rate", 0)),
            MaxDelaySeconds = Math.Max(1, Int("max-delay-s", 5)),
            DueAtOnce = Math.Max(0, Int("due-at-once", 0)),
            DueInSeconds = Math.Max(1, Int("due-in-s", 30)),
            Keys = Math.Max(0, Int("keys", 0)),
            Retained = Math.Max(0, Int("retained", 0)),
            DeadLetters = Math.Max(0, Int("dead-letters", 0)),
            RetainedMemoryMb = Int("retained-memory-mb", -1),
            RateLimit = Math.Max(0, Int("rate-limit", 0)),
            MaxConcurrency = Math.Max(0, Int("max-concurrency", 0)),
            OrderingKeys = Math.Max(0, Int("ordering-keys", 0)),
            Priorities = Int("priorities", 0) != 0,
            Breakdown = Int("breakdown", 0) != 0,
            AwaitOutcome = Int("await", 0) != 0,
            Telemetry = Math.Clamp(Int("telemetry", 0), 0, 3),
            SamplePercent = Math.Clamp(Int("sample-percent", 100), 0, 100),
            Warmup = Math.Max(0, Int("warmup", 0)),
            BatchHandlerSize = Math.Max(0, Int("batch-handler", 0)),
            PayloadBytesGiven = values.ContainsKey("payload"),
            HandlerThreads = values.ContainsKey("handler-threads") ? Int("handler-threads", 0) : null,
            AutoscaleSeconds = Math.Max(0, Int("autoscale", 0)),
            StepRate = Math.Max(1, Int("step-rate", 200)),
            ServiceMs = Math.Max(0, Int("service-ms", 20)),
            TailSeconds = Math.Max(0, Int("tail-s", 20)),
            MaxWorkers = Math.Clamp(Int("max-workers", 16), 1, 1024),
        };
    }
}

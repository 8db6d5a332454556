using System.Buffers.Binary;
using System.Diagnostics;
using Actors;
using Actors.Configuration;
using Actors.Protocol;
using Akka.Actor;
using Akka.Configuration;
using HdrHistogram;

/// <summary>
/// Benchmarks of time and identity, each printing one JSON object:
/// <list type="bullet">
/// <item>--lateness-rate R: open loop at R delayed messages a second (delays spread over 0.5–--max-delay-s s) while as
/// many immediate ones flow; how late each delayed message starts after its due time (never early).</item>
/// <item>--due-at-once N: N messages due in the same second, stored ahead; how long until all of them ran, and the
/// enqueue latency of a producer that keeps sending meanwhile (promotion must not stall intake).</item>
/// <item>--keys N: N messages with distinct idempotency keys, all handled; the heap the live keys take.</item>
/// </list>
/// </summary>
internal static class DelayedRuns
{
    private sealed record Node(ActorSystem System, DurableQueuesHandle Queues, string DataDirectory);

    private static Node Start(LoadSettings settings, int maxLength, Func<ReadOnlyMemory<byte>, ValueTask<object?>> handler)
    {
        var dataDirectory = settings.DataDirectory ?? Path.Combine(Path.GetTempPath(), "actors-load", Guid.NewGuid().ToString("N"));
        var options = new DurableQueuesOptions { DataDirectory = dataDirectory, DrainTimeout = TimeSpan.Zero, RequestTimeout = TimeSpan.FromMinutes(5) };
        if (settings.PostgresConnection is { } postgres)
        {
            options.Journal = JournalKind.PostgreSql;
            options.ConnectionString = postgres;
        }
        options.AddQueue("timed", q => { q.Workers = settings.Workers; q.Prefetch = settings.Prefetch; q.MaxLength = maxLength; q.MaxPayloadBytes = Math.Max(16, settings.PayloadBytes); });
        options.Handlers.Add<ReadOnlyMemory<byte>>("timed", (payload, _, _) => handler(payload));
        DurableQueues.PrepareStorage(options);
        var system = ActorSystem.Create("timed", ConfigurationFactory.ParseString("akka.loglevel = WARNING").WithFallback(DurableQueues.Configuration(options)));
        return new Node(system, DurableQueues.Start(system, options), dataDirectory);
    }

    private static async Task StopAsync(LoadSettings settings, Node node)
    {
        await node.System.Terminate();
        if (settings.DataDirectory is not null) return;
        try { Directory.Delete(node.DataDirectory, recursive: true); } catch (IOException) { }
    }

    /// <summary>A payload that carries its due time (UTC ticks) in its first 8 bytes.</summary>
    private static byte[] PayloadDueAt(DateTime dueAt, int size)
    {
        var payload = new byte[Math.Max(16, size)];
        BinaryPrimitives.WriteInt64LittleEndian(payload, dueAt.Ticks);
        return payload;
    }

    private static double Ms(LongHistogram h, double percentile) => Math.Round(h.GetValueAtPercentile(percentile) / 1000.0, 1);

    public static async Task<(object Result, bool Ok)> LatenessAsync(LoadSettings settings)
    {
        var maxDelay = TimeSpan.FromSeconds(Math.Max(1, settings.MaxDelaySeconds));
        var lateness = new LongHistogram(TimeSpan.FromHours(1).Ticks / 10, 3); // microseconds
        var early = 0L;
        var delayedHandled = 0L;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var node = Start(settings, settings.Messages * 2 + 1000, payload =>
        {
            var due = BinaryPrimitives.ReadInt64LittleEndian(payload.Span);
            if (due != 0)
            {
                var late = DateTime.UtcNow.Ticks - due;
                if (late < 0) Interlocked.Increment(ref early);
                lock (lateness) lateness.RecordValue(Math.Max(0, late) / 10);
                if (Interlocked.Increment(ref delayedHandled) == settings.Messages) done.TrySetResult();
            }
            return ValueTask.FromResult<object?>(null);
        });
        var client = node.Queues.Client;
        await client.GetStatsAsync("timed");
        var immediate = new byte[Math.Max(16, settings.PayloadBytes)];
        var random = new Random(17);
        var interval = TimeSpan.FromSeconds(1.0 / settings.LatenessRate);
        var start = Stopwatch.GetTimestamp();
        var sends = new List<Task>(settings.Messages * 2);
        for (var i = 0; i < settings.Messages; i++)
        {
            var scheduled = start + (long)(i * interval.TotalSeconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < scheduled) await Task.Delay(1);
            var delay = TimeSpan.FromMilliseconds(500 + random.NextDouble() * (maxDelay.TotalMilliseconds - 500));
            // The queue counts the delay from its receipt; the due time in the payload is taken just before sending, so
            // measured lateness includes the trip to the queue (an upper bound, never hiding an early start).
            var dueAt = DateTime.UtcNow + delay;
            sends.Add(client.EnqueueAsync("timed", new QueueCommands.NewMessage("timed", PayloadDueAt(dueAt, settings.PayloadBytes), Timing: QueueCommands.MessageTiming.After(delay))));
            sends.Add(client.EnqueueAsync("timed", "timed", immediate));
        }
        await Task.WhenAll(sends);
        var finished = await Task.WhenAny(done.Task, Task.Delay(maxDelay + TimeSpan.FromMinutes(5))) == done.Task;
        await StopAsync(settings, node);
        var result = new
        {
            mode = "lateness",
            delayed = settings.Messages,
            offered_delayed_per_s = settings.LatenessRate,
            offered_immediate_per_s = settings.LatenessRate,
            max_delay_s = maxDelay.TotalSeconds,
            handled = Interlocked.Read(ref delayedHandled),
            early = Interlocked.Read(ref early),
            late_p50_ms = Ms(lateness, 50),
            late_p99_ms = Ms(lateness, 99),
            late_max_ms = Math.Round(lateness.GetMaxValue() / 1000.0, 1),
            finished,
        };
        // A message that started before its due time, or one that never ran, fails the run.
        return (result, finished && result.early == 0);
    }

    public static async Task<(object Result, bool Ok)> DueAtOnceAsync(LoadSettings settings)
    {
        var count = settings.DueAtOnce;
        var handled = 0L;
        var early = 0L;
        var firstRun = 0L;
        var lastRun = 0L;
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var node = Start(settings, count + 1_000_000, payload =>
        {
            var due = BinaryPrimitives.ReadInt64LittleEndian(payload.Span);
            if (due == 0) return ValueTask.FromResult<object?>(null);
            var now = DateTime.UtcNow.Ticks;
            if (now < due) Interlocked.Increment(ref early);
            Interlocked.CompareExchange(ref firstRun, now, 0);
            Interlocked.Exchange(ref lastRun, now);
            if (Interlocked.Increment(ref handled) == count) all.TrySetResult();
            return ValueTask.FromResult<object?>(null);
        });
        var client = node.Queues.Client;
        await client.GetStatsAsync("timed");

        // Store them all ahead of one due time, far enough out for the fill to finish first.
        var dueAt = DateTime.UtcNow.AddSeconds(settings.DueInSeconds);
        var payload = PayloadDueAt(dueAt, settings.PayloadBytes);
        var fill = Stopwatch.StartNew();
        using (var window = new SemaphoreSlim(8))
        {
            var batches = new List<Task>();
            for (var sent = 0; sent < count; sent += 1000)
            {
                var size = Math.Min(1000, count - sent);
                await window.WaitAsync();
                batches.Add(Task.Run(async () =>
                {
                    try { await client.EnqueueBatchAsync("timed", Enumerable.Range(0, size).Select(_ => new QueueCommands.NewMessage("timed", payload, Timing: QueueCommands.MessageTiming.At(dueAt))).ToList()); }
                    finally { window.Release(); }
                }));
            }
            await Task.WhenAll(batches);
        }
        var fillSeconds = fill.Elapsed.TotalSeconds;
        var filledBeforeDue = DateTime.UtcNow < dueAt;

        // Meanwhile a producer keeps enqueueing immediate messages, one outstanding at a time, from 1 s before the due
        // time until all delayed ones ran: its latency shows whether promotion stalls intake.
        var intake = new LongHistogram(TimeSpan.FromHours(1).Ticks / 10, 3);
        var immediate = new byte[Math.Max(16, settings.PayloadBytes)];
        while (DateTime.UtcNow < dueAt.AddSeconds(-1)) await Task.Delay(10);
        var intakeCount = 0;
        while (!all.Task.IsCompleted && DateTime.UtcNow < dueAt.AddMinutes(10))
        {
            var t = Stopwatch.GetTimestamp();
            await client.EnqueueAsync("timed", "timed", immediate);
            intake.RecordValue(Stopwatch.GetElapsedTime(t).Ticks / 10);
            intakeCount++;
        }
        await all.Task.WaitAsync(TimeSpan.FromMinutes(10));
        await StopAsync(settings, node);
        var result = new
        {
            mode = "due-at-once",
            due_at_once = count,
            fill_per_s = Math.Round(count / fillSeconds),
            filled_before_due = filledBeforeDue,
            early = Interlocked.Read(ref early),
            first_start_after_due_ms = Math.Round((firstRun - dueAt.Ticks) / 10_000.0, 1),
            all_done_after_due_ms = Math.Round((lastRun - dueAt.Ticks) / 10_000.0, 1),
            promoted_and_run_per_s = Math.Round(count / Math.Max(1e-3, (lastRun - Math.Max(firstRun, dueAt.Ticks)) / 1e7)),
            intake_requests = intakeCount,
            intake_p50_ms = Ms(intake, 50),
            intake_p99_ms = Ms(intake, 99),
            intake_max_ms = Math.Round(intake.GetMaxValue() / 1000.0, 1),
        };
        return (result, result.early == 0);
    }

    public static async Task<(object Result, bool Ok)> KeysAsync(LoadSettings settings)
    {
        var count = settings.Keys;
        var handled = 0L;
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var node = Start(settings, count + 1000, _ =>
        {
            if (Interlocked.Increment(ref handled) == count) all.TrySetResult();
            return ValueTask.FromResult<object?>(null);
        });
        var client = node.Queues.Client;
        await client.GetStatsAsync("timed");
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var payload = new byte[Math.Max(16, settings.PayloadBytes)];
        var fill = Stopwatch.StartNew();
        using (var window = new SemaphoreSlim(8))
        {
            var batches = new List<Task>();
            for (var sent = 0; sent < count; sent += 1000)
            {
                var first = sent;
                var size = Math.Min(1000, count - sent);
                await window.WaitAsync();
                batches.Add(Task.Run(async () =>
                {
                    // Keys of a typical shape: a prefix and a GUID (45 characters).
                    try { await client.EnqueueBatchAsync("timed", Enumerable.Range(first, size).Select(i => new QueueCommands.NewMessage("timed", payload, IdempotencyKey: $"order-{new Guid(i, 0, 0, new byte[8])}")).ToList()); }
                    finally { window.Release(); }
                }));
            }
            await Task.WhenAll(batches);
        }
        var fillSeconds = fill.Elapsed.TotalSeconds;
        await all.Task.WaitAsync(TimeSpan.FromMinutes(30));
        // Every message is acknowledged; only the keys (and the retained finished records) remain.
        QueueQueries.QueueStats stats;
        do stats = await client.GetStatsAsync("timed");
        while (stats.TotalSucceeded < count && await Task.Delay(50).ContinueWith(_ => true));
        var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        await StopAsync(settings, node);
        var result = new
        {
            mode = "keys",
            keys = count,
            live_keys = stats.IdempotencyKeys,
            fill_per_s = Math.Round(count / fillSeconds),
            heap_mb = Math.Round((heapAfter - heapBefore) / 1048576.0, 1),
            heap_mb_per_million_keys = Math.Round((heapAfter - heapBefore) / 1048576.0 / count * 1_000_000, 1),
        };
        return (result, result.live_keys == count);
    }
}

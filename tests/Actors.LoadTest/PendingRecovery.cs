using System.Collections.Immutable;
using System.Globalization;
using System.Diagnostics;
using Actors;
using Actors.Configuration;
using Actors.Protocol;
using Akka.Actor;
using Akka.Configuration;

/// <summary>
/// --pending N: fills a queue with N messages nobody finishes, measures the managed heap they take, stops the actor
/// system without draining (as a crash would leave the journal), starts a new one on the same file and measures
/// the time until the queue dispatches again, then how fast it drains (8 workers, no-op handler), its payloads read
/// back from the journal past the queue's payload budget. With --delay-s D every message is delayed by D seconds:
/// then recovery is timed until the queue answers again, and nothing is drained (nothing is due).
/// </summary>
internal static class PendingRecovery
{
    public static async Task<(object Result, bool Ok)> RunAsync(LoadSettings settings)
    {
        var dataDirectory = settings.DataDirectory ?? Path.Combine(Path.GetTempPath(), "actors-load", Guid.NewGuid().ToString("N"));
        DurableQueuesOptions Options(Func<ReadOnlyMemory<byte>, ValueTask<object?>> handler, int workers)
        {
            var options = new DurableQueuesOptions { DataDirectory = dataDirectory, DrainTimeout = TimeSpan.Zero, RequestTimeout = TimeSpan.FromMinutes(5) };
            if (settings.PostgresConnection is { } postgres)
            {
                options.Journal = JournalKind.PostgreSql;
                options.ConnectionString = postgres;
            }
            options.AddQueue("pending", q => { q.Workers = workers; q.Prefetch = workers == 1 ? 1 : 16; q.MaxLength = settings.Pending + 10; q.MaxPayloadBytes = Math.Max(1, settings.PayloadBytes); });
            options.Handlers.Add<ReadOnlyMemory<byte>>("hold", (payload, _, _) => handler(payload));
            DurableQueues.PrepareStorage(options);
            return options;
        }
        static ActorSystem Create(DurableQueuesOptions options) =>
            ActorSystem.Create("pending", ConfigurationFactory.ParseString("akka.loglevel = WARNING").WithFallback(DurableQueues.Configuration(options)));

        var hold = new TaskCompletionSource<object?>();
        var first = Options(_ => new ValueTask<object?>(hold.Task), workers: 1);
        var system = Create(first);
        var queues = DurableQueues.Start(system, first);
        await queues.Client.GetStatsAsync("pending");
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);

        var payload = new byte[settings.PayloadBytes];
        Random.Shared.NextBytes(payload);
        var delayed = settings.DelaySeconds > 0;
        var timing = delayed ? QueueCommands.MessageTiming.After(TimeSpan.FromSeconds(settings.DelaySeconds)) : null;
        var fill = Stopwatch.StartNew();
        var batches = new List<Task>();
        using (var window = new SemaphoreSlim(8))
        {
            for (var sent = 0; sent < settings.Pending; sent += 1000)
            {
                var size = Math.Min(1000, settings.Pending - sent);
                var start = sent;
                await window.WaitAsync();
                batches.Add(Task.Run(async () =>
                {
                    try { await queues.Client.EnqueueBatchAsync("pending", Enumerable.Range(0, size).Select(i => new QueueCommands.NewMessage("hold", payload, KeyHeaders(settings, start + i), Timing: timing)).ToList()); }
                    finally { window.Release(); }
                }));
            }
            await Task.WhenAll(batches);
        }
        var fillSeconds = fill.Elapsed.TotalSeconds;
        var stats = await queues.Client.GetStatsAsync("pending");
        var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        await system.Terminate();
        hold.TrySetResult(null);

        var heapBaseline = GC.GetTotalMemory(forceFullCollection: true);
        var firstDelivery = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handled = 0;
        var second = Options(_ =>
        {
            firstDelivery.TrySetResult();
            if (Interlocked.Increment(ref handled) == settings.Pending) drained.TrySetResult();
            return ValueTask.FromResult<object?>(null);
        }, workers: 8);
        var clock = Stopwatch.StartNew();
        var restarted = Create(second);
        var restartedQueues = DurableQueues.Start(restarted, second);
        QueueQueries.QueueStats? recoveredStats = null;
        if (delayed) recoveredStats = await restartedQueues.Client.GetStatsAsync("pending");
        else await firstDelivery.Task.WaitAsync(TimeSpan.FromMinutes(10));
        var recoverySeconds = clock.Elapsed.TotalSeconds;
        // Recovered messages each have their own payload array (the producer above reused one), so this is the real cost.
        var heapRecovered = GC.GetTotalMemory(forceFullCollection: true) - heapBaseline;
        var drain = Stopwatch.StartNew();
        if (!delayed) await drained.Task.WaitAsync(TimeSpan.FromMinutes(30));
        var drainSeconds = drain.Elapsed.TotalSeconds;
        await restarted.Terminate();
        if (settings.DataDirectory is null)
        {
            try { Directory.Delete(dataDirectory, recursive: true); } catch (IOException) { }
        }

        var pendingHeld = stats.Depth + stats.InFlight + stats.Scheduled;
        var result = new
        {
            pending = settings.Pending,
            delay_s = settings.DelaySeconds,
            scheduled_after_recovery = recoveredStats?.Scheduled,
            payload = settings.PayloadBytes,
            journal = first.Journal.ToString(),
            held = pendingHeld,
            fill_per_s = Math.Round(settings.Pending / fillSeconds),
            heap_while_filled_mb = Math.Round((heapAfter - heapBefore) / 1048576.0, 1),
            heap_recovered_mb = Math.Round(heapRecovered / 1048576.0, 1),
            heap_mb_per_million = Math.Round(heapRecovered / 1048576.0 / settings.Pending * 1_000_000, 1),
            ordering_keys = settings.OrderingKeys,
            // Delayed: until the recovered queue answers (nothing is due to dispatch).
            recovery_to_first_dispatch_s = Math.Round(recoverySeconds, 2),
            drain_per_s = delayed ? (double?)null : Math.Round(settings.Pending / drainSeconds),
            drained = delayed ? (int?)null : Volatile.Read(ref handled),
        };
        // The fill must have stored every message, and (not delayed) the restarted queue must have run every one.
        var ok = pendingHeld == settings.Pending && (delayed ? recoveredStats!.Scheduled == settings.Pending : Volatile.Read(ref handled) >= settings.Pending);
        return (result, ok);
    }

    /// <summary>With --ordering-keys N, message n's ordering key k{n mod N}; else no headers.</summary>
    private static ImmutableDictionary<string, string>? KeyHeaders(LoadSettings settings, int n) =>
        settings.OrderingKeys == 0 ? null
        : ImmutableDictionary<string, string>.Empty.Add(MessageHeaders.Key, "k" + (n % settings.OrderingKeys).ToString(CultureInfo.InvariantCulture));
}

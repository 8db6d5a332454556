using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using Actors;
using Actors.Configuration;
using Actors.Handlers;
using Actors.Protocol;
using Akka.Actor;
using Akka.Configuration;

/// <summary>
/// Resident memory of a node after work that leaves retained bytes behind, on a real SQLite file.
/// <para>--retained N: N messages of --payload bytes (default 1 MiB) completed by an echo handler, whose results the
/// queue retains (SucceededRetention 10,000).</para>
/// <para>--dead-letters M: M messages of --payload bytes dead-lettered at their first attempt.</para>
/// Both report the process's resident set (VmRSS) once the queue settled, then the resident set and the managed heap
/// after an aggressive collection (which gives free memory back to the system), and the peak resident set; --retained-memory-mb sets the queue's RetainedMemoryBytes (default: the queue's default).
/// </summary>
internal static class MemoryRuns
{
    public static async Task<(object Result, bool Ok)> RunAsync(LoadSettings settings, bool deadLetters)
    {
        var count = deadLetters ? settings.DeadLetters : settings.Retained;
        var payloadBytes = settings.PayloadBytesGiven ? settings.PayloadBytes : deadLetters ? 512 : 1024 * 1024;
        var dataDirectory = settings.DataDirectory ?? Path.Combine(Path.GetTempPath(), "actors-load", Guid.NewGuid().ToString("N"));
        var options = new DurableQueuesOptions { DataDirectory = dataDirectory, DrainTimeout = TimeSpan.Zero, RequestTimeout = TimeSpan.FromMinutes(5) };
        options.AddQueue("memory", q =>
        {
            q.Workers = settings.Workers;
            q.MaxLength = count + 10;
            q.MaxPayloadBytes = Math.Max(1, payloadBytes);
            // Echo results are as large as the payloads: retained results are what this run measures.
            q.MaxResultBytes = Math.Max(q.MaxResultBytes, payloadBytes);
            q.SnapshotEvery = settings.SnapshotEvery;
            q.Retry.MaxAttempts = 1;
            if (settings.RetainedMemoryMb >= 0) q.RetainedMemoryBytes = settings.RetainedMemoryMb * 1024L * 1024;
        });
        options.Handlers.Add<ReadOnlyMemory<byte>>("echo", (payload, _, _) => ValueTask.FromResult<object?>(payload));
        options.Handlers.Add<ReadOnlyMemory<byte>>("die", (_, ctx, _) => throw new DeadLetterException($"order {ctx.MessageId} cannot be shipped"));
        DurableQueues.PrepareStorage(options);
        var system = ActorSystem.Create("memory", ConfigurationFactory.ParseString("akka.loglevel = WARNING").WithFallback(DurableQueues.Configuration(options)));
        var queues = DurableQueues.Start(system, options);
        var client = queues.Client;
        await client.GetStatsAsync("memory");
        var rssBefore = ResidentMb();

        var payload = new byte[payloadBytes];
        Random.Shared.NextBytes(payload);
        var type = deadLetters ? "die" : "echo";
        // Large payloads go one by one (a few in flight), small ones in batches.
        var perBatch = payloadBytes >= 64 * 1024 ? 1 : 500;
        var run = Stopwatch.StartNew();
        var sends = new List<Task>();
        using (var window = new SemaphoreSlim(8))
        {
            for (var sent = 0; sent < count; sent += perBatch)
            {
                var size = Math.Min(perBatch, count - sent);
                await window.WaitAsync();
                sends.Add(Task.Run(async () =>
                {
                    // Each message its own array, as each request's body would be: in process, a shared one would be retained once.
                    try { await client.EnqueueBatchAsync("memory", Enumerable.Range(0, size).Select(_ => new QueueCommands.NewMessage(type, payload.ToArray())).ToList()); }
                    finally { window.Release(); }
                }));
            }
            await Task.WhenAll(sends);
        }
        QueueQueries.QueueStats stats = null!;
        await Actors.Core.Tests.Poll.WaitFor(async () =>
        {
            stats = await client.GetStatsAsync("memory");
            // Every message finished one way or the other (a retained run's message that failed ends the wait too).
            return stats.TotalSucceeded + stats.DeadLettered >= count;
        }, TimeSpan.FromMinutes(30), TimeSpan.FromMilliseconds(200));
        var seconds = run.Elapsed.TotalSeconds;
        var done = (deadLetters ? stats.DeadLettered : stats.TotalSucceeded) >= count;
        // Let the queue settle (archive writes, snapshots), then measure after a full compacting collection.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var groupTimer = Stopwatch.StartNew();
        var groups = await client.GroupDeadLettersAsync("memory");
        var groupMs = groupTimer.Elapsed.TotalMilliseconds;
        // What the dashboard's dead-letter page asks for: the first page, a page deep in the list, a page filtered by
        // the group's fingerprint, and a filter nothing matches (the whole list scanned for one page).
        async Task<double> PageMs(DeadLetterCommands.DeadLetterFilter? filter, long after)
        {
            var timer = Stopwatch.StartNew();
            await client.ListDeadLettersAsync("memory", filter, after, 50);
            return Math.Round(timer.Elapsed.TotalMilliseconds, 1);
        }
        var deadLetterPages = !deadLetters ? null : new
        {
            first_ms = await PageMs(null, 0),
            middle_ms = await PageMs(null, count / 2),
            by_fingerprint_ms = await PageMs(new DeadLetterCommands.DeadLetterFilter(Fingerprint: groups.FirstOrDefault()?.Fingerprint), 0),
            no_match_ms = await PageMs(new DeadLetterCommands.DeadLetterFilter(Type: "no-such-type"), 0),
        };
        var rssSettled = ResidentMb();
        // An aggressive collection compacts every generation and gives free memory back to the system: what remains
        // resident is what the node holds.
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var result = new
        {
            mode = deadLetters ? "dead-letters" : "retained-results",
            messages = count,
            payload = payloadBytes,
            retained_memory_mb = settings.RetainedMemoryMb >= 0 ? settings.RetainedMemoryMb : new QueueOptions().RetainedMemoryBytes / 1048576,
            done,
            seconds = Math.Round(seconds, 1),
            rss_before_mb = rssBefore,
            rss_settled_mb = rssSettled,
            rss_after_gc_mb = ResidentMb(),
            managed_after_gc_mb = Math.Round(GC.GetTotalMemory(forceFullCollection: false) / 1048576.0, 1),
            peak_rss_mb = Math.Round(Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0, 1),
            dead_letter_groups = groups.Length,
            group_query_ms = Math.Round(groupMs, 1),
            dead_letter_pages = deadLetterPages,
        };
        await system.Terminate();
        if (settings.DataDirectory is null)
        {
            try { Directory.Delete(dataDirectory, recursive: true); }
            catch (IOException) { }
        }
        return (result, done);
    }

    /// <summary>The process's resident set in MiB (VmRSS; the working set where /proc is absent).</summary>
    private static double ResidentMb()
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
            foreach (var line in File.ReadLines(status))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return Math.Round(long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0, 1);
        using var process = Process.GetCurrentProcess();
        return Math.Round(process.WorkingSet64 / 1048576.0, 1);
    }
}

using System.Diagnostics;
using System.Text.Json;
using Actors;
using Actors.Configuration;
using Akka.Actor;
using Akka.Configuration;

/// <summary>
/// --autoscale S: a load step against an autoscaled queue (MinWorkers 1, MaxWorkers --max-workers, ScaleDownAfter
/// 5 s, evaluated every second) whose handler takes --service-ms: 3 s quiet, S seconds at --step-rate messages per
/// second, then --tail-s quiet. Prints one JSON row per second — t, the offered rate λ that second, the smoothed λ the
/// autoscaler used, active and target workers, the need, the backlog and the mean wait of the deliveries that started
/// that second — and a summary as the last line.
/// </summary>
internal static class AutoscaleRuns
{
    public static async Task<(object Result, bool Ok)> RunAsync(LoadSettings settings)
    {
        var dataDirectory = settings.DataDirectory ?? Path.Combine(Path.GetTempPath(), "actors-load", Guid.NewGuid().ToString("N"));
        var options = new DurableQueuesOptions { DataDirectory = dataDirectory, DrainTimeout = TimeSpan.Zero, RequestTimeout = TimeSpan.FromMinutes(1) };
        var service = TimeSpan.FromMilliseconds(settings.ServiceMs);
        options.AddQueue("elastic", q =>
        {
            q.Workers = 1;
            q.Prefetch = 1;
            q.MaxLength = 10_000_000;
            q.Autoscale = new AutoscaleOptions { MinWorkers = 1, MaxWorkers = settings.MaxWorkers, ScaleDownAfter = TimeSpan.FromSeconds(5), Interval = TimeSpan.FromSeconds(1) };
        });
        long waitTicks = 0, started = 0, handled = 0;
        var runs = new System.Collections.Concurrent.ConcurrentDictionary<long, int>();
        options.Handlers.Add<ReadOnlyMemory<byte>>("job", async (_, context, cancellationToken) =>
        {
            Interlocked.Add(ref waitTicks, Math.Max(0, (DateTime.UtcNow - context.EnqueuedAt).Ticks));
            Interlocked.Increment(ref started);
            runs.AddOrUpdate(context.MessageId, 1, (_, n) => n + 1);
            await Task.Delay(service, cancellationToken);
            Interlocked.Increment(ref handled);
            return null;
        });
        DurableQueues.PrepareStorage(options);
        var system = ActorSystem.Create("autoscale", ConfigurationFactory.ParseString("akka.loglevel = WARNING").WithFallback(DurableQueues.Configuration(options)));
        var queues = DurableQueues.Start(system, options);
        await queues.Client.GetStatsAsync("elastic");

        var quiet = TimeSpan.FromSeconds(3);
        var load = TimeSpan.FromSeconds(settings.AutoscaleSeconds);
        var end = quiet + load + TimeSpan.FromSeconds(settings.TailSeconds);
        var clock = Stopwatch.StartNew();
        long sent = 0;
        var payload = new byte[Math.Max(0, settings.PayloadBytes)];
        var producer = Task.Run(async () =>
        {
            using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
            while (await pace.WaitForNextTickAsync())
            {
                var elapsed = clock.Elapsed;
                if (elapsed >= quiet + load) break;
                if (elapsed < quiet) continue;
                var due = (long)((elapsed - quiet).TotalSeconds * settings.StepRate) - Interlocked.Read(ref sent);
                if (due <= 0) continue;
                var batch = new Task<long>[due];
                for (var i = 0; i < due; i++) batch[i] = queues.Client.EnqueueAsync("elastic", "job", payload);
                await Task.WhenAll(batch);
                Interlocked.Add(ref sent, due);
            }
        });

        var rows = new List<object>();
        long lastSent = 0, lastStarted = 0, lastWait = 0;
        var maxActive = 0;
        using (var second = new PeriodicTimer(TimeSpan.FromSeconds(1)))
        {
            while (clock.Elapsed < end && await second.WaitForNextTickAsync())
            {
                var stats = await queues.Client.GetStatsAsync("elastic");
                var a = stats.Autoscale!;
                long nowSent = Interlocked.Read(ref sent), nowStarted = Interlocked.Read(ref started), nowWait = Interlocked.Read(ref waitTicks);
                var startedThisSecond = nowStarted - lastStarted;
                var row = new
                {
                    t = Math.Round(clock.Elapsed.TotalSeconds, 1),
                    lambda = nowSent - lastSent,
                    smoothedLambda = Math.Round(a.ArrivalRate, 1),
                    active = a.Active,
                    target = a.Target,
                    need = a.Need,
                    backlog = stats.Depth,
                    meanWaitMs = startedThisSecond == 0 ? 0 : Math.Round(TimeSpan.FromTicks((nowWait - lastWait) / startedThisSecond).TotalMilliseconds, 1),
                    serviceMs = Math.Round(a.MeanService.TotalMilliseconds, 1),
                };
                maxActive = Math.Max(maxActive, a.Active);
                (lastSent, lastStarted, lastWait) = (nowSent, nowStarted, nowWait);
                rows.Add(row);
                Console.WriteLine(JsonSerializer.Serialize(row));
            }
        }
        await producer;
        var final = await queues.Client.GetStatsAsync("elastic");
        await system.Terminate();
        TryDelete(dataDirectory);

        var expected = (int)Math.Ceiling(settings.StepRate * service.TotalSeconds / 0.8);
        var duplicates = runs.Values.Count(n => n > 1);
        var result = new
        {
            mode = "autoscale",
            step_rate = settings.StepRate,
            service_ms = settings.ServiceMs,
            expected_workers = expected,
            max_active = maxActive,
            final_active = final.Autoscale!.Active,
            sent = Interlocked.Read(ref sent),
            succeeded = final.TotalSucceeded,
            failed_attempts = final.TotalFailedAttempts,
            duplicates,
        };
        return (result, final.TotalFailedAttempts == 0 && duplicates == 0 && final.TotalSucceeded == Interlocked.Read(ref sent));
    }

    private static void TryDelete(string path)
    {
        try { Directory.Delete(path, recursive: true); }
        catch (IOException) { }
    }
}

using Actors.Core.Tests;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

/// <summary>
/// <c>http-failover</c>: offers messages to one queue over HTTP at a fixed rate (open loop: a slow answer does not
/// slow the offer), runs a shell command (a SIGKILL, a SIGTERM, a node joining) once the load is steady, and prints
/// one JSON row: the time from the command to the first 202 for a request sent after it, the longest gap between
/// two 202s, when the cluster view changed (<c>GET /cluster</c>, polled: a member Up, a joining member's first queue,
/// the end of the rebalance), and whether every 202-acknowledged id is still found afterwards.
/// </summary>
internal static class HttpFailover
{
    private sealed record Options(string[] Targets, string Queue, int Rate, int WarmupSeconds, int AfterSeconds, string Event, string Label)
    {
        public static Options Parse(string[] args)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i + 1 < args.Length; i += 2)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Expected --name value pairs, got '{args[i]}'. Flags: --targets URL,URL --queue --rate --warmup-s --after-s --event COMMAND --label");
                values[args[i][2..]] = args[i + 1];
            }
            int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
            return new Options(values["targets"].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                values.GetValueOrDefault("queue", "default"), Int("rate", 500), Int("warmup-s", 10), Int("after-s", 25),
                values.GetValueOrDefault("event", "true"), values.GetValueOrDefault("label", "event"));
        }
    }

    private readonly record struct Acknowledged(long Id, long SentAt, long AnsweredAt);

    public static async Task<int> RunAsync(string[] args)
    {
        var options = Options.Parse(args);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 4096, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            // Longer than the node's own request timeout: a request that waited on a dead node is answered by the node.
            Timeout = TimeSpan.FromSeconds(60),
        };
        var clock = Stopwatch.StartNew();
        long Now() => clock.ElapsedMilliseconds;
        var acknowledged = new ConcurrentBag<Acknowledged>();
        var failures = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var outstanding = 0;
        var sent = 0L;
        using var stop = new CancellationTokenSource();

        async Task SendAsync(long n)
        {
            var target = options.Targets[n % options.Targets.Length];
            var sentAt = Now();
            try
            {
                using var body = new StringContent($"{{\"type\":\"noop\",\"payload\":{n}}}", Encoding.UTF8, "application/json");
                using var response = await http.PostAsync($"{target}/queues/{options.Queue}/messages", body).ConfigureAwait(false);
                var text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    using var json = JsonDocument.Parse(text);
                    acknowledged.Add(new Acknowledged(json.RootElement.GetProperty("id").GetInt64(), sentAt, Now()));
                }
                else failures.AddOrUpdate(((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), 1, (_, c) => c + 1);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                failures.AddOrUpdate(e.GetType().Name, 1, (_, c) => c + 1);
            }
            finally { Interlocked.Decrement(ref outstanding); }
        }

        // Open loop: every 10 ms, the requests due by now; at most 8,000 outstanding. A request the node cannot answer
        // yet (it went to a dead node) holds its connection until the node's request timeout, so the pool is large
        // enough that such requests never delay the ones behind them.
        var offer = Task.Run(async () =>
        {
            var started = Now();
            while (!stop.IsCancellationRequested)
            {
                var due = (Now() - started) * options.Rate / 1000;
                while (sent < due && Volatile.Read(ref outstanding) < 8_000)
                {
                    Interlocked.Increment(ref outstanding);
                    _ = SendAsync(sent++);
                }
                await Task.Delay(10).ConfigureAwait(false);
            }
        });

        // The cluster view, polled from the first target: when each member was first Up, where each queue lives.
        // Sharding balances shards, not queues, and several queues may share a shard, so equal queue counts per node
        // need not ever happen: the rebalance after a join is done at the last change of placement (over polls that
        // placed every queue), provided every Up member then hosts a queue.
        var firstUp = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        long? balancedAt = null, eventAt = null, newMemberHostsAt = null;
        HashSet<string>? membersAtEvent = null;
        string? lastPlacement = null;
        var queuesPerNode = new Dictionary<string, int>(StringComparer.Ordinal);
        var poll = Task.Run(async () =>
        {
            // A sampler, not a wait for a condition: the placement is read four times a second until the run ends.
            using var sample = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var json = JsonDocument.Parse(await http.GetStringAsync($"{options.Targets[0]}/cluster").ConfigureAwait(false));
                    var at = Now();
                    var up = json.RootElement.GetProperty("members").EnumerateArray()
                        .Where(m => m.GetProperty("status").GetString() == "Up").Select(m => m.GetProperty("address").GetString()!).ToList();
                    foreach (var member in up) firstUp.TryAdd(member, at);
                    var queues = json.RootElement.GetProperty("queues").EnumerateArray()
                        .Select(q => (Queue: q.GetProperty("queue").GetString() ?? "", Node: q.GetProperty("node").GetString() ?? "")).OrderBy(q => q.Queue, StringComparer.Ordinal).ToList();
                    var complete = !json.RootElement.TryGetProperty("unplaced", out var unplaced) || unplaced.ValueKind != JsonValueKind.Object || !unplaced.EnumerateObject().Any();
                    var placed = queues.GroupBy(q => q.Node).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
                    if (membersAtEvent is { } before && complete)
                    {
                        var joined = up.Where(m => !before.Contains(m)).ToList();
                        if (newMemberHostsAt is null && joined.Any(placed.ContainsKey)) newMemberHostsAt = at;
                        var placement = string.Join(',', queues.Select(q => $"{q.Queue}@{q.Node}"));
                        if (placement != lastPlacement)
                        {
                            lastPlacement = placement;
                            queuesPerNode = placed;
                            balancedAt = joined.Count > 0 && up.All(placed.ContainsKey) ? at : null;
                        }
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException) { }
                await sample.WaitForNextTickAsync().ConfigureAwait(false);
            }
        });

        await Task.Delay(TimeSpan.FromSeconds(options.WarmupSeconds)).ConfigureAwait(false);
        eventAt = Now();
        membersAtEvent = firstUp.Keys.ToHashSet(StringComparer.Ordinal);
        using (var command = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", options.Event]) { UseShellExecute = false })!)
            await command.WaitForExitAsync().ConfigureAwait(false);
        var commandDone = Now();
        await Task.Delay(TimeSpan.FromSeconds(options.AfterSeconds)).ConfigureAwait(false);
        stop.Cancel();
        await offer.ConfigureAwait(false);
        await poll.ConfigureAwait(false);
        // Requests still outstanding are answered within the node's request timeout.
        await Poll.Until(() => Volatile.Read(ref outstanding) == 0, "outstanding requests answered", TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);

        var acks = acknowledged.OrderBy(a => a.AnsweredAt).ToList();
        var at = eventAt.Value;
        // A signal has landed when the command returns: only requests sent after that count, but the time runs from the start.
        var firstAfter = acks.Where(a => a.SentAt >= commandDone).Select(a => (long?)a.AnsweredAt).Min();
        var around = acks.Where(a => a.AnsweredAt >= at - 1000).Select(a => a.AnsweredAt).ToList();
        var maxGap = around.Zip(around.Skip(1), (a, b) => b - a).DefaultIfEmpty(0).Max();
        var newMember = firstUp.Where(p => p.Value > at).Select(p => (long?)p.Value).Min();

        // Every acknowledged id must be found on the queue afterwards.
        var missing = 0;
        using var throttle = new SemaphoreSlim(64);
        await Task.WhenAll(acks.Select(async a =>
        {
            await throttle.WaitAsync().ConfigureAwait(false);
            try
            {
                using var response = await http.GetAsync($"{options.Targets[a.Id % options.Targets.Length]}/queues/{options.Queue}/messages/{a.Id}").ConfigureAwait(false);
                if (response.StatusCode != HttpStatusCode.OK) Interlocked.Increment(ref missing);
            }
            finally { throttle.Release(); }
        })).ConfigureAwait(false);

        Console.WriteLine(JsonSerializer.Serialize(new
        {
            run = options.Label,
            rate = options.Rate,
            offered = sent,
            acknowledged = acks.Count,
            lost = missing,
            failures = failures.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
            command_ms = commandDone - at,
            first_202_after_ms = firstAfter - at,
            longest_202_gap_ms = maxGap,
            new_member_up_ms = newMember - at,
            first_queue_on_new_member_ms = newMemberHostsAt - newMember,
            balanced_after_up_ms = balancedAt - newMember,
            queues_per_node = queuesPerNode,
        }));
        return missing == 0 && firstAfter is not null ? 0 : 1;
    }
}

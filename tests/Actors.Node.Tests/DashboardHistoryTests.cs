using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Actors.Core.Tests;
using Actors.Http.Dashboard;
using Actors.Http.Security;
using Microsoft.Extensions.Logging;

namespace Actors.Node.Tests;

/// <summary>
/// The dashboard's history: 10-s points written per queue, read back, pruned beyond 24 h, damaged files skipped with a
/// warning instead of a crash, and a node restarted on the same data directory opening its charts with the points
/// recorded before.
/// </summary>
public sealed class DashboardHistoryTests : IDisposable
{
    private static readonly long T0 = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "actors-history-tests", Guid.NewGuid().ToString("N"));
    private readonly ListLogger _log = new();

    private HistoryStore Store() => new(_directory, _log);

    private static HistoryPoint Point(long time, float depth, float arrivals = 0) => new(time, depth, 1, 0, 0, arrivals, arrivals, 12.5f, 3, 0.5f, 4, 4);

    [Fact]
    public void Points_round_trip_and_a_queue_name_never_becomes_a_path_as_it_stands()
    {
        var store = Store();
        store.Append("orders.eu", [Point(T0, 5, 2.5f), Point(T0 + 10, 0), new HistoryPoint(T0 + 20, 1e7f, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0)]);
        var points = store.Read("orders.eu", T0 - 60, T0 + 60);
        Assert.Equal([T0, T0 + 10, T0 + 20], points.Select(p => p.Time));
        Assert.Equal(Point(T0, 5, 2.5f), points[0]);
        Assert.Equal(1e7f, points[2].Depth);
        Assert.Equal(3, points[2].Dead);

        var file = Path.GetFileName(Assert.Single(Directory.GetFiles(_directory)));
        Assert.DoesNotContain("orders", file, StringComparison.Ordinal);
        Assert.Equal(Path.GetFileName(store.PathOf("orders.eu", HistoryStore.Period(T0))), file);
        // An idle queue's point is its time, mask, the values that are not zero and the check.
        Assert.True(new FileInfo(store.PathOf("orders.eu", HistoryStore.Period(T0))).Length < 4 + 3 * 52);
    }

    [Fact]
    public void Points_older_than_24_hours_are_pruned_and_never_read()
    {
        var store = Store();
        var now = T0 + 3 * 86400;
        store.Append("q", [Point(now - 30 * 3600, 1), Point(now - 25 * 3600, 2), Point(now - 20 * 3600, 3), Point(now - 60, 4)]);
        // Files by 6-h period: 30 h and 25 h ago share one, 20 h ago and a minute ago have one each.
        Assert.Equal(3, Directory.GetFiles(_directory).Length);

        Assert.True(store.Prune(now) >= 1);
        var kept = store.Read("q", now - (long)HistoryStore.Retention.TotalSeconds, now);
        Assert.Equal([3f, 4f], kept.Select(p => p.Depth));
        // The file of 30 h ago is gone; at most one file (the one straddling the 24-h line) holds older points.
        Assert.False(File.Exists(store.PathOf("q", HistoryStore.Period(now - 30 * 3600))));
        Assert.True(Directory.GetFiles(_directory).Length <= (int)(HistoryStore.Retention.TotalSeconds / HistoryStore.PeriodSeconds) + 1);
        Assert.Equal([3f, 4f], store.Load(now - (long)HistoryStore.Retention.TotalSeconds)["q"].Select(p => p.Depth));
    }

    [Fact]
    public void A_damaged_or_cut_off_file_is_skipped_with_a_warning_and_the_others_load()
    {
        var store = Store();
        store.Append("good", [Point(T0, 1), Point(T0 + 10, 2)]);
        store.Append("cut", [Point(T0, 1), Point(T0 + 10, 2), Point(T0 + 20, 3)]);
        store.Append("flipped", [Point(T0, 1), Point(T0 + 10, 2)]);
        var cut = store.PathOf("cut", HistoryStore.Period(T0));
        var cutLength = new FileInfo(cut).Length;
        using (var file = new FileStream(cut, FileMode.Open)) file.SetLength(cutLength - 5);
        var flipped = store.PathOf("flipped", HistoryStore.Period(T0));
        var bytes = File.ReadAllBytes(flipped);
        bytes[^3] ^= 0xFF;
        File.WriteAllBytes(flipped, bytes);
        var garbage = store.PathOf("garbage", HistoryStore.Period(T0));
        File.WriteAllText(garbage, "not a history file at all");
        File.WriteAllBytes(store.PathOf("empty", HistoryStore.Period(T0)), []);
        File.WriteAllText(Path.Combine(_directory, "zz-not-hex.5.qh"), "x");

        var loaded = store.Load(T0 - 60);

        Assert.Equal([1f, 2f], loaded["good"].Select(p => p.Depth));
        Assert.Equal([1f, 2f], loaded["cut"].Select(p => p.Depth));
        Assert.Equal([1f], loaded["flipped"].Select(p => p.Depth));
        Assert.Empty(loaded["garbage"]);
        Assert.False(File.Exists(garbage));
        Assert.Contains(_log.Warnings, w => w.Contains("cut-off", StringComparison.Ordinal));
        Assert.Contains(_log.Warnings, w => w.Contains("check does not match", StringComparison.Ordinal));
        Assert.Contains(_log.Warnings, w => w.Contains("no history header", StringComparison.Ordinal));

        // The repaired files take new points that are read back after the good ones.
        store.Append("cut", [Point(T0 + 30, 4)]);
        Assert.Equal([1f, 2f, 4f], store.Read("cut", T0 - 60, T0 + 60).Select(p => p.Depth));
        store.Append("garbage", [Point(T0 + 30, 5)]);
        Assert.Equal([5f], store.Read("garbage", T0 - 60, T0 + 60).Select(p => p.Depth));
    }

    [Fact]
    public void A_10_s_point_keeps_the_last_counts_and_the_mean_rates_of_its_step()
    {
        var series = new QueueSeries { DetailedUntil = T0 + 3600 };
        Assert.Null(series.Add(Point(T0, 3, 1)));
        Assert.Null(series.Add(Point(T0 + 5, 7, 3)));
        var closed = series.Add(Point(T0 + 10, 1, 10));
        Assert.Equal(Point(T0, 7, 2) with { Arrivals = 2, Completions = 2 }, closed);
        Assert.Equal([T0, T0 + 5, T0 + 10], series.Seconds!.Select(p => p.Time));
        Assert.Equal(Point(T0 + 10, 1, 10), series.CloseIfBefore(T0 + 21));
        // One hour of 1-s points while watched, then 10-s points only.
        Assert.Equal([T0, T0 + 5, T0 + 10], series.Since(T0 - 60).Select(p => p.Time));
        series.DetailedUntil = T0;
        series.Add(Point(T0 + 30, 2));
        Assert.Null(series.Seconds);
        Assert.Equal([T0, T0 + 10], series.Since(T0 - 60).Select(p => p.Time));
    }

    [Fact]
    public void History_columns_break_the_lines_across_a_gap()
    {
        var json = JsonNode.Parse(HistoryPoint.ToColumnsJson([Point(T0, 1), Point(T0 + 10, 2), Point(T0 + 500, 3)], gap: 30))!;
        Assert.Equal([T0, T0 + 10, T0 + 11, T0 + 500], json["t"]!.AsArray().Select(t => t!.GetValue<long>()));
        Assert.Null(json["depth"]![0]![2]);
        Assert.Equal(3, json["depth"]![0]![3]!.GetValue<double>());
        Assert.Equal(5, json.AsObject().Count - 1);
    }

    [Fact]
    public async Task A_restarted_node_opens_its_charts_with_the_points_recorded_before()
    {
        var key = ApiKeys.Generate().Key;
        var settings = new Dictionary<string, string?>
        {
            ["Actors:DataDirectory"] = _directory,
            ["Actors:Queues:kept:Workers"] = "1",
            ["Actors:Auth:Keys:admin:Hash"] = ApiKeys.Hash(key),
            ["Actors:Auth:Keys:admin:Permissions:0"] = "admin",
        };
        long[] before;
        await using (var node = new NodeFactory(settings))
        {
            using var http = Client(node, key);
            for (var i = 0; i < 3; i++)
                Assert.Equal(HttpStatusCode.Accepted, (await http.PostAsync("/queues/kept/messages", new StringContent("{\"type\":\"nohandler\",\"payload\":1}", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
            // Opening the queue page makes the sampler read every second and keep the queue's 1-s points.
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/dashboard/queues/kept")).StatusCode);
            JsonNode history = null!;
            // 404 until the sampler's first read has seen the queue.
            await Poll.Until(async () =>
            {
                using var response = await http.GetAsync("/dashboard/queues/kept/history");
                if (response.StatusCode == HttpStatusCode.NotFound) return false;
                history = JsonNode.Parse(await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync())!;
                return history["t"]!.AsArray().Count >= 2;
            }, "the sampler to record points of queue kept", TimeSpan.FromSeconds(30));
            before = history["t"]!.AsArray().Select(t => t!.GetValue<long>()).ToArray();
        }
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(_directory, "dashboard-history"), "*.qh"));

        await using (var node = new NodeFactory(settings))
        {
            using var http = Client(node, key);
            // 24 h from the files; the page's embedded hour from the points loaded at start.
            var stored = JsonNode.Parse(await http.GetStringAsync("/dashboard/queues/kept/history?range=24h"))!["t"]!.AsArray().Select(t => t!.GetValue<long>()).ToList();
            Assert.Contains(stored, t => t <= before[^1] && t >= QueueSeries.BucketOf(before[0]) * QueueSeries.Step);
            Assert.Contains(stored, t => t <= before[^1]);
            var page = await http.GetStringAsync("/dashboard/queues/kept");
            var embedded = Regex.Match(page, "<script type=\"application/json\" id=\"queue-history\">(.*?)</script>").Groups[1].Value;
            Assert.Contains(JsonNode.Parse(embedded)!["t"]!.AsArray(), t => t!.GetValue<long>() <= before[^1]);
            Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/dashboard/queues/kept/history?range=7d")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/dashboard/queues/never-declared/history")).StatusCode);
        }
    }

    private static HttpClient Client(NodeFactory node, string key)
    {
        var http = node.CreateClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (DirectoryNotFoundException) { } catch (IOException) { }
    }

    private sealed class ListLogger : ILogger
    {
        private readonly ConcurrentQueue<string> _warnings = new();

        public IReadOnlyCollection<string> Warnings => _warnings;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Warning) _warnings.Enqueue(formatter(state, exception));
        }
    }
}

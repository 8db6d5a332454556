using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Actors.Core.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Xunit.Abstractions;

namespace Actors.Node.Tests;

/// <summary>
/// Per-key ordering in the real node process: keyed messages run by a webhook that fails some first attempts, a
/// SIGKILL while deliveries are in flight, a restart on the same data, and for every key the handler's starts follow
/// enqueue order (a redelivery repeats the message it interrupted, never one after it) with never two at once.
/// </summary>
public sealed class KeyOrderingProcessTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Keys = 5;
    private const int PerKey = 20;

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "actors-node-tests", Guid.NewGuid().ToString("N"));
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly ConcurrentDictionary<string, ConcurrentQueue<int>> _starts = new();
    private readonly ConcurrentDictionary<string, int> _running = new();
    private readonly ConcurrentDictionary<(string, int), int> _attempts = new();
    private readonly ConcurrentQueue<string> _overlaps = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _holding;
    private int _held;
    private WebApplication _receiver = null!;
    private string _receiverUrl = "";

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _receiver = builder.Build();
        _receiver.MapPost("/hook", async (HttpRequest request) =>
        {
            var payload = (await JsonNode.ParseAsync(request.Body))!;
            var key = payload["key"]!.GetValue<string>();
            var n = payload["n"]!.GetValue<int>();
            if (_running.AddOrUpdate(key, 1, (_, running) => running + 1) > 1) _overlaps.Enqueue($"{key}/{n} started while another message of {key} ran");
            try
            {
                _starts.GetOrAdd(key, _ => new ConcurrentQueue<int>()).Enqueue(n);
                if (_holding)
                {
                    Interlocked.Increment(ref _held);
                    await _release.Task; // in flight until the node is killed
                }
                // Every seventh message fails its first attempt: its retry must come before the key's next message.
                var attempt = _attempts.AddOrUpdate((key, n), 1, (_, a) => a + 1);
                return n % 7 == 3 && attempt == 1 ? Results.StatusCode(500) : Results.Ok(new { key, n });
            }
            finally
            {
                _running.AddOrUpdate(key, 0, (_, running) => running - 1);
            }
        });
        await _receiver.StartAsync();
        _receiverUrl = _receiver.Urls.Single() + "/hook";
    }

    public async Task DisposeAsync()
    {
        _release.TrySetResult();
        _http.Dispose();
        await _receiver.DisposeAsync();
        try { Directory.Delete(_dataDirectory, recursive: true); } catch (IOException) { }
    }

    private Process StartNode(int port) => NodeProcess.Start(output, port,
    [
        $"--Actors:DataDirectory={_dataDirectory}",
        "--Actors:DrainTimeout=00:00:05",
        $"--Actors:Webhooks:sync:Url={_receiverUrl}",
        "--Actors:Webhooks:sync:AllowedNetworks:0=127.0.0.0/8",
        "--Actors:Queues:ordered:Workers=4",
        "--Actors:Queues:ordered:Retry:BaseDelay=00:00:00.050",
        "--Actors:Queues:ordered:Retry:MaxAttempts=10",
        "--Actors:Queues:ordered:SnapshotEvery=20",
    ]);

    private async Task<JsonNode> Stats(int port) => JsonNode.Parse(await _http.GetStringAsync($"http://127.0.0.1:{port}/queues/ordered"))!;

    [Fact]
    public async Task Each_keys_starts_follow_enqueue_order_across_failures_and_a_SIGKILL_of_the_node()
    {
        var port = NodeProcess.FreePort();
        var node = StartNode(port);
        var restarted = node;
        try
        {
            await NodeProcess.WaitReadyAsync(_http, port, node);
            // The first half, interleaved across keys, runs before the kill.
            await EnqueueAsync(port, 0, PerKey / 2);
            await Poll.Until(async () => (await Stats(port))["totals"]!["succeeded"]!.GetValue<int>() >= Keys * 4, "some messages to finish", TimeSpan.FromSeconds(60));
            _holding = true;
            await EnqueueAsync(port, PerKey / 2, PerKey);
            await Poll.Until(() => Task.FromResult(Volatile.Read(ref _held) >= 3), "deliveries to be in flight", TimeSpan.FromSeconds(60));
            node.Kill(entireProcessTree: true); // SIGKILL: no drain, no flush
            await node.WaitForExitAsync();
            _holding = false;
            _release.SetResult();
            await Poll.Until(() => Task.FromResult(_running.Values.All(r => r == 0)), "held requests to end", TimeSpan.FromSeconds(30));
            output.WriteLine($"killed with {_held} deliveries in flight");

            restarted = StartNode(port);
            await NodeProcess.WaitReadyAsync(_http, port, restarted);
            await Poll.Until(async () => (await Stats(port))["totals"]!["succeeded"]!.GetValue<int>() == Keys * PerKey, "every message to succeed", TimeSpan.FromSeconds(120));

            Assert.Empty(_overlaps);
            for (var k = 0; k < Keys; k++)
            {
                var starts = _starts[$"k{k}"].ToList();
                var distinct = starts.Where((n, i) => i == 0 || starts[i - 1] != n).ToList();
                Assert.True(Enumerable.Range(0, PerKey).SequenceEqual(distinct), $"k{k} started {string.Join(",", starts)}");
            }
            var stats = await Stats(port);
            Assert.Equal(Keys * PerKey, stats["totals"]!["enqueued"]!.GetValue<int>());
            Assert.Null(stats["keys"]);
        }
        finally
        {
            foreach (var process in new[] { node, restarted }) if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Messages <paramref name="from"/>…<paramref name="to"/> − 1 of every key, in one batch, interleaved across keys.</summary>
    private async Task EnqueueAsync(int port, int from, int to)
    {
        var items = new JsonArray();
        for (var n = from; n < to; n++)
            for (var k = 0; k < Keys; k++)
                items.Add(new JsonObject { ["type"] = "sync", ["key"] = $"k{k}", ["payload"] = new JsonObject { ["key"] = $"k{k}", ["n"] = n } });
        var response = await _http.PostAsync($"http://127.0.0.1:{port}/queues/ordered/messages/batch",
            new StringContent(items.ToJsonString(), Encoding.UTF8, "application/json"));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToJsonString());
        Assert.Equal(items.Count, body["accepted"]!.GetValue<int>());
    }
}

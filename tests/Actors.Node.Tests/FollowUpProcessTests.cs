using Actors.Core.Tests;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Xunit.Abstractions;

namespace Actors.Node.Tests;

/// <summary>
/// Continuations in the real node process: chains of three steps across two queues (echo in <c>default</c> → a webhook
/// in <c>chain</c> → echo in <c>default</c>), a SIGKILL while the middle steps are in flight, a restart on the same data,
/// and every step of every chain succeeded exactly once — counted in the queues' statuses and totals, not in handler
/// runs (a step in flight at the kill runs again).
/// </summary>
public sealed class FollowUpProcessTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Chains = 20;

    /// <summary>The second and third steps: the first one's result to the webhook in <c>chain</c>, its answer echoed in <c>default</c>.</summary>
    private const string Chain = """
        "then":{"queue":"chain","type":"notify","useResult":true,"then":{"queue":"default","type":"echo","useResult":true}}
        """;

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "actors-node-tests", Guid.NewGuid().ToString("N"));
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly ConcurrentDictionary<long, int> _runs = new();
    private readonly ConcurrentDictionary<long, bool> _held = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _holding = true;
    private WebApplication _receiver = null!;
    private string _receiverUrl = "";

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _receiver = builder.Build();
        _receiver.MapPost("/hook", async (HttpRequest request) =>
        {
            var id = long.Parse(request.Headers["X-Actors-Message-Id"]!, System.Globalization.CultureInfo.InvariantCulture);
            _runs.AddOrUpdate(id, 1, (_, n) => n + 1);
            var payload = await JsonNode.ParseAsync(request.Body);
            if (_holding)
            {
                _held[id] = true;
                await _release.Task; // the middle step stays in flight until the node is killed
            }
            return Results.Ok(new { received = id, chain = payload?["chain"]?.GetValue<int>() });
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
        $"--Actors:Webhooks:notify:Url={_receiverUrl}",
        "--Actors:Webhooks:notify:AllowedNetworks:0=127.0.0.0/8",
        "--Actors:Queues:chain:Workers=4",
        "--Actors:Queues:chain:Retry:BaseDelay=00:00:00.100",
        // Small snapshots: the kill lands after compactions that deleted events owing follow-ups.
        "--Actors:Queues:default:SnapshotEvery=10",
        "--Actors:Queues:chain:SnapshotEvery=10",
    ]);

    private async Task<JsonNode> Message(int port, string queue, long id) =>
        JsonNode.Parse(await _http.GetStringAsync($"http://127.0.0.1:{port}/queues/{queue}/messages/{id}"))!;

    /// <summary>Waits until the message succeeded and its follow-up is stored; returns the follow-up's id (null for the last step).</summary>
    private async Task<long?> Succeeded(int port, string queue, long id, bool hasFollowUp)
    {
        JsonNode message = null!;
        await Poll.Until(async () => (message = await Message(port, queue, id))["status"]!.GetValue<string>() == "succeeded"
            && (!hasFollowUp || message["followUp"]?["id"] is not null), $"{queue} message {id} to succeed", TimeSpan.FromSeconds(60));
        return hasFollowUp ? message["followUp"]!["id"]!.GetValue<long>() : null;
    }

    [Fact]
    public async Task Chains_of_three_steps_across_two_queues_succeed_once_per_step_after_a_SIGKILL_mid_chain()
    {
        var port = NodeProcess.FreePort();
        var node = StartNode(port);
        var restarted = node;
        try
        {
            await NodeProcess.WaitReadyAsync(_http, port, node);
            var firsts = new List<long>();
            for (var i = 0; i < Chains; i++)
            {
                var body = "{\"type\":\"echo\",\"payload\":{\"chain\":" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}," + Chain + "}";
                var response = await _http.PostAsync($"http://127.0.0.1:{port}/queues/default/messages", new StringContent(body, Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                firsts.Add(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<long>());
            }
            // Mid-chain: first steps done, their follow-ups stored in the second queue, middle steps held at the receiver.
            await Poll.Until(() => Task.FromResult(_held.Count >= 4), "middle steps to be in flight", TimeSpan.FromSeconds(60));
            node.Kill(entireProcessTree: true); // SIGKILL: no drain, no flush
            await node.WaitForExitAsync();
            _holding = false;
            _release.SetResult();
            output.WriteLine($"killed with {_held.Count} middle steps in flight");

            restarted = StartNode(port);
            await NodeProcess.WaitReadyAsync(_http, port, restarted);
            var lasts = new List<long>();
            foreach (var first in firsts)
            {
                var middle = (await Succeeded(port, "default", first, hasFollowUp: true))!.Value;
                var last = (await Succeeded(port, "chain", middle, hasFollowUp: true))!.Value;
                await Succeeded(port, "default", last, hasFollowUp: false);
                lasts.Add(last);
            }

            Assert.Equal(Chains, lasts.Distinct().Count());
            var defaults = JsonNode.Parse(await _http.GetStringAsync($"http://127.0.0.1:{port}/queues/default"))!["totals"]!;
            var chain = JsonNode.Parse(await _http.GetStringAsync($"http://127.0.0.1:{port}/queues/chain"))!["totals"]!;
            output.WriteLine($"middle-step handler runs: {_runs.Values.Sum()} for {Chains} chains");
            Assert.Equal((2 * Chains, 2 * Chains), (defaults["enqueued"]!.GetValue<int>(), defaults["succeeded"]!.GetValue<int>()));
            Assert.Equal((Chains, Chains), (chain["enqueued"]!.GetValue<int>(), chain["succeeded"]!.GetValue<int>()));
        }
        finally
        {
            foreach (var process in new[] { node, restarted }) if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }
}

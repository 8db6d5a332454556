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
/// The real node process: HTTP in, webhook out to a local receiver, SIGKILL in the middle, restart on the same data,
/// and every accepted message reaches the receiver at least once. Then SIGTERM drains and exits 0.
/// </summary>
public sealed class NodeProcessTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "actors-node-tests", Guid.NewGuid().ToString("N"));
    private readonly ConcurrentDictionary<long, int> _received = new();
    // Per producer key (the "key" field of the payload): the message ids that carried it, and when it first arrived.
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<long, bool>> _idsByKey = new();
    private readonly ConcurrentDictionary<string, DateTime> _firstArrival = new();
    // Ids the receiver answered 200; while _hookFails is set it answers 500 instead.
    private readonly ConcurrentDictionary<long, bool> _succeeded = new();
    private volatile bool _hookFails;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    // Deliveries the receiver is holding open, and what lets them answer.
    private readonly ConcurrentDictionary<long, bool> _held = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
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
            if (_hookFails) return Results.StatusCode(StatusCodes.Status500InternalServerError);
            _succeeded[id] = true;
            _received.AddOrUpdate(id, 1, (_, n) => n + 1);
            var payload = await JsonNode.ParseAsync(request.Body);
            if (payload?["key"]?.GetValue<string>() is { } key)
            {
                _idsByKey.GetOrAdd(key, _ => new ConcurrentDictionary<long, bool>())[id] = true;
                _firstArrival.TryAdd(key, DateTime.UtcNow);
            }
            if (payload?["hold"]?.GetValue<bool>() == true)
            {
                _held[id] = true;
                await _release.Task; // the delivery stays in flight until the test lets it go
            }
            return Results.Ok(new { received = id });
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

    private Process StartNode(int port, params string[] settings) => NodeProcess.Start(output, port,
    [
        $"--Actors:DataDirectory={_dataDirectory}",
        "--Actors:DrainTimeout=00:00:05",
        $"--Actors:Webhooks:notify:Url={_receiverUrl}",
        "--Actors:Webhooks:notify:AllowedNetworks:0=127.0.0.0/8",
        "--Actors:Queues:default:AllowedTypes:2=notify",
        "--Actors:Queues:default:Retry:BaseDelay=00:00:00.100",
        .. settings,
    ]);

    [Fact]
    public async Task Every_accepted_message_reaches_the_webhook_after_a_SIGKILL_and_restart()
    {
        var port = NodeProcess.FreePort();
        var node = StartNode(port);
        await NodeProcess.WaitReadyAsync(_http, port, node);

        const int producers = 4, perProducer = 150, killAfter = 250;
        var accepted = new ConcurrentBag<long>();
        var killed = new TaskCompletionSource();
        async Task Produce(int producer)
        {
            for (var i = 0; i < perProducer && !killed.Task.IsCompleted; i++)
            {
                try
                {
                    var body = new StringContent($"{{\"type\":\"notify\",\"payload\":{{\"producer\":{producer},\"n\":{i}}}}}", Encoding.UTF8, "application/json");
                    var response = await _http.PostAsync($"http://127.0.0.1:{port}/queues/default/messages", body);
                    if (response.StatusCode != HttpStatusCode.Accepted) continue;
                    var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                    accepted.Add(json["id"]!.GetValue<long>());
                    if (accepted.Count == killAfter) killed.TrySetResult();
                }
                catch (HttpRequestException)
                {
                    return; // the node is gone: whatever was not answered 202 was never promised
                }
                catch (TaskCanceledException)
                {
                    return;
                }
            }
        }
        var producing = Task.WhenAll(Enumerable.Range(0, producers).Select(Produce));
        await Task.WhenAny(killed.Task, producing);
        node.Kill(entireProcessTree: true); // SIGKILL: no drain, no flush
        await node.WaitForExitAsync();
        await producing;
        var acceptedBeforeKill = accepted.Count;
        Assert.True(acceptedBeforeKill >= killAfter, $"only {acceptedBeforeKill} accepted before the kill");

        var restarted = StartNode(port);
        try
        {
            await NodeProcess.WaitReadyAsync(_http, port, restarted);
            await Poll.WaitFor(() => accepted.All(_received.ContainsKey), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));

            var missing = accepted.Where(id => !_received.ContainsKey(id)).ToList();
            var duplicates = _received.Values.Sum(n => n - 1);
            output.WriteLine($"accepted {acceptedBeforeKill}, received {_received.Count}, duplicates {duplicates}, missing {missing.Count}");
            Assert.Empty(missing);

            // SIGTERM drains and exits 0.
            using (var term = Process.Start("kill", ["-TERM", restarted.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await term.WaitForExitAsync();
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await restarted.WaitForExitAsync(exit.Token);
            Assert.Equal(0, restarted.ExitCode);
        }
        finally
        {
            if (!restarted.HasExited) restarted.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task SIGTERM_lets_the_deliveries_in_flight_finish_then_exits_0_and_nothing_runs_twice()
    {
        var port = NodeProcess.FreePort();
        var node = StartNode(port);
        var restarted = node;
        try
        {
            await NodeProcess.WaitReadyAsync(_http, port, node);
            var held = new List<long>();
            for (var i = 0; i < 3; i++)
            {
                var response = await _http.PostAsync($"http://127.0.0.1:{port}/queues/default/messages",
                    new StringContent($"{{\"type\":\"notify\",\"payload\":{{\"hold\":true,\"n\":{i}}}}}", Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                held.Add(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<long>());
            }
            await Poll.Until(() => held.All(_held.ContainsKey), "every held delivery to be in flight at the receiver", TimeSpan.FromSeconds(30));

            // SIGTERM with three deliveries in flight; they answer only after the signal was sent.
            using (var term = Process.Start("kill", ["-TERM", node.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await term.WaitForExitAsync();
            _release.SetResult();
            using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30))) await node.WaitForExitAsync(exit.Token);
            Assert.Equal(0, node.ExitCode);

            // Their successes were stored before the exit: after a restart they are succeeded and none is delivered again.
            restarted = StartNode(port);
            await NodeProcess.WaitReadyAsync(_http, port, restarted);
            foreach (var id in held)
            {
                var message = JsonNode.Parse(await _http.GetStringAsync($"http://127.0.0.1:{port}/queues/default/messages/{id}"))!;
                Assert.Equal("succeeded", message["status"]!.GetValue<string>());
                Assert.Equal(1, _received[id]);
            }
        }
        finally
        {
            foreach (var process in new[] { node, restarted }) if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task A_body_over_the_servers_limit_is_refused_with_413_request_too_large_and_loses_nothing()
    {
        var port = NodeProcess.FreePort();
        // The body limit is Kestrel's (the in-memory test server has none): a real process with a 4 KiB limit.
        var node = StartNode(port, "--Kestrel:Limits:MaxRequestBodySize=4096");
        try
        {
            await NodeProcess.WaitReadyAsync(_http, port, node);
            var url = $"http://127.0.0.1:{port}/queues/default/messages";
            var kept = await _http.PostAsync(url, new StringContent("{\"type\":\"noop\",\"payload\":1}", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Accepted, kept.StatusCode);
            var keptId = JsonNode.Parse(await kept.Content.ReadAsStringAsync())!["id"]!.GetValue<long>();

            var big = new string('x', 8192);
            foreach (var (route, body) in new[] { (url, $"{{\"type\":\"noop\",\"payload\":\"{big}\"}}"), (url + "/batch", $"[{{\"type\":\"noop\",\"payload\":\"{big}\"}}]") })
            {
                var refused = await _http.PostAsync(route, new StringContent(body, Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
                Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
                Assert.Equal("urn:actors:problem:request-too-large", JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["type"]!.GetValue<string>());
            }

            var stats = JsonNode.Parse(await _http.GetStringAsync($"http://127.0.0.1:{port}/queues/default"))!;
            Assert.Equal(1, stats["totals"]!["enqueued"]!.GetValue<int>());
            Assert.NotNull(JsonNode.Parse(await _http.GetStringAsync($"{url}/{keptId}")));
        }
        finally
        {
            if (!node.HasExited) node.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Sends one keyed message; the id when stored (202) or replayed (200), null when the node gave no answer.</summary>
    private async Task<(long Id, bool Replayed)?> SendKeyed(int port, string key, string extra = "")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/queues/default/messages")
        {
            Content = new StringContent($"{{\"type\":\"notify\",\"payload\":{{\"key\":\"{key}\"}}{extra}}}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", key);
        try
        {
            var response = await _http.SendAsync(request);
            if (response.StatusCode is not (HttpStatusCode.Accepted or HttpStatusCode.OK)) return null;
            var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            return (json["id"]!.GetValue<long>(), response.StatusCode == HttpStatusCode.OK);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null; // the node is gone: the request may or may not have been stored
        }
    }

    [Fact]
    public async Task Keyed_retries_after_a_SIGKILL_store_one_message_each_and_delayed_messages_fire_once_after_the_restart()
    {
        var port = NodeProcess.FreePort();
        var node = StartNode(port);
        await NodeProcess.WaitReadyAsync(_http, port, node);

        // Delayed messages due a few seconds after they are sent: the node is killed before they are due.
        var delayedSent = new Dictionary<string, DateTime>();
        for (var i = 0; i < 20; i++)
        {
            var key = $"delayed-{i}";
            delayedSent[key] = DateTime.UtcNow;
            Assert.NotNull(await SendKeyed(port, key, ",\"delay\":\"PT4S\""));
        }

        // Keyed producers; every key a producer sent, answered or not, is retried after the restart.
        const int killAfter = 150;
        var sent = new ConcurrentBag<string>();
        var answered = new ConcurrentDictionary<string, long>();
        var killed = new TaskCompletionSource();
        async Task Produce(int producer)
        {
            for (var i = 0; i < 200 && !killed.Task.IsCompleted; i++)
            {
                var key = $"p{producer}-{i}";
                sent.Add(key);
                if (await SendKeyed(port, key) is not { } answer) return;
                answered[key] = answer.Id;
                if (answered.Count == killAfter) killed.TrySetResult();
            }
        }
        var producing = Task.WhenAll(Enumerable.Range(0, 3).Select(Produce));
        await Task.WhenAny(killed.Task, producing);
        node.Kill(entireProcessTree: true);
        await node.WaitForExitAsync();
        await producing;

        var restarted = StartNode(port);
        try
        {
            await NodeProcess.WaitReadyAsync(_http, port, restarted);
            // The producers retry every key with the same request: stored ones answer with their first id.
            foreach (var key in sent.Distinct())
            {
                var retry = await SendKeyed(port, key);
                Assert.NotNull(retry);
                if (answered.TryGetValue(key, out var id)) Assert.Equal((id, true), retry.Value);
            }
            var expected = sent.Distinct().Concat(delayedSent.Keys).ToList();
            await Poll.WaitFor(() => expected.All(_idsByKey.ContainsKey), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));

            Assert.All(expected, key => Assert.True(_idsByKey.ContainsKey(key), $"key {key} never arrived"));
            // Exactly one message per key, however many times it was sent or delivered.
            Assert.All(expected, key => Assert.Single(_idsByKey[key]));
            // Never early: a delayed message arrives no sooner than its delay after it was sent.
            Assert.All(delayedSent, p => Assert.True(_firstArrival[p.Key] >= p.Value.AddSeconds(4), $"{p.Key} arrived at {_firstArrival[p.Key]:O}, sent {p.Value:O}"));
            output.WriteLine($"keys {expected.Count}, answered before the kill {answered.Count}, deliveries {_received.Values.Sum()}");
        }
        finally
        {
            if (!restarted.HasExited) restarted.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Settings of the queue <c>redrive</c>: one attempt (a failed delivery is dead-lettered at once), redrives at 100/s (10 a chunk).</summary>
    private static readonly string[] RedriveQueue = ["--Actors:Queues:redrive:Retry:MaxAttempts=1", "--Actors:Queues:redrive:RedrivePerSecond=100"];

    [Fact]
    public async Task A_redrive_job_interrupted_by_a_SIGKILL_resumes_after_the_restart_and_redrives_every_dead_letter()
    {
        const int total = 2_000;
        var port = NodeProcess.FreePort();
        var node = StartNode(port, RedriveQueue);
        Process? restarted = null;
        try
        {
            await NodeProcess.WaitReadyAsync(_http, port, node);
            // Every first delivery fails: all 2,000 are dead-lettered.
            _hookFails = true;
            var ids = new List<long>();
            for (var start = 0; start < total; start += 1000)
            {
                var batch = string.Join(",", Enumerable.Range(start, 1000).Select(i => $"{{\"type\":\"notify\",\"payload\":{{\"n\":{i}}}}}"));
                var response = await _http.PostAsync($"http://127.0.0.1:{port}/queues/redrive/messages/batch", new StringContent($"[{batch}]", Encoding.UTF8, "application/json"));
                var items = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["results"]!.AsArray();
                ids.AddRange(items.Select(item => item!["id"]!.GetValue<long>()));
            }
            Assert.Equal(total, ids.Distinct().Count());
            await Poll.Until(async () => await DeadLettered(port) == total, "every message to be dead-lettered", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200));

            // Redrive all (a job at 100/s, ~20 s) with deliveries now succeeding, and SIGKILL the node part-way.
            _hookFails = false;
            var redrive = await _http.PostAsync($"http://127.0.0.1:{port}/queues/redrive/dead-letters/redrive", new StringContent("{}", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Accepted, redrive.StatusCode);
            var jobId = JsonNode.Parse(await redrive.Content.ReadAsStringAsync())!["job"]!["id"]!.GetValue<string>();
            var progressBeforeKill = 0;
            await Poll.Until(async () => (progressBeforeKill = await JobProgress(port, jobId) ?? total) >= 400, "the redrive to be part-way", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
            node.Kill(entireProcessTree: true); // SIGKILL: no drain, no flush
            await node.WaitForExitAsync();
            var deadAfterKill = total - _succeeded.Count;
            output.WriteLine($"killed at job progress {progressBeforeKill} of {total}; {_succeeded.Count} delivered, {deadAfterKill} not yet");
            Assert.True(progressBeforeKill < total, "the job finished before the kill");

            // Nobody asks again: the restarted node resumes the job from its stored progress.
            restarted = StartNode(port, RedriveQueue);
            await NodeProcess.WaitReadyAsync(_http, port, restarted);
            var resumedAt = await JobProgress(port, jobId);
            output.WriteLine($"after the restart the job is at {resumedAt?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(finished)"}");
            if (resumedAt is { } position) Assert.True(position >= progressBeforeKill, $"the job went back from {progressBeforeKill} to {position}");
            await Poll.Until(async () => ids.All(_succeeded.ContainsKey) && await DeadLettered(port) == 0, "every dead letter to be redriven and delivered",
                TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(200));
            Assert.Null(await JobProgress(port, jobId));
            Assert.Empty(JsonNode.Parse(await _http.GetStringAsync($"http://127.0.0.1:{port}/queues/redrive/dead-letters/redrives"))!["jobs"]!.AsArray());
        }
        finally
        {
            if (!node.HasExited) node.Kill(entireProcessTree: true);
            if (restarted is { HasExited: false }) restarted.Kill(entireProcessTree: true);
        }
    }

    private async Task<long> DeadLettered(int port) =>
        JsonNode.Parse(await _http.GetStringAsync($"http://127.0.0.1:{port}/queues/redrive"))!["deadLettered"]!.GetValue<long>();

    /// <summary>How many dead letters the job has handled; null once it is no longer active.</summary>
    private async Task<int?> JobProgress(int port, string jobId)
    {
        var response = await _http.GetAsync($"http://127.0.0.1:{port}/queues/redrive/dead-letters/redrives/{jobId}");
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["redriven"]!.GetValue<int>();
    }
}

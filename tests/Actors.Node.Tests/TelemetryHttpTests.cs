using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Actors.Core.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace Actors.Node.Tests;

/// <summary>
/// The node's OpenTelemetry SDK end to end: a message posted over HTTP to a webhook that fails its first call is traced
/// from the HTTP request (server span) through the producer span to one consumer span per attempt, each the parent of
/// the webhook's HttpClient span; and <c>/metrics</c> serves the queue's counters in the Prometheus text format.
/// </summary>
[Collection(TracingGroup.Name)]
public sealed class TelemetryHttpTests : IAsyncLifetime
{
    private const string Queue = "telemetry-http";
    private readonly ConcurrentDictionary<string, int> _calls = new();
    private readonly List<Activity> _spans = new();
    private WebApplication _receiver = null!;
    private NodeFactory _node = null!;
    private Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> _traced = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _receiver = builder.Build();
        // Fails each message's first call with 503, answers the second.
        _receiver.MapPost("/hook", (HttpRequest request) =>
            _calls.AddOrUpdate(request.Headers["X-Actors-Message-Id"].ToString(), 1, (_, n) => n + 1) == 1
                ? Results.StatusCode(503)
                : Results.Json(new { handled = true }));
        await _receiver.StartAsync();
        _node = new NodeFactory(new Dictionary<string, string?>
        {
            ["Actors:Telemetry:Traces"] = "true",
            [$"Actors:Queues:{Queue}:Retry:BaseDelay"] = "00:00:00.050",
            [$"Actors:Queues:{Queue}:Retry:MaxDelay"] = "00:00:00.100",
            // Autoscaled, so the scrape has the autoscaling gauges the README lists too.
            [$"Actors:Queues:{Queue}:Autoscale:MaxWorkers"] = "8",
            ["Actors:Webhooks:traced-hook:Url"] = _receiver.Urls.Single() + "/hook",
            ["Actors:Webhooks:traced-hook:AllowedNetworks:0"] = "127.0.0.0/8",
        });
        _traced = _node.WithWebHostBuilder(web => web.ConfigureServices(services =>
            services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans))));
        _http = _traced.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _traced.DisposeAsync();
        await _node.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private async Task<long> PostAndAwaitSuccess()
    {
        var response = await _http.PostAsync($"/queues/{Queue}/messages",
            new StringContent("{\"type\":\"traced-hook\",\"payload\":{\"n\":1}}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<long>();
        await Poll.Until(async () =>
        {
            var message = await _http.GetFromJsonAsync<JsonObject>($"/queues/{Queue}/messages/{id}");
            return message!["status"]!.GetValue<string>() == "succeeded";
        }, $"message {id} to succeed", TimeSpan.FromSeconds(30));
        return id;
    }

    private List<Activity> Spans()
    {
        lock (_spans) return _spans.ToList();
    }

    [Fact]
    public async Task A_trace_runs_from_the_http_request_through_a_failed_attempt_and_its_retry_to_the_webhook_calls()
    {
        var id = await PostAndAwaitSuccess();
        var messageId = id.ToString(CultureInfo.InvariantCulture);
        List<Activity> Consumers() => Spans().Where(s => s.Kind == ActivityKind.Consumer && Equals(s.GetTagItem("messaging.message.id"), messageId)
            && Equals(s.GetTagItem("messaging.destination.name"), Queue)).ToList();
        await Poll.Until(() => Task.FromResult(Consumers().Count == 2), "two consumer spans", TimeSpan.FromSeconds(30));

        var spans = Spans();
        var producer = Assert.Single(spans, s => s.Kind == ActivityKind.Producer && Equals(s.GetTagItem("messaging.destination.name"), Queue));
        var request = Assert.Single(spans, s => s.Kind == ActivityKind.Server && s.SpanId == producer.ParentSpanId);
        Assert.Equal(producer.TraceId, request.TraceId);
        Assert.Equal("POST", request.GetTagItem("http.request.method"));

        var attempts = Consumers().OrderBy(s => (int)s.GetTagItem("actors.attempt")!).ToList();
        Assert.Equal([1, 2], attempts.Select(s => (int)s.GetTagItem("actors.attempt")!));
        Assert.Equal(ActivityStatusCode.Error, attempts[0].Status);
        foreach (var attempt in attempts)
        {
            // The attempt is the producer's child, in the request's trace, and links to it.
            Assert.Equal(producer.TraceId, attempt.TraceId);
            Assert.Equal(producer.SpanId, attempt.ParentSpanId);
            var link = Assert.Single(attempt.Links);
            Assert.Equal(producer.SpanId, link.Context.SpanId);
            // The webhook's outgoing call is the attempt's child.
            var call = Assert.Single(spans, s => s.Kind == ActivityKind.Client && s.ParentSpanId == attempt.SpanId);
            Assert.Equal(attempt.TraceId, call.TraceId);
            Assert.Equal("POST", call.GetTagItem("http.request.method"));
        }
    }

    [Fact]
    public async Task Metrics_are_scraped_in_the_prometheus_format_with_the_queue_label()
    {
        await PostAndAwaitSuccess();

        Dictionary<string, double> samples = new();
        await Poll.Until(async () =>
        {
            var response = await _http.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
            samples = ParseForQueue(await response.Content.ReadAsStringAsync());
            return samples.GetValueOrDefault("messaging_client_consumed_messages_total") == 2 && samples.ContainsKey("actors_queue_depth");
        }, "the queue's metrics in /metrics", TimeSpan.FromSeconds(30));

        Assert.Equal(1, samples["messaging_client_sent_messages_total"]);
        Assert.Equal(2, samples["messaging_client_consumed_messages_total"]);
        Assert.Equal(1, samples["actors_messages_retries_total"]);
        Assert.Equal(2, samples["messaging_process_duration_seconds_count"]);
        Assert.Equal(1, samples["messaging_client_operation_duration_seconds_count"]);
        Assert.True(samples["actors_journal_write_duration_seconds_count"] >= 1);

        // The README's metric table names what a scrape shows (counters that never moved are not exported).
        foreach (var (name, type) in ReadmeMetrics().Where(m => m.Name is not ("actors_messages_redeliveries_total" or "actors_messages_dead_lettered_total")))
            Assert.True(samples.ContainsKey(type == "histogram" ? name + "_count" : name), $"README lists {name}; the scrape has {string.Join(", ", samples.Keys)}");
    }

    /// <summary>The Prometheus names and types in the README's metric table.</summary>
    private static List<(string Name, string Type)> ReadmeMetrics()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Actors.sln"))) directory = directory.Parent;
        var readme = File.ReadAllText(Path.Combine(directory!.FullName, "README.md")).ReplaceLineEndings("\n");
        var section = readme[readme.IndexOf("\n## Metrics and traces\n", StringComparison.Ordinal)..];
        var metrics = new List<(string, string)>();
        foreach (var line in section.Split('\n').SkipWhile(l => !l.StartsWith("| Metric", StringComparison.Ordinal)).Skip(2).TakeWhile(l => l.StartsWith('|')))
        {
            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            metrics.Add((cells[2].Trim('`'), cells[3]));
        }
        Assert.NotEmpty(metrics);
        return metrics;
    }

    /// <summary>
    /// Sums the samples of the Prometheus text format that carry <c>messaging_destination_name="telemetry-http"</c>, by
    /// metric name (a histogram's <c>_count</c> and <c>_sum</c> are names of their own; buckets are skipped).
    /// </summary>
    private static Dictionary<string, double> ParseForQueue(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var brace = line.IndexOf('{', StringComparison.Ordinal);
            var close = line.LastIndexOf('}');
            if (brace < 0 || close < brace) continue;
            var name = line[..brace];
            if (name.EndsWith("_bucket", StringComparison.Ordinal)) continue;
            if (!line[brace..close].Contains($"messaging_destination_name=\"{Queue}\"", StringComparison.Ordinal)) continue;
            var value = line[(close + 1)..].Trim().Split(' ')[0];
            samples[name] = samples.GetValueOrDefault(name) + double.Parse(value, CultureInfo.InvariantCulture);
        }
        return samples;
    }
}

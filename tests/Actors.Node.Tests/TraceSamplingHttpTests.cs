using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Actors.Core.Tests;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace Actors.Node.Tests;

/// <summary>
/// <c>Actors:Telemetry:SampleRatio</c>: new traces are sampled at the ratio, and a request that arrives with a sampled
/// trace context is traced whatever the ratio (the parent's decision wins), so a caller can trace one message through a
/// node that samples nothing of its own.
/// </summary>
[Collection(TracingGroup.Name)]
public sealed class TraceSamplingHttpTests : IAsyncLifetime
{
    private const string Queue = "default";
    private readonly List<Activity> _spans = new();
    private NodeFactory _node = null!;
    private Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> _traced = null!;
    private HttpClient _http = null!;

    public Task InitializeAsync()
    {
        _node = new NodeFactory(new Dictionary<string, string?>
        {
            ["Actors:Telemetry:Traces"] = "true",
            ["Actors:Telemetry:SampleRatio"] = "0",
        });
        _traced = _node.WithWebHostBuilder(web => web.ConfigureServices(services =>
            services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans))));
        _http = _traced.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _traced.DisposeAsync();
        await _node.DisposeAsync();
    }

    private async Task<long> PostAndAwaitSuccess(string? traceParent)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/queues/{Queue}/messages")
        {
            Content = new StringContent("{\"type\":\"echo\",\"payload\":{\"n\":1}}", Encoding.UTF8, "application/json"),
        };
        if (traceParent is not null) request.Headers.Add("traceparent", traceParent);
        var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<long>();
        await Poll.Until(async () =>
        {
            var message = await _http.GetFromJsonAsync<JsonObject>($"/queues/{Queue}/messages/{id}");
            return message!["status"]!.GetValue<string>() == "succeeded";
        }, $"message {id} to succeed", TimeSpan.FromSeconds(30));
        return id;
    }

    private List<Activity> ActorsSpans()
    {
        lock (_spans) return _spans.Where(s => s.Source.Name == "Actors").ToList();
    }

    [Fact]
    public async Task A_ratio_of_zero_records_no_span_of_its_own_but_follows_a_sampled_caller()
    {
        // Every consumer activity the source creates, recorded or not (this listener takes no part in sampling).
        var created = new System.Collections.Concurrent.ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Actors",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.None,
            ActivityStarted = activity =>
            {
                if (activity.Kind == ActivityKind.Consumer) created.Add(activity);
            },
        };
        ActivitySource.AddActivityListener(listener);

        var unsampled = await PostAndAwaitSuccess(traceParent: null);
        // The decision not to sample travels with the message (the sampled flag clear), and the consumer side follows it without
        // creating a span at all, instead of starting a trace of its own.
        var status = await _http.GetFromJsonAsync<JsonObject>($"/queues/{Queue}/messages/{unsampled}");
        var stored = status!["headers"]?["traceparent"]?.GetValue<string>() ?? throw new Xunit.Sdk.XunitException("no traceparent in " + status.ToJsonString());
        var flags = byte.Parse(stored.AsSpan(53, 2), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(0, flags & (byte)ActivityTraceFlags.Recorded);
        var unsampledTrace = ActivityTraceId.CreateFromString(stored.AsSpan(3, 32));

        var caller = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();
        var id = await PostAndAwaitSuccess($"00-{caller}-{callerSpan}-01");
        var messageId = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Poll.Until(() => Task.FromResult(ActorsSpans().Any(s => s.Kind == ActivityKind.Consumer && Equals(s.GetTagItem("messaging.message.id"), messageId))),
            "the traced message's consumer span", TimeSpan.FromSeconds(30));

        // Only the message posted with a sampled context was traced: its producer span is in the caller's trace, and
        // its consumer span links to it. The first message, posted without one, left no span at all.
        var spans = ActorsSpans();
        var producer = Assert.Single(spans, s => s.Kind == ActivityKind.Producer);
        Assert.Equal(caller, producer.TraceId);
        var consumer = Assert.Single(spans, s => s.Kind == ActivityKind.Consumer);
        Assert.Equal(producer.SpanId, Assert.Single(consumer.Links).Context.SpanId);
        Assert.DoesNotContain(created, activity => activity.TraceId == unsampledTrace);
    }

    [Fact]
    public void A_ratio_outside_zero_to_one_stops_the_node_with_the_setting_named()
    {
        using var node = new NodeFactory(new Dictionary<string, string?>
        {
            ["Actors:Telemetry:Traces"] = "true",
            ["Actors:Telemetry:SampleRatio"] = "1.5",
        });
        var error = Assert.ThrowsAny<Exception>(() => node.CreateClient());
        Assert.Contains("Actors:Telemetry:SampleRatio", error.ToString(), StringComparison.Ordinal);
    }
}

/// <summary>
/// Test classes that record spans: an OpenTelemetry tracer provider samples the Actors source process-wide, so
/// two of them running at once would see each other's spans.
/// </summary>
[CollectionDefinition(Name)]
public sealed class TracingGroup
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Tracing";
}

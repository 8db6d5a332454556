using System.Collections.Concurrent;
using System.Diagnostics;
using Actors.Hosting;
using Actors.Monitoring;
using Actors.Protocol;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Xunit.Abstractions;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueQueries;

namespace Actors.Core.Tests;

/// <summary>
/// The Actors meter and activity source through real queues, collected by the OpenTelemetry SDK's in-memory exporter:
/// one message's producer span and one consumer span per attempt (a failed one, then the retry) all in the producer's
/// trace; the counters and histograms after a known workload. The SDK's listeners are process-wide, so each test
/// looks only at its own queue (a unique name).
/// </summary>
public sealed class TelemetrySpec : QueueSpec
{
    private static readonly ActivitySource TestSource = new("Actors.Tests.Telemetry");
    private readonly ConcurrentDictionary<long, int> _attempts = new();
    private readonly ConcurrentBag<(long MessageId, int Attempt, Activity? Current, string? TraceParent)> _seenByHandler = new();

    public TelemetrySpec(ITestOutputHelper output) : base(output) { }

    private void StartQueue(string queue) => Start(o =>
    {
        o.AddQueue(queue, q =>
        {
            q.Retry.MaxAttempts = 3;
            q.Retry.BaseDelay = TimeSpan.FromMilliseconds(10);
            q.Retry.MaxDelay = TimeSpan.FromMilliseconds(20);
        });
        // Fails the first attempt of a message whose payload is "flaky", then succeeds.
        o.Handlers.Add<ReadOnlyMemory<byte>>("work", (payload, ctx, _) =>
        {
            _seenByHandler.Add((ctx.MessageId, ctx.Attempt, Activity.Current, ctx.Headers.GetValueOrDefault(MessageHeaders.TraceParent)));
            var attempt = _attempts.AddOrUpdate(ctx.MessageId, 1, (_, n) => n + 1);
            if (attempt == 1 && System.Text.Encoding.UTF8.GetString(payload.Span) == "flaky") throw new InvalidOperationException("first attempt fails");
            return ValueTask.FromResult<object?>(null);
        });
    });

    private static string UniqueQueue(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private async Task Succeeded(string queue, long id)
    {
        var info = await Client.WaitAsync(queue, id, TimeSpan.FromSeconds(30));
        Assert.Equal(MessageStatus.Succeeded, info?.Status);
    }

    [Fact]
    public async Task A_message_is_traced_from_its_producer_span_through_a_failed_attempt_and_its_retry()
    {
        var queue = UniqueQueue("traced");
        var spans = new List<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(TestSource.Name)
            .AddActorsInstrumentation()
            .AddInMemoryExporter(spans)
            .Build();
        StartQueue(queue);

        long id;
        ActivityContext request;
        using (var incoming = TestSource.StartActivity("incoming request", ActivityKind.Server))
        {
            Assert.NotNull(incoming);
            request = incoming.Context;
            id = await Client.EnqueueAsync(queue, "work", Bytes("flaky"));
        }
        await Succeeded(queue, id);

        // The producer's context is stored with the message: the handler sees it on every attempt.
        var traceParents = _seenByHandler.Where(s => s.MessageId == id).Select(s => s.TraceParent).Distinct().ToList();
        var traceParent = Assert.Single(traceParents);

        List<Activity> Mine()
        {
            lock (spans) return spans.Where(s => Equals(s.GetTagItem("messaging.destination.name"), queue)).ToList();
        }
        await Poll.Until(() => Task.FromResult(Mine().Count(s => s.Kind == ActivityKind.Consumer) == 2), "two consumer spans exported", TimeSpan.FromSeconds(30));
        var mine = Mine();

        var producer = Assert.Single(mine, s => s.Kind == ActivityKind.Producer);
        Assert.Equal("send " + queue, producer.DisplayName);
        Assert.Equal(request.TraceId, producer.TraceId);
        Assert.Equal(request.SpanId, producer.ParentSpanId);
        Assert.Equal(producer.Id, traceParent);
        Assert.Equal("actors", producer.GetTagItem("messaging.system"));

        var attempts = mine.Where(s => s.Kind == ActivityKind.Consumer).OrderBy(s => (int)s.GetTagItem("actors.attempt")!).ToList();
        Assert.Equal([1, 2], attempts.Select(s => (int)s.GetTagItem("actors.attempt")!));
        foreach (var attempt in attempts)
        {
            Assert.Equal("process " + queue, attempt.DisplayName);
            Assert.Equal(id.ToString(System.Globalization.CultureInfo.InvariantCulture), attempt.GetTagItem("messaging.message.id"));
            // The producer span's child, in its trace, and linked to it.
            Assert.Equal(producer.TraceId, attempt.TraceId);
            Assert.Equal(producer.SpanId, attempt.ParentSpanId);
            var link = Assert.Single(attempt.Links);
            Assert.Equal(producer.SpanId, link.Context.SpanId);
        }
        Assert.Equal(ActivityStatusCode.Error, attempts[0].Status);
        Assert.Equal(typeof(InvalidOperationException).FullName, attempts[0].GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Unset, attempts[1].Status);

        // The consumer span is current while the handler runs (on the handler threads), so its calls become children.
        foreach (var (_, attempt, current, _) in _seenByHandler.Where(s => s.MessageId == id))
        {
            Assert.NotNull(current);
            Assert.Equal(attempts[attempt - 1].SpanId, current.SpanId);
        }
    }

    [Fact]
    public async Task A_batch_handler_call_is_one_consumer_span_linked_to_the_enqueue_of_its_messages()
    {
        var queue = UniqueQueue("batched");
        var spans = new List<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddActorsInstrumentation().AddInMemoryExporter(spans).Build();
        var handled = new ConcurrentBag<long>();
        Start(o =>
        {
            o.AddQueue(queue, q => { q.Workers = 1; q.Prefetch = 1; });
            o.Handlers.AddBatch<Item>("item", (batch, _) =>
            {
                foreach (var item in batch)
                {
                    handled.Add(item.Context.MessageId);
                    item.Succeed(null);
                }
                return ValueTask.CompletedTask;
            }, new Handlers.BatchOptions { BatchSize = 3, BatchWait = TimeSpan.FromSeconds(2) });
        });

        var outcomes = await Client.EnqueueBatchAsync(queue, Enumerable.Range(0, 3)
            .Select(i => new NewMessage("item", System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Item(i)))).ToList());
        foreach (var outcome in outcomes) await Succeeded(queue, outcome.MessageId!.Value);

        List<Activity> Mine()
        {
            lock (spans) return spans.Where(s => Equals(s.GetTagItem("messaging.destination.name"), queue)).ToList();
        }
        await Poll.Until(() => Task.FromResult(Mine().Where(s => s.Kind == ActivityKind.Consumer).Sum(s => (int)s.GetTagItem("messaging.batch.message_count")!) == 3),
            "consumer spans covering the three messages", TimeSpan.FromSeconds(30));
        var producer = Assert.Single(Mine(), s => s.Kind == ActivityKind.Producer);
        Assert.Equal(3, producer.GetTagItem("messaging.batch.message_count"));
        foreach (var consumer in Mine().Where(s => s.Kind == ActivityKind.Consumer))
        {
            Assert.Equal((int)consumer.GetTagItem("messaging.batch.message_count")!, consumer.Links.Count());
            Assert.All(consumer.Links, link => Assert.Equal(producer.SpanId, link.Context.SpanId));
        }
    }

    private sealed record Item(int N);

    [Fact]
    public async Task A_known_workload_shows_in_the_counters_and_histograms()
    {
        var queue = UniqueQueue("metered");
        var metrics = new List<MetricSnapshot>();
        using var meters = Sdk.CreateMeterProviderBuilder()
            .AddActorsInstrumentation()
            .AddInMemoryExporter(metrics)
            .Build();
        StartQueue(queue);

        var ids = new List<long>();
        for (var i = 0; i < 10; i++) ids.Add(await Client.EnqueueAsync(queue, "work", Bytes(i == 3 ? "flaky" : "fine")));
        foreach (var id in ids) await Succeeded(queue, id);

        double Sum(string name, Func<MetricPoint, bool>? where = null)
        {
            lock (metrics)
            {
                metrics.Clear();
                meters.ForceFlush();
                var total = 0d;
                foreach (var metric in metrics.Where(m => m.Name == name))
                {
                    foreach (var point in metric.MetricPoints)
                    {
                        if (!HasTag(point, "messaging.destination.name", queue) || (where is not null && !where(point))) continue;
                        total += metric.MetricType switch
                        {
                            MetricType.LongSum => point.GetSumLong(),
                            MetricType.LongGauge => point.GetGaugeLastValueLong(),
                            MetricType.DoubleGauge => point.GetGaugeLastValueDouble(),
                            MetricType.Histogram => point.GetHistogramCount(),
                            _ => throw new InvalidOperationException($"{name}: {metric.MetricType}"),
                        };
                    }
                }
                return total;
            }
        }

        Assert.Equal(10, Sum("messaging.client.sent.messages"));
        Assert.Equal(11, Sum("messaging.client.consumed.messages"));
        Assert.Equal(1, Sum("actors.messages.retries"));
        Assert.Equal(0, Sum("actors.messages.dead_lettered"));
        Assert.Equal(11, Sum("messaging.process.duration"));
        Assert.Equal(1, Sum("messaging.process.duration", p => HasTag(p, "error.type", typeof(InvalidOperationException).FullName!)));
        Assert.Equal(10, Sum("messaging.client.operation.duration"));
        Assert.True(Sum("actors.journal.write.duration") > 0, "journal writes are timed");
        // The gauges come from the queue's own snapshot, published once a second while somebody observes them.
        await Poll.Until(() => Task.FromResult(SeesGauge(metrics, meters, queue)), "the queue's gauges", TimeSpan.FromSeconds(30));
        Assert.Equal(0, Sum("actors.queue.dead_lettered"));
        Assert.Equal(0, Sum("actors.queue.in_flight"));
    }

    [Fact]
    public async Task An_autoscaled_queue_publishes_its_target_and_active_workers_and_a_fixed_pool_does_not()
    {
        var elastic = UniqueQueue("elastic");
        var fixedPool = UniqueQueue("fixed");
        var metrics = new List<MetricSnapshot>();
        using var meters = Sdk.CreateMeterProviderBuilder()
            .AddActorsInstrumentation()
            .AddInMemoryExporter(metrics)
            .Build();
        Start(o =>
        {
            o.AddQueue(elastic, q =>
            {
                q.Workers = 3;
                q.Autoscale = new Configuration.AutoscaleOptions { MaxWorkers = 4, ScaleDownAfter = TimeSpan.FromMinutes(10) };
            });
            o.AddQueue(fixedPool, q => q.Workers = 2);
        });

        long? Gauge(string name, string queue)
        {
            lock (metrics)
            {
                metrics.Clear();
                meters.ForceFlush();
                return metrics.Where(m => m.Name == name).SelectMany(m => m.MetricPoints.ToList())
                    .Where(p => HasTag(p, "messaging.destination.name", queue)).Select(p => (long?)p.GetGaugeLastValueLong()).FirstOrDefault();
            }
        }
        await Poll.Until(() => Task.FromResult(Gauge("actors.queue.active_workers", elastic) == 3 && Gauge("actors.queue.workers", fixedPool) == 2),
            "both queues' gauges", TimeSpan.FromSeconds(30));
        Assert.Equal(3, Gauge("actors.queue.target_workers", elastic));
        Assert.Equal(3, Gauge("actors.queue.workers", elastic));
        Assert.Null(Gauge("actors.queue.target_workers", fixedPool));
        Assert.Null(Gauge("actors.queue.active_workers", fixedPool));
    }

    /// <summary>A snapshot taken after the workload: workers alive, nothing ready.</summary>
    private static bool SeesGauge(List<MetricSnapshot> metrics, MeterProvider meters, string queue)
    {
        lock (metrics)
        {
            metrics.Clear();
            meters.ForceFlush();
            bool Has(string name, Func<long, bool> value) => metrics.Any(m => m.Name == name
                && m.MetricPoints.Any(p => HasTag(p, "messaging.destination.name", queue) && value(p.GetGaugeLastValueLong())));
            return Has("actors.queue.workers", n => n > 0) && Has("actors.queue.depth", n => n == 0) && Has("actors.queue.in_flight", n => n == 0);
        }
    }

    private static bool HasTag(MetricPoint point, string key, string value)
    {
        foreach (var tag in point.Tags)
            if (tag.Key == key && Equals(tag.Value, value)) return true;
        return false;
    }
}

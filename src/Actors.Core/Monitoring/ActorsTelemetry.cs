using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Actors.Monitoring;

/// <summary>
/// The queue system's metrics and traces: one <see cref="Meter"/> and one <see cref="ActivitySource"/>, both named
/// <see cref="Name"/>, with no exporter behind them. An application (or the node) turns them on by adding the name
/// to its OpenTelemetry meter and tracer providers; until a listener subscribes, every instrument is a no-op.
/// Names follow the OpenTelemetry messaging semantic conventions where they exist (<c>messaging.*</c>), and
/// <c>actors.*</c> for what they do not cover. Every measurement carries <c>messaging.system</c> = <c>actors</c> and
/// <c>messaging.destination.name</c> = the queue (and <c>messaging.destination.partition.id</c> for a partition
/// after the first).
/// </summary>
public static partial class ActorsTelemetry
{
    /// <summary>The name of the meter and of the activity source: <c>Actors</c>.</summary>
    public const string Name = "Actors";

    /// <summary>The <c>messaging.system</c> attribute's value: <c>actors</c>.</summary>
    public const string MessagingSystem = "actors";

    /// <summary>
    /// Bucket boundaries, in seconds, of the duration histograms: 0.5 ms to 60 s (OpenTelemetry's defaults are
    /// millisecond-scale numbers, which would put every duration in seconds into the first buckets).
    /// </summary>
    public static readonly IReadOnlyList<double> DurationBuckets =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    /// <summary>Bucket boundaries of the messages-per-journal-write histogram.</summary>
    public static readonly IReadOnlyList<double> WriteSizeBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

    internal static readonly Meter Meter = new(Name, typeof(ActorsTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly ActivitySource Source = new(Name, typeof(ActorsTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> SentMessages = Meter.CreateCounter<long>(
        "messaging.client.sent.messages", "{message}", "Messages the queues accepted (stored in the journal).");

    internal static readonly Counter<long> ConsumedMessages = Meter.CreateCounter<long>(
        "messaging.client.consumed.messages", "{message}", "Deliveries a handler processed (each attempt counts).");

    internal static readonly Histogram<double> ProcessDuration = Meter.CreateHistogram(
        "messaging.process.duration", "s", "Handler service time of one attempt; failed attempts carry error.type.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    internal static readonly Histogram<double> OperationDuration = Meter.CreateHistogram(
        "messaging.client.operation.duration", "s", "Enqueue round trip in the client: from the request to the queue's answer.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    internal static readonly Counter<long> Retries = Meter.CreateCounter<long>(
        "actors.messages.retries", "{message}", "Failed attempts that scheduled a retry.");

    internal static readonly Counter<long> Redeliveries = Meter.CreateCounter<long>(
        "actors.messages.redeliveries", "{message}", "Deliveries taken back from a worker (lease ran out, worker stopped or its node left).");

    internal static readonly Counter<long> DeadLetters = Meter.CreateCounter<long>(
        "actors.messages.dead_lettered", "{message}", "Messages dead-lettered.");

    internal static readonly Histogram<double> JournalWriteDuration = Meter.CreateHistogram(
        "actors.journal.write.duration", "s", "One group-commit journal write, from its start to its last event's commit.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    internal static readonly Histogram<long> JournalWriteMessages = Meter.CreateHistogram(
        "actors.journal.write.messages", "{message}", "Messages enqueued by one group-commit journal write.",
        advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = WriteSizeBuckets.Select(b => (long)b).ToArray() });

    private static readonly ConcurrentDictionary<string, KeyValuePair<string, object?>[]> TagsByQueue = new(StringComparer.Ordinal);

    /// <summary>The attributes of a queue partition (by its entity id), built once per queue and shared.</summary>
    internal static KeyValuePair<string, object?>[] QueueTags(string queueId) =>
        TagsByQueue.TryGetValue(queueId, out var tags) ? tags : TagsByQueue.GetOrAdd(queueId, BuildTags);

    /// <summary>The attributes of a queue partition with one more (such as <c>error.type</c>).</summary>
    internal static KeyValuePair<string, object?>[] QueueTags(string queueId, string key, object? value)
    {
        var tags = QueueTags(queueId);
        var extended = new KeyValuePair<string, object?>[tags.Length + 1];
        tags.CopyTo(extended, 0);
        extended[^1] = new(key, value);
        return extended;
    }

    private static KeyValuePair<string, object?>[] BuildTags(string queueId)
    {
        var (queue, partition) = Partitions.Parse(queueId);
        return partition == 0
            ? [new("messaging.system", MessagingSystem), new("messaging.destination.name", queue)]
            : [new("messaging.system", MessagingSystem), new("messaging.destination.name", queue),
               new("messaging.destination.partition.id", partition.ToString(System.Globalization.CultureInfo.InvariantCulture))];
    }
}

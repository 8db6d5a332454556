using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Actors.Monitoring;

/// <summary>
/// The queues' observable gauges. A gauge callback never asks a queue actor: each queue partition publishes a small
/// <see cref="QueueGaugeSnapshot"/> here from its own tick (only while a listener has enabled a gauge), and the
/// callbacks read the latest one of every live partition. A stopped partition withdraws its snapshot.
/// </summary>
internal static class QueueGauges
{
    private static readonly ConcurrentDictionary<object, QueueGaugeSnapshot> Latest = new();

    private static readonly ObservableGauge<long>[] LongGauges =
    [
        Gauge("actors.queue.depth", "{message}", "Messages ready to start.", s => s.Depth),
        Gauge("actors.queue.in_flight", "{message}", "Messages delivered to a worker and not finished.", s => s.InFlight),
        Gauge("actors.queue.scheduled", "{message}", "Messages waiting for their due time (delayed or retry backoff).", s => s.Scheduled),
        Gauge("actors.queue.dead_lettered", "{message}", "Messages in the dead-letter store.", s => s.DeadLettered),
        Gauge("actors.queue.workers", "{worker}", "Live workers of the queue's pool.", s => s.Workers),
        Gauge("actors.queue.suggested_workers", "{worker}", "Workers Little's Law suggests for 80% utilisation (ceil(λ·S/0.8)).", s => s.SuggestedWorkers),
    ];

    /// <summary>Gauges of autoscaled queues only: a queue without autoscaling reports none.</summary>
    private static readonly ObservableGauge<long>[] AutoscaleGauges =
    [
        ActorsTelemetry.Meter.CreateObservableGauge("actors.queue.target_workers", () => ObservePresent(static s => s.TargetWorkers), "{worker}",
            "Active workers the autoscaler's last decision asked for (ceil((λ + B/T)·S/ρ), within the limits and steps)."),
        ActorsTelemetry.Meter.CreateObservableGauge("actors.queue.active_workers", () => ObservePresent(static s => s.ActiveWorkers), "{worker}",
            "Workers of an autoscaled pool that get new deliveries."),
    ];

    private static readonly ObservableGauge<double>[] DoubleGauges =
    [
        Gauge("actors.queue.oldest_message.age", "s", "Age of the oldest ready message.", s => s.OldestAgeSeconds),
        Gauge("actors.queue.wait_time", "s", "Mean wait from enqueue to first delivery over the recent window (W).", s => s.WaitSeconds),
        Gauge("actors.queue.arrival_rate", "{message}/s", "Arrival rate λ over the recent window.", s => s.ArrivalRate),
    ];

    /// <summary>Whether any listener observes a queue gauge; a queue publishes nothing otherwise.</summary>
    public static bool Enabled
    {
        get
        {
            foreach (var gauge in LongGauges) if (gauge.Enabled) return true;
            foreach (var gauge in DoubleGauges) if (gauge.Enabled) return true;
            foreach (var gauge in AutoscaleGauges) if (gauge.Enabled) return true;
            return false;
        }
    }

    /// <summary>Sets the latest snapshot of the partition <paramref name="owner"/> (its actor).</summary>
    public static void Publish(object owner, QueueGaugeSnapshot snapshot) => Latest[owner] = snapshot;

    /// <summary>Forgets a stopped partition's snapshot.</summary>
    public static void Withdraw(object owner) => Latest.TryRemove(owner, out _);

    private static ObservableGauge<long> Gauge(string name, string unit, string description, Func<QueueGaugeSnapshot, long> read) =>
        ActorsTelemetry.Meter.CreateObservableGauge(name, () => Observe(read), unit, description);

    private static ObservableGauge<double> Gauge(string name, string unit, string description, Func<QueueGaugeSnapshot, double> read) =>
        ActorsTelemetry.Meter.CreateObservableGauge(name, () => Observe(read), unit, description);

    private static IEnumerable<Measurement<T>> Observe<T>(Func<QueueGaugeSnapshot, T> read) where T : struct
    {
        foreach (var snapshot in Latest.Values)
            yield return new Measurement<T>(read(snapshot), ActorsTelemetry.QueueTags(snapshot.QueueId));
    }

    private static IEnumerable<Measurement<long>> ObservePresent(Func<QueueGaugeSnapshot, long?> read)
    {
        foreach (var snapshot in Latest.Values)
            if (read(snapshot) is { } value) yield return new Measurement<long>(value, ActorsTelemetry.QueueTags(snapshot.QueueId));
    }
}

/// <summary>One queue partition's numbers as its last tick saw them.</summary>
internal sealed record QueueGaugeSnapshot(
    string QueueId,
    long Depth,
    long InFlight,
    long Scheduled,
    long DeadLettered,
    long Workers,
    long SuggestedWorkers,
    double OldestAgeSeconds,
    double WaitSeconds,
    double ArrivalRate,
    long? TargetWorkers = null,
    long? ActiveWorkers = null)
{
    /// <summary>The gauges' share of a partition's statistics.</summary>
    public static QueueGaugeSnapshot From(Protocol.QueueQueries.QueueStats stats) => new(
        stats.QueueId, stats.Depth, stats.InFlight, stats.Scheduled, stats.DeadLettered, stats.Workers, stats.SuggestedWorkers,
        stats.OldestMessageAge.TotalSeconds, stats.MeanWait.TotalSeconds, stats.ArrivalRate, stats.Autoscale?.Target, stats.Autoscale?.Active);
}

using Actors.Monitoring;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Actors.Hosting;

/// <summary>
/// Adds the queue system's meter and activity source (both named <see cref="ActorsTelemetry.Name"/>) to an
/// application's own OpenTelemetry SDK: <c>services.AddOpenTelemetry().WithMetrics(m =&gt; m.AddActorsInstrumentation())
/// .WithTracing(t =&gt; t.AddActorsInstrumentation())</c>. The exporters stay the application's choice.
/// </summary>
public static class ActorsInstrumentationExtensions
{
    /// <summary>Collects the queues' metrics: messaging counters and histograms, queue gauges, journal writes.</summary>
    public static MeterProviderBuilder AddActorsInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeter(ActorsTelemetry.Name);
    }

    /// <summary>Records the queues' spans: a producer span per enqueue and a consumer span per attempt, linked to it.</summary>
    public static TracerProviderBuilder AddActorsInstrumentation(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddSource(ActorsTelemetry.Name);
    }
}

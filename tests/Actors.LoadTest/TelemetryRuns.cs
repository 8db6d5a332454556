using System.Diagnostics;
using Actors.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

/// <summary>
/// --telemetry 1: the cost of instrumentation. An OpenTelemetry SDK collects the Actors meter (read every second) and
/// the Actors source (every span sampled, or the --sample-percent share of traces, batched) into exporters that drop
/// what they get, so the run pays for measuring and recording and nothing for shipping it.
/// </summary>
internal static class TelemetryRuns
{
    public static IDisposable Start(bool metrics, bool traces, double sampleRatio)
    {
        var meters = !metrics ? null : Sdk.CreateMeterProviderBuilder()
            .AddActorsInstrumentation()
            .AddReader(new PeriodicExportingMetricReader(new DroppingExporter<Metric>(), exportIntervalMilliseconds: 1000))
            .Build();
        var tracer = !traces ? null : Sdk.CreateTracerProviderBuilder()
            .AddActorsInstrumentation()
            .SetSampler(sampleRatio >= 1 ? new AlwaysOnSampler() : new ParentBasedSampler(new TraceIdRatioBasedSampler(sampleRatio)))
            .AddProcessor(new BatchActivityExportProcessor(new DroppingExporter<Activity>()))
            .Build();
        return new Both(meters, tracer);
    }

    private sealed class DroppingExporter<T> : BaseExporter<T> where T : class
    {
        public override ExportResult Export(in Batch<T> batch)
        {
            foreach (var _ in batch) { }
            return ExportResult.Success;
        }
    }

    private sealed class Both(IDisposable? first, IDisposable? second) : IDisposable
    {
        public void Dispose()
        {
            first?.Dispose();
            second?.Dispose();
        }
    }
}

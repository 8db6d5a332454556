using Actors.Hosting;
using Actors.Http.Security;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Actors.Node;

/// <summary>
/// The node's OpenTelemetry SDK: the queues' meter and activity source with ASP.NET Core, HttpClient and .NET runtime
/// instrumentation; metrics always, scraped at <c>/metrics</c> (Prometheus text format); metrics and traces pushed
/// over OTLP when <c>Actors:Telemetry:Otlp:Endpoint</c> or the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// Traces are recorded when they have somewhere to go: an OTLP endpoint, or <c>Actors:Telemetry:Traces</c> = true;
/// <c>Actors:Telemetry:SampleRatio</c> (0–1) samples new traces at that ratio and follows the sampling decision of
/// an incoming trace context (the standard <c>OTEL_TRACES_SAMPLER</c> variables apply when it is not set).
/// </summary>
internal static class NodeTelemetry
{
    /// <summary>The configuration section: <c>Actors:Telemetry</c>.</summary>
    public const string Section = "Actors:Telemetry";

    /// <summary>The Prometheus scrape path.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>Registers the SDK, its instrumentation and exporters.</summary>
    public static IServiceCollection AddNodeTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var endpoint = section["Otlp:Endpoint"] is { Length: > 0 } configured ? configured : null;
        var otlp = endpoint is not null || configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] is { Length: > 0 };
        var httpProtobuf = string.Equals(section["Otlp:Protocol"], "http/protobuf", StringComparison.OrdinalIgnoreCase);
        var traces = section.GetValue<bool?>("Traces") ?? otlp;
        var ratio = section.GetValue<double?>("SampleRatio");
        if (ratio is < 0 or > 1 || ratio is double.NaN)
            throw new InvalidOperationException($"{Section}:SampleRatio must be between 0 and 1, was {ratio}.");

        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(section["ServiceName"] ?? "actors-node"))
            .WithMetrics(metrics =>
            {
                metrics.AddActorsInstrumentation()
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddPrometheusExporter();
                if (otlp) metrics.AddOtlpExporter(o => Configure(o, endpoint, httpProtobuf, "/v1/metrics"));
            });
        if (traces)
        {
            telemetry.WithTracing(tracing =>
            {
                tracing.AddActorsInstrumentation()
                    .AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments(MetricsPath))
                    .AddHttpClientInstrumentation();
                if (ratio is { } sampled) tracing.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(sampled)));
                if (otlp) tracing.AddOtlpExporter(o => Configure(o, endpoint, httpProtobuf, "/v1/traces"));
            });
        }
        return services;
    }

    /// <summary>Serves <c>/metrics</c> to callers with <c>read:*</c> (anonymous on loopback, like the rest of the API).</summary>
    public static void MapNodeMetrics(this WebApplication app) =>
        app.MapPrometheusScrapingEndpoint(MetricsPath).RequirePermission(ActorsPolicies.ReadAll);

    private static void Configure(OtlpExporterOptions options, string? endpoint, bool httpProtobuf, string signalPath)
    {
        if (endpoint is null) return; // The standard OTEL_EXPORTER_OTLP_* variables apply.
        options.Protocol = httpProtobuf ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
        options.Endpoint = new Uri(httpProtobuf ? endpoint.TrimEnd('/') + signalPath : endpoint);
    }
}

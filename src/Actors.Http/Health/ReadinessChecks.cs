using System.Text.Json;
using Actors.Client;
using Actors.Configuration;
using Actors.Journal;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Actors.Http.Health;

/// <summary>
/// The node's readiness as ASP.NET Core health checks, each about this node only: its journal takes writes (when it
/// hosts queues) and the queue partitions it hosts have recovered and answer (in a cluster, with the node <c>Up</c>).
/// A queue failing over on another node does not take this node's HTTP out of service.
/// </summary>
public static class ReadinessChecks
{
    /// <summary>The tag of the checks <c>/health/ready</c> runs.</summary>
    public const string ReadyTag = "ready";

    private static readonly TimeSpan JournalWait = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Registers the readiness checks for a node running <paramref name="options"/>: <c>journal</c> (a node that
    /// hosts queues: standalone, or with the <c>queue</c> role) and <c>queues</c>. Map them with
    /// <see cref="QueueEndpoints.MapHealthEndpoints"/>.
    /// </summary>
    public static IHealthChecksBuilder AddActorsHealthChecks(this IServiceCollection services, DurableQueuesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var checks = services.AddHealthChecks();
        if (!options.Cluster.Enabled || options.Cluster.HasRole(ClusterRoles.Queue))
            checks.AddAsyncCheck("journal", async cancellationToken =>
            {
                try
                {
                    await JournalProbe.CheckAsync(options, JournalWait, cancellationToken).ConfigureAwait(false);
                    return HealthCheckResult.Healthy("the journal takes writes");
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    return HealthCheckResult.Unhealthy($"the journal did not take a write within {JournalWait.TotalSeconds:0} s: {e.Message}");
                }
            }, [ReadyTag]);
        checks.Add(new HealthCheckRegistration("queues", sp => new HostedQueuesCheck(sp.GetRequiredService<IQueueClient>()), HealthStatus.Unhealthy, [ReadyTag]));
        return checks;
    }

    /// <summary>Writes a readiness report: <c>{"status":"ready","queues":n,...}</c>, or a 503 <c>not-ready</c> problem naming what failed.</summary>
    internal static Task WriteAsync(HttpContext context, HealthReport report)
    {
        var checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status == HealthStatus.Healthy ? "ready" : "not-ready", detail = e.Value.Description });
        if (report.Status == HealthStatus.Healthy)
        {
            var hosted = report.Entries.TryGetValue("queues", out var queues) && queues.Data.TryGetValue("hosted", out var n) ? n : 0;
            return Results.Json(new { status = "ready", queues = hosted, checks }).ExecuteAsync(context);
        }
        var failed = string.Join("; ", report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy).Select(e => $"{e.Key}: {e.Value.Description}"));
        return Problems.Create(StatusCodes.Status503ServiceUnavailable, "not-ready", "Not ready", $"This node is not ready: {failed}.").ExecuteAsync(context);
    }

    /// <summary>The queue partitions this node hosts have recovered and answer.</summary>
    private sealed class HostedQueuesCheck(IQueueClient client) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var status = await client.CheckLocalQueuesAsync(cancellationToken).ConfigureAwait(false);
                var data = new Dictionary<string, object> { ["hosted"] = status.Hosted.Length };
                if (status.IsReady) return HealthCheckResult.Healthy($"{status.Hosted.Length} queue partition(s) hosted here answer", data);
                var why = status.MemberStatus is not (null or "Up")
                    ? $"this node is {status.MemberStatus} in the cluster, not Up"
                    : "not answering: " + string.Join(", ", status.NotReady);
                return HealthCheckResult.Unhealthy(why, data: data);
            }
            catch (Exception e) when (e is QueueException or OperationCanceledException)
            {
                return HealthCheckResult.Unhealthy($"the queues did not answer: {e.Message}");
            }
        }
    }
}

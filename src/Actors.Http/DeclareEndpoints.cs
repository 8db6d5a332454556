using System.Text.Json;
using Actors.Client;
using Actors.Configuration;
using Actors.Http.Security;
using Actors.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Http;

/// <summary>The route that declares a queue at run time (see <see cref="IQueueClient.DeclareQueueAsync"/>).</summary>
public static class DeclareEndpoints
{
    /// <summary>
    /// Maps <c>PUT /queues/{queue}</c> (permission <c>manage</c> on the queue): 201 when it created the queue, 200 when the
    /// queue existed (configured or declared before; the body's options are then not compared with its own). The
    /// options of the body apply over the node's <see cref="DurableQueuesOptions.DeclaredQueueDefaults"/> (from the
    /// <see cref="DurableQueuesOptions"/> registered as a service; the built-in defaults otherwise).
    /// </summary>
    public static IEndpointRouteBuilder MapDeclareEndpoints(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPut("/queues/{queue}", DeclareAsync).WithTags("Queues").WithName("DeclareQueue")
            .WithSummary("Declare a queue at run time, durably and cluster-wide: 201 created, 200 when it already exists (its options unchanged)")
            .Accepts<DeclareRequest>("application/json").RequirePermission(ActorsPolicies.Manage);
        return app;
    }

    /// <summary>The optional body of a declaration: options over the node's defaults for declared queues.</summary>
    /// <param name="Workers">In-process workers, 0–1,024 (default 0: only external consumers).</param>
    /// <param name="Prefetch">Deliveries per worker at once, 1–1,000.</param>
    /// <param name="MaxLength">Most messages held, 1–100,000,000.</param>
    /// <param name="MaxPayloadBytes">Largest payload, 0–64 MiB.</param>
    /// <param name="MaxAttempts">Attempts before a message is dead-lettered.</param>
    /// <param name="Partitions">Partitions, 1–256 (default 1).</param>
    public sealed record DeclareRequest(int? Workers, int? Prefetch, int? MaxLength, int? MaxPayloadBytes, int? MaxAttempts, int? Partitions);

    private static async Task<IResult> DeclareAsync(string queue, HttpRequest request, IQueueClient client, CancellationToken cancellationToken)
    {
        if (!Names.IsValidQueueName(queue)) return Problems.For(RejectionCode.InvalidQueueName, $"Queue name '{queue}' is invalid: {Names.QueueNameRule}.");
        DeclareRequest? body = null;
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                body = await request.ReadFromJsonAsync<DeclareRequest>(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                return Problems.BadRequest($"The body must be JSON like {{\"workers\": 1, \"maxLength\": 10000}}: {e.Message}");
            }
        }
        QueueOptions? options = null;
        if (body is not null)
        {
            options = Options(request.HttpContext.RequestServices.GetService<DurableQueuesOptions>()?.DeclaredQueueDefaults ?? new DurableQueuesOptions().DeclaredQueueDefaults, body);
            try
            {
                options.Validate(queue);
            }
            catch (ArgumentException e)
            {
                return Problems.BadRequest(e.Message);
            }
        }
        try
        {
            var declared = await client.DeclareQueueAsync(queue, options, cancellationToken).ConfigureAwait(false);
            var json = new
            {
                queue = declared.Queue,
                created = declared.Created,
                workers = declared.Options.Workers,
                prefetch = declared.Options.Prefetch,
                partitions = declared.Options.Partitions,
                maxLength = declared.Options.MaxLength,
                maxPayloadBytes = declared.Options.MaxPayloadBytes,
                maxAttempts = declared.Options.Retry.MaxAttempts,
            };
            return declared.Created ? Results.Created($"/queues/{queue}", json) : Results.Json(json);
        }
        catch (QueueException e)
        {
            return Problems.For(e.Code, e.Message);
        }
        catch (ArgumentException e)
        {
            // Options the node refuses (a payload limit the cluster's remoting cannot carry).
            return Problems.BadRequest(e.Message);
        }
    }

    /// <summary>A copy of <paramref name="defaults"/> with the fields the body sets.</summary>
    private static QueueOptions Options(QueueOptions defaults, DeclareRequest body)
    {
        var options = JsonSerializer.Deserialize<QueueOptions>(JsonSerializer.SerializeToUtf8Bytes(defaults))!;
        if (body.Workers is { } workers) options.Workers = workers;
        if (body.Prefetch is { } prefetch) options.Prefetch = prefetch;
        if (body.MaxLength is { } maxLength) options.MaxLength = maxLength;
        if (body.MaxPayloadBytes is { } maxPayloadBytes) options.MaxPayloadBytes = maxPayloadBytes;
        if (body.MaxAttempts is { } maxAttempts) options.Retry.MaxAttempts = maxAttempts;
        if (body.Partitions is { } partitions) options.Partitions = partitions;
        return options;
    }
}

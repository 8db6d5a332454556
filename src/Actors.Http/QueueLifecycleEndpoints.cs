using Actors.Client;
using Actors.Http.Security;
using Actors.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Actors.Http;

/// <summary>The routes that empty a queue (<see cref="IQueueClient.PurgeQueueAsync"/>) and delete one declared at run time (<see cref="IQueueClient.DeleteQueueAsync"/>).</summary>
public static class QueueLifecycleEndpoints
{
    /// <summary>
    /// Maps <c>POST /queues/{queue}/purge</c> (<c>{"purged": n}</c>) and <c>DELETE /queues/{queue}?ifUnused=&amp;ifEmpty=</c>
    /// (<c>{"deleted": true, "messages": n}</c>; 409 <c>delete-refused</c> for a queue from configuration, or one the
    /// conditions refuse), both with permission <c>manage</c> on the queue; 404 for an unknown queue.
    /// </summary>
    public static IEndpointRouteBuilder MapQueueLifecycleEndpoints(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/queues/{queue}/purge", PurgeAsync).WithTags("Queues").WithName("PurgeQueue")
            .WithSummary("Drop every message waiting for delivery (ready, delayed, retrying); in-flight deliveries and dead letters stay")
            .RequirePermission(ActorsPolicies.Manage);
        app.MapDelete("/queues/{queue}", DeleteAsync).WithTags("Queues").WithName("DeleteQueue")
            .WithSummary("Delete a queue declared at run time with everything it holds; ifUnused / ifEmpty refuse with 409")
            .RequirePermission(ActorsPolicies.Manage);
        return app;
    }

    private static async Task<IResult> PurgeAsync(string queue, IQueueClient client, CancellationToken cancellationToken)
    {
        if (!Names.IsValidQueueName(queue)) return Problems.For(RejectionCode.InvalidQueueName, $"Queue name '{queue}' is invalid: {Names.QueueNameRule}.");
        try
        {
            return Results.Json(new { queue, purged = await client.PurgeQueueAsync(queue, cancellationToken).ConfigureAwait(false) });
        }
        catch (QueueException e)
        {
            return Problems.For(e.Code, e.Message);
        }
    }

    private static async Task<IResult> DeleteAsync(string queue, bool? ifUnused, bool? ifEmpty, IQueueClient client, CancellationToken cancellationToken)
    {
        if (!Names.IsValidQueueName(queue)) return Problems.For(RejectionCode.InvalidQueueName, $"Queue name '{queue}' is invalid: {Names.QueueNameRule}.");
        try
        {
            var messages = await client.DeleteQueueAsync(queue, ifUnused ?? false, ifEmpty ?? false, cancellationToken).ConfigureAwait(false);
            return Results.Json(new { queue, deleted = true, messages });
        }
        catch (QueueException e)
        {
            return Problems.For(e.Code, e.Message);
        }
    }
}

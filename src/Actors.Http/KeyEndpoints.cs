using Actors.Client;
using Actors.Http.Security;
using Actors.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Actors.Http;

/// <summary>The routes that answer a parked ordering key: release, skip, purge.</summary>
public static class KeyEndpoints
{
    /// <summary>Maps <c>POST /queues/{queue}/keys/{key}/release|skip|purge</c> (permission <c>manage</c>).</summary>
    public static IEndpointRouteBuilder MapKeyEndpoints(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var keys = app.MapGroup("/queues/{queue}/keys/{key}").WithTags("Keys");
        keys.MapPost("/release", (string queue, string key, IQueueClient client, CancellationToken ct) => ChangeAsync(queue, key, KeyOperation.Release, client, ct))
            .WithName("ReleaseKey").WithSummary("Run a parked key's dead letter again, ahead of the rest of the key").RequirePermission(ActorsPolicies.Manage);
        keys.MapPost("/skip", (string queue, string key, IQueueClient client, CancellationToken ct) => ChangeAsync(queue, key, KeyOperation.Skip, client, ct))
            .WithName("SkipKey").WithSummary("Leave a parked key's message a dead letter and go on with the key").RequirePermission(ActorsPolicies.Manage);
        keys.MapPost("/purge", (string queue, string key, IQueueClient client, CancellationToken ct) => ChangeAsync(queue, key, KeyOperation.Purge, client, ct))
            .WithName("PurgeKey").WithSummary("Delete a parked key's dead letter and cancel every message of the key behind it").RequirePermission(ActorsPolicies.Manage);
        return app;
    }

    private static async Task<IResult> ChangeAsync(string queue, string key, KeyOperation operation, IQueueClient client, CancellationToken cancellationToken)
    {
        if (!Names.IsValidQueueName(queue)) return Problems.For(RejectionCode.InvalidQueueName, $"Queue name '{queue}' is invalid: {Names.QueueNameRule}.");
        if (!MessageHeaders.IsValidKey(key)) return Problems.BadRequest(MessageHeaders.InvalidKeyReason(key));
        try
        {
            var changed = await client.ChangeKeyAsync(queue, key, operation, cancellationToken).ConfigureAwait(false);
            var done = operation switch { KeyOperation.Release => "released", KeyOperation.Skip => "skipped", _ => "purged" };
            return changed.Outcome == KeyChangeOutcome.NotParked
                ? Problems.Create(StatusCodes.Status409Conflict, "key-not-parked", "Key not parked", $"Key '{key}' of queue '{queue}' is not parked; there is nothing to {operation.ToString().ToLowerInvariant()}.")
                : Results.Json(new { key, status = done, messageIds = changed.MessageIds });
        }
        catch (QueueException e)
        {
            return Problems.For(e.Code, e.Message);
        }
    }
}

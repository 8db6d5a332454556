using Actors.Client;
using Actors.Http.Security;
using Actors.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Actors.Http;

/// <summary>The routes that pause and resume a queue.</summary>
public static class PauseEndpoints
{
    /// <summary>Maps <c>POST /queues/{queue}/pause</c> and <c>POST /queues/{queue}/resume</c> (permission <c>manage</c>).</summary>
    public static IEndpointRouteBuilder MapPauseEndpoints(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var queues = app.MapGroup("/queues/{queue}").WithTags("Queues");
        queues.MapPost("/pause", PauseAsync).WithName("PauseQueue")
            .WithSummary("Pause a queue: it keeps accepting messages and starts no deliveries until resumed (in-flight ones finish); survives restarts")
            .Accepts<PauseRequest>("application/json").RequirePermission(ActorsPolicies.Manage);
        queues.MapPost("/resume", ResumeAsync).WithName("ResumeQueue")
            .WithSummary("Resume a paused queue: deliveries start again at once").RequirePermission(ActorsPolicies.Manage);
        return app;
    }

    /// <summary>The optional body of a pause: why.</summary>
    /// <param name="Reason">Shown with the queue's statistics; at most 500 characters.</param>
    public sealed record PauseRequest(string? Reason);

    private static async Task<IResult> PauseAsync(string queue, HttpRequest request, IQueueClient client, CancellationToken cancellationToken)
    {
        if (!Names.IsValidQueueName(queue)) return Problems.For(RejectionCode.InvalidQueueName, $"Queue name '{queue}' is invalid: {Names.QueueNameRule}.");
        PauseRequest? body = null;
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                body = await request.ReadFromJsonAsync<PauseRequest>(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
            {
                return Problems.BadRequest($"The body must be JSON like {{\"reason\": \"...\"}}: {e.Message}");
            }
        }
        if (body?.Reason is { Length: > PauseCommands.MaxReasonLength } reason)
            return Problems.BadRequest($"A pause reason must be at most {PauseCommands.MaxReasonLength} characters; got {reason.Length}.");
        try
        {
            return Results.Json(StateJson(await client.PauseAsync(queue, body?.Reason, Audit.Who(request.HttpContext.User), cancellationToken).ConfigureAwait(false)));
        }
        catch (QueueException e)
        {
            return Problems.For(e.Code, e.Message);
        }
    }

    private static async Task<IResult> ResumeAsync(string queue, HttpRequest request, IQueueClient client, CancellationToken cancellationToken)
    {
        if (!Names.IsValidQueueName(queue)) return Problems.For(RejectionCode.InvalidQueueName, $"Queue name '{queue}' is invalid: {Names.QueueNameRule}.");
        try
        {
            return Results.Json(StateJson(await client.ResumeAsync(queue, Audit.Who(request.HttpContext.User), cancellationToken).ConfigureAwait(false)));
        }
        catch (QueueException e)
        {
            return Problems.For(e.Code, e.Message);
        }
    }

    private static object StateJson(PauseCommands.PauseState state) => new { queue = state.QueueId, paused = state.Paused, pause = PauseJson(state.Pause) };

    /// <summary>A pause in force as JSON (<c>since</c>, <c>by</c>, <c>reason</c>); null while the queue runs.</summary>
    internal static object? PauseJson(QueuePause? pause) => pause is null ? null : new { since = pause.Since, by = pause.By, reason = pause.Reason };
}

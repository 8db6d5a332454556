using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Actors.Client;
using Actors.Http.Health;
using Actors.Http.Security;
using Actors.Protocol;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueQueries;

namespace Actors.Http;

/// <summary>
/// The HTTP API of a node: enqueue (one or a batch), message status, queue stats and health. Errors are RFC 7807
/// problem details whose <c>type</c> is stable per error (see <see cref="Problems"/>).
/// </summary>
public static class QueueEndpoints
{
    /// <summary>Most messages in one batch request.</summary>
    public const int MaxBatchSize = 10_000;

    /// <summary>The header that carries a producer's idempotency key (the body field <c>idempotencyKey</c> may carry it instead).</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>The response header that marks an answer replayed for a repeated idempotency key.</summary>
    public const string IdempotentReplayedHeader = "Idempotent-Replayed";

    /// <summary>Maps every route of the queue API onto <paramref name="app"/>.</summary>
    public static IEndpointRouteBuilder MapQueueEndpoints(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var queues = app.MapGroup("/queues").WithTags("Queues");
        queues.MapGet("", ListQueuesAsync).WithName("ListQueues").WithSummary("Statistics of every queue").RequirePermission(ActorsPolicies.ReadAll);
        queues.MapGet("/{queue}", GetQueueAsync).WithName("GetQueue").WithSummary("One queue's statistics, with Little's Law").RequirePermission(ActorsPolicies.Read);
        queues.MapPost("/{queue}/messages", EnqueueAsync).WithName("Enqueue")
            .WithSummary("Store a message; 202 once it is durable; ?wait= waits for its outcome (200 once final, else 202 with its status)").Accepts<EnqueueRequest>("application/json").RequirePermission(ActorsPolicies.Produce);
        queues.MapPost("/{queue}/messages/batch", EnqueueBatchAsync).WithName("EnqueueBatch")
            .WithSummary("Store many messages; each accepted or rejected on its own").Accepts<EnqueueRequest[]>("application/json").RequirePermission(ActorsPolicies.Produce);
        queues.MapGet("/{queue}/messages/{id:long}", GetMessageAsync).WithName("GetMessage").WithSummary("A message's status, attempts, errors and result; ?wait= waits until it is final (200), else 202 with its status").RequirePermission(ActorsPolicies.Read);
        queues.MapGet("/{queue}/messages", FindByIdempotencyKeyAsync).WithName("FindMessageByIdempotencyKey")
            .WithSummary("The message an idempotency key stored, as GET /queues/{queue}/messages/{id} answers it (Content-Location names it), while the queue remembers the key; 404 otherwise")
            .RequirePermission(ActorsPolicies.Read);
        queues.MapDelete("/{queue}/messages/{id:long}", CancelMessageAsync).WithName("CancelMessage")
            .WithSummary("Cancel a queued, scheduled, retry-waiting or running message; 409 when it already finished").RequirePermission(ActorsPolicies.Manage);

        app.MapDeadLetterEndpoints();
        app.MapKeyEndpoints();
        app.MapPauseEndpoints();
        app.MapDeclareEndpoints();
        app.MapQueueLifecycleEndpoints();

        app.MapGet("/cluster", ClusterStatusAsync).WithTags("Cluster").WithName("ClusterStatus")
            .WithSummary("Members and roles, where each queue lives, workers per node").RequirePermission(ActorsPolicies.Admin);

        return app.MapHealthEndpoints();
    }

    /// <summary>
    /// Maps <c>/health/live</c> and <c>/health/ready</c> only: what a node without the <c>api</c> role serves, so an
    /// orchestrator can still probe it. <see cref="MapQueueEndpoints"/> includes them. Readiness runs the health checks
    /// tagged <see cref="ReadinessChecks.ReadyTag"/>: register them with <see cref="ReadinessChecks.AddActorsHealthChecks"/>.
    /// </summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.ServiceProvider.GetService<HealthCheckService>() is null)
            throw new InvalidOperationException("The readiness checks are not registered: call services.AddActorsHealthChecks(options) before mapping the health endpoints.");
        var health = app.MapGroup("/health").WithTags("Health").AllowAnonymous();
        health.MapGet("/live", () => Results.Json(new { status = "live" })).WithName("Live");
        health.MapHealthChecks("/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadinessChecks.ReadyTag),
            ResponseWriter = ReadinessChecks.WriteAsync,
            ResultStatusCodes = { [HealthStatus.Healthy] = StatusCodes.Status200OK, [HealthStatus.Degraded] = StatusCodes.Status200OK, [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable },
        }).WithName("Ready").WithSummary("200 when this node's journal takes writes and the queues it hosts have recovered");
        return app;
    }

    /// <summary>The body of an enqueue request (documentation only: the body is parsed by hand to keep payload bytes as they came).</summary>
    /// <param name="Type">The message type name; selects the handler.</param>
    /// <param name="Payload">Any JSON value; stored byte for byte.</param>
    /// <param name="Key">An ordering key (stored as the <c>key</c> header): messages with the same key start one at a time, in enqueue order; at most 255 characters.</param>
    /// <param name="Priority">0–9, higher starts first (stored as the <c>priority</c> header); default 0.</param>
    /// <param name="Headers">String headers kept with the message.</param>
    /// <param name="IdempotencyKey">The request's idempotency key (the <c>Idempotency-Key</c> header does the same for a single message); at most 255 characters.</param>
    /// <param name="DeliverAt">Not before this time: RFC 3339 with an offset, e.g. <c>2026-12-24T18:00:00+01:00</c>.</param>
    /// <param name="Delay">Not before this long after receipt: an ISO 8601 duration (<c>PT10M</c>) or a number of seconds.</param>
    /// <param name="ExpiresAt">Not started by this time (RFC 3339 with an offset) → expired, never run.</param>
    /// <param name="Ttl">Not started within this long after receipt (ISO 8601 duration or seconds) → expired, never run.</param>
    /// <param name="Then">
    /// A follow-up to enqueue once the message succeeds, e.g. <c>{"queue":"reports","type":"render","useResult":true}</c>;
    /// enqueued once, with the idempotency key <c>{queue}:{id}:then</c>. An unknown queue is 404, a malformed one 400.
    /// </param>
    /// <param name="OnFailure">A follow-up to enqueue if the message is dead-lettered (<c>useResult</c>: the failure as JSON); key <c>{queue}:{id}:onFailure</c>.</param>
    public sealed record EnqueueRequest(string Type, JsonElement? Payload, string? Key, int? Priority, Dictionary<string, string>? Headers,
        string? IdempotencyKey, DateTimeOffset? DeliverAt, string? Delay, DateTimeOffset? ExpiresAt, string? Ttl,
        ContinuationRequest? Then = null, ContinuationRequest? OnFailure = null);

    /// <summary>A continuation in a request body (documentation only; see <see cref="Continuation"/>).</summary>
    /// <param name="Queue">The declared queue the follow-up goes to.</param>
    /// <param name="Type">The follow-up's message type.</param>
    /// <param name="Payload">A fixed payload (any JSON value); without it and without <paramref name="UseResult"/>, <c>null</c>.</param>
    /// <param name="PayloadBase64">A fixed payload that is not JSON, as base64.</param>
    /// <param name="UseResult">The follow-up's payload is the message's result (for <c>onFailure</c>: the failure as JSON).</param>
    /// <param name="Then">The follow-up's own follow-up on success: the next step of a chain.</param>
    /// <param name="OnFailure">The follow-up's own follow-up if it is dead-lettered.</param>
    public sealed record ContinuationRequest(string Queue, string Type, JsonElement? Payload = null, string? PayloadBase64 = null, bool? UseResult = null,
        ContinuationRequest? Then = null, ContinuationRequest? OnFailure = null);

    private static async Task<IResult> EnqueueAsync(string queue, [System.ComponentModel.Description(WaitParameter.Description)] string? wait, HttpRequest request, IQueueClient client, IAuthorizationService authorization, CancellationToken cancellationToken)
    {
        if (!Names.IsValidQueueName(queue)) return Problems.For(RejectionCode.InvalidQueueName, $"Queue name '{queue}' is invalid: {Names.QueueNameRule}.");
        if (!WaitParameter.TryRead(wait, out var waitFor, out var waitError)) return Problems.BadRequest(waitError);
        using var body = await MessageRequestReader.ReadJsonAsync(request, cancellationToken).ConfigureAwait(false);
        if (body.Problem is { } problem) return problem;
        if (!MessageRequestReader.TryReadMessage(body.Document!.RootElement, HeaderKey(request), out var message, out var error)) return Problems.BadRequest(error);
        try
        {
            var (id, replayed) = await client.EnqueueAsync(queue, message, cancellationToken).ConfigureAwait(false);
            if (replayed && waitFor is not null) request.HttpContext.Response.Headers[IdempotentReplayedHeader] = "true";
            // Stored: a wait that cannot be served now falls back to the plain answer, so nobody enqueues it twice.
            if (waitFor is { } w && await AwaitedOrNullAsync(queue, id, w, request.HttpContext, client, authorization, cancellationToken).ConfigureAwait(false) is { } awaited)
                return awaited;
            if (!replayed) return Results.Accepted($"/queues/{queue}/messages/{id}", new { id, status = NewStatus(message) });
            // The same request again: the first answer, with the message's status now.
            var info = await client.GetMessageAsync(queue, id, cancellationToken).ConfigureAwait(false);
            request.HttpContext.Response.Headers[IdempotentReplayedHeader] = "true";
            return Results.Json(new { id, status = info is null ? "finished" : StatusName(info.Status) });
        }
        catch (QueueException e)
        {
            return Problems.For(e.Code, e.Message);
        }
    }

    private static string? HeaderKey(HttpRequest request) =>
        request.Headers.TryGetValue(IdempotencyKeyHeader, out var value) && !string.IsNullOrEmpty(value) ? value.ToString() : null;

    private static string NewStatus(NewMessage message) =>
        message.Timing is { } t && (t.DeliverAt > DateTime.UtcNow || t.Delay > TimeSpan.Zero) ? "scheduled" : "queued";

    private static string StatusName(MessageStatus status) => JsonNamingPolicy.KebabCaseLower.ConvertName(status.ToString());

    private static async Task<IResult> CancelMessageAsync(string queue, long id, IQueueClient client, CancellationToken cancellationToken)
    {
        if (!Names.IsValidQueueName(queue)) return Problems.For(RejectionCode.InvalidQueueName, $"Queue name '{queue}' is invalid: {Names.QueueNameRule}.");
        try
        {
            var result = await client.CancelAsync(queue, id, cancellationToken).ConfigureAwait(false);
            var previous = result.PreviousStatus is { } p ? StatusName(p) : null;
            return result.Outcome switch
            {
                CancelOutcome.Cancelled => Results.Json(new { id, status = "cancelled", previousStatus = previous }),
                CancelOutcome.AlreadyFinished => Problems.Create(StatusCodes.Status409Conflict, "message-finished", "Message already finished",
                    $"Message {id} of queue '{queue}' already finished ({previous ?? "finished"}); there is nothing to cancel."),
                _ => Problems.Create(StatusCodes.Status404NotFound, "message-not-found", "Message not found", $"Queue '{queue}' holds no message {id}."),
            };
        }
        catch (QueueException e)
        {
            return Problems.For(e.Code, e.Message);
        }
    }

    private static async Task<IResult> EnqueueBatchAsync(string queue, HttpRequest request, IQueueClient client, CancellationToken cancellationToken)
    {
        if (!Names.IsValidQueueName(queue)) return Problems.For(RejectionCode.InvalidQueueName, $"Queue name '{queue}' is invalid: {Names.QueueNameRule}.");
        using var batch = await MessageRequestReader.ReadBatchAsync(request, MaxBatchSize, cancellationToken).ConfigureAwait(false);
        if (batch.Problem is { } problem) return problem;
        var count = batch.Items.Count;

        // Malformed items are rejected here; the rest go to the queue in one batch, in order.
        var results = new object?[count];
        var valid = new List<NewMessage>(count);
        var positions = new List<int>(count);
        var index = 0;
        foreach (var item in batch.Items)
        {
            if (MessageRequestReader.TryReadMessage(item.RootElement, null, out var message, out var error))
            {
                valid.Add(message);
                positions.Add(index);
            }
            else
            {
                results[index] = new { error = new { type = Problems.TypeFor("invalid-request"), detail = error } };
            }
            index++;
        }
        var accepted = 0;
        try
        {
            var outcomes = await client.EnqueueBatchAsync(queue, valid, cancellationToken).ConfigureAwait(false);
            accepted = outcomes.Count(o => o.IsAccepted);
            for (var i = 0; i < outcomes.Length; i++)
            {
                var outcome = outcomes[i];
                results[positions[i]] = outcome.MessageId is { } id
                    ? outcome.Replayed ? new { id, replayed = true } : new { id, status = NewStatus(valid[i]) }
                    : new { error = new { type = Problems.TypeFor(Problems.Slug(outcome.Code!.Value)), code = outcome.Code.ToString(), detail = outcome.Reason } };
            }
        }
        catch (QueueException e)
        {
            return Problems.For(e.Code, e.Message);
        }
        return Results.Json(new { accepted, rejected = count - accepted, results });
    }

    private static async Task<IResult> GetMessageAsync(string queue, long id, [System.ComponentModel.Description(WaitParameter.Description)] string? wait, HttpContext http, IQueueClient client, IAuthorizationService authorization,
        CancellationToken cancellationToken)
    {
        if (!Names.IsValidQueueName(queue)) return Problems.For(RejectionCode.InvalidQueueName, $"Queue name '{queue}' is invalid: {Names.QueueNameRule}.");
        if (!WaitParameter.TryRead(wait, out var waitFor, out var waitError)) return Problems.BadRequest(waitError);
        try
        {
            var info = waitFor is { } w
                ? await client.WaitAsync(queue, id, w, cancellationToken).ConfigureAwait(false)
                : await client.GetMessageAsync(queue, id, cancellationToken).ConfigureAwait(false);
            if (info is null)
                return Problems.Create(StatusCodes.Status404NotFound, "message-not-found", "Message not found", $"Queue '{queue}' holds no message {id} (or it succeeded longer ago than the retention).");
            return await MessageResultAsync(queue, info, waited: waitFor is not null, http, authorization).ConfigureAwait(false);
        }
        catch (QueueException e)
        {
            return Problems.For(e.Code, e.Message);
        }
    }

    private static async Task<IResult> FindByIdempotencyKeyAsync(string queue, [System.ComponentModel.Description("The idempotency key the message was enqueued with.")] string? idempotencyKey,
        HttpContext http, IQueueClient client, IAuthorizationService authorization, CancellationToken cancellationToken)
    {
        if (!Names.IsValidQueueName(queue)) return Problems.For(RejectionCode.InvalidQueueName, $"Queue name '{queue}' is invalid: {Names.QueueNameRule}.");
        if (string.IsNullOrEmpty(idempotencyKey)) return Problems.BadRequest("Give ?idempotencyKey= to look a message up by the key it was enqueued with.");
        try
        {
            var found = await client.FindByIdempotencyKeyAsync(queue, idempotencyKey, cancellationToken).ConfigureAwait(false);
            if (found?.Message is not { } info)
                return Problems.Create(StatusCodes.Status404NotFound, "message-not-found", "Message not found", found is null
                    ? $"Queue '{queue}' does not remember idempotency key '{idempotencyKey}' (never used, or longer ago than its de-duplication window)."
                    : $"Idempotency key '{idempotencyKey}' stored message {found.MessageId}, which queue '{queue}' no longer holds (it finished longer ago than the retention).");
            http.Response.Headers.ContentLocation = $"/queues/{queue}/messages/{info.MessageId}";
            return await MessageResultAsync(queue, info, waited: false, http, authorization).ConfigureAwait(false);
        }
        catch (QueueException e)
        {
            return Problems.For(e.Code, e.Message);
        }
    }

    /// <summary>
    /// The message awaited after an enqueue (see <see cref="MessageResultAsync"/>); null when the queue no longer holds
    /// it or the wait was refused (too many waiters, queue unavailable), for the caller's plain answer.
    /// </summary>
    private static async Task<IResult?> AwaitedOrNullAsync(string queue, long id, TimeSpan wait, HttpContext http, IQueueClient client,
        IAuthorizationService authorization, CancellationToken cancellationToken)
    {
        try
        {
            var info = await client.WaitAsync(queue, id, wait, cancellationToken).ConfigureAwait(false);
            return info is null ? null : await MessageResultAsync(queue, info, waited: true, http, authorization).ConfigureAwait(false);
        }
        catch (QueueException)
        {
            return null;
        }
    }

    /// <summary>
    /// A message as the status route answers it: <c>200</c>, except after a wait that ended before the message was
    /// final: <c>202</c> with its status then and a <c>Location</c> to wait again.
    /// </summary>
    private static async Task<IResult> MessageResultAsync(string queue, MessageInfo info, bool waited, HttpContext http, IAuthorizationService authorization)
    {
        // A stack trace tells how the handler is built: only for who may manage the queue (read sees type and message).
        var stackTraces = info.Errors.Any(e => e.StackTrace is not null)
            && (await authorization.AuthorizeAsync(http.User, http, ActorsPolicies.Manage).ConfigureAwait(false)).Succeeded;
        var json = MessageJson(info, stackTraces);
        return waited && !OutcomeWaits.IsFinal(info.Status) ? Results.Accepted($"/queues/{queue}/messages/{info.MessageId}", json) : Results.Json(json);
    }

    private static async Task<IResult> GetQueueAsync(string queue, IQueueClient client, CancellationToken cancellationToken)
    {
        if (!Names.IsValidQueueName(queue)) return Problems.For(RejectionCode.InvalidQueueName, $"Queue name '{queue}' is invalid: {Names.QueueNameRule}.");
        try
        {
            return Results.Json(StatsJson(await client.GetStatsAsync(queue, cancellationToken).ConfigureAwait(false)));
        }
        catch (QueueException e)
        {
            return Problems.For(e.Code, e.Message);
        }
    }

    private static async Task<IResult> ListQueuesAsync(IQueueClient client, CancellationToken cancellationToken)
    {
        try
        {
            var all = await client.ListQueuesAsync(cancellationToken).ConfigureAwait(false);
            return Results.Json(new { queues = all.Select(StatsJson) });
        }
        catch (QueueException e)
        {
            return Problems.For(e.Code, e.Message);
        }
    }

    private static async Task<IResult> ClusterStatusAsync(IQueueClient client, CancellationToken cancellationToken)
    {
        try
        {
            var status = await client.GetClusterStatusAsync(cancellationToken).ConfigureAwait(false);
            return Results.Json(new
            {
                mode = status.Mode,
                self = status.Self,
                leader = status.Leader,
                members = status.Members.Select(m => new { address = m.Address, status = m.Status, roles = m.Roles, reachable = m.Reachable }),
                queues = status.Queues.Select(q => new { queue = q.QueueId, node = q.Node, workersByNode = q.WorkersByNode }),
                unplaced = status.Unplaced,
            });
        }
        catch (QueueException e)
        {
            return Problems.For(e.Code, e.Message);
        }
    }

    /// <summary>
    /// A message as JSON; payload and result are embedded as JSON when they are JSON, otherwise as base64; each error's
    /// <c>stackTrace</c> only when <paramref name="stackTraces"/> (the caller holds <c>manage</c> on the queue), else null.
    /// </summary>
    internal static JsonObject MessageJson(MessageInfo info, bool stackTraces) => new()
    {
        ["id"] = info.MessageId,
        ["queue"] = info.QueueId,
        ["type"] = info.Type,
        ["status"] = JsonNamingPolicy.KebabCaseLower.ConvertName(info.Status.ToString()),
        ["attempts"] = info.Attempts,
        ["enqueuedAt"] = info.EnqueuedAt,
        ["nextAttemptAt"] = info.NextAttemptAt,
        ["dueAt"] = info.Status == MessageStatus.Scheduled ? info.NextAttemptAt : null,
        ["finishedAt"] = info.FinishedAt,
        ["headers"] = new JsonObject(info.Headers.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
        ["payload"] = Embed(info.Payload),
        ["result"] = Embed(info.Result),
        ["followUp"] = info.FollowUp is { } followUp
            ? new JsonObject
            {
                ["on"] = followUp.Kind == FollowUpKind.Then ? "then" : "onFailure",
                ["queue"] = followUp.Queue,
                ["id"] = followUp.Id,
                ["error"] = followUp.Error,
            }
            : null,
        ["errors"] = new JsonArray(info.Errors.Select(e => (JsonNode?)new JsonObject
        {
            ["type"] = e.Type,
            ["message"] = e.Message,
            ["stackTrace"] = stackTraces ? e.StackTrace : null,
            ["worker"] = e.Worker,
            ["at"] = e.At,
        }).ToArray()),
    };

    private static JsonNode? Embed(ReadOnlyMemory<byte>? bytes)
    {
        if (bytes is not { } value) return null;
        try
        {
            return JsonNode.Parse(value.Span);
        }
        catch (JsonException)
        {
            return new JsonObject { ["base64"] = Convert.ToBase64String(value.Span) };
        }
    }

    /// <summary>A queue's statistics as JSON, with both sides of Little's Law.</summary>
    internal static object StatsJson(QueueStats s) => new
    {
        queue = s.QueueId,
        depth = s.Depth,
        inFlight = s.InFlight,
        scheduled = s.Scheduled,
        deadLettered = s.DeadLettered,
        nextDueAt = s.NextDueAt,
        idempotencyKeys = s.IdempotencyKeys,
        pendingFollowUps = s.PendingFollowUps,
        totals = new
        {
            enqueued = s.TotalEnqueued, succeeded = s.TotalSucceeded, failedAttempts = s.TotalFailedAttempts, deadLettered = s.TotalDeadLettered,
            discarded = s.TotalDiscarded, expired = s.TotalExpired, cancelled = s.TotalCancelled,
        },
        arrivalRate = Math.Round(s.ArrivalRate, 3),
        completionRate = Math.Round(s.CompletionRate, 3),
        meanWaitMs = Math.Round(s.MeanWait.TotalMilliseconds, 3),
        meanServiceMs = Math.Round(s.MeanService.TotalMilliseconds, 3),
        littlesLaw = new
        {
            waitingPredicted = Math.Round(s.LittlesLawWaiting, 3),
            waitingMeasured = s.Depth,
            inSystemPredicted = Math.Round(s.LittlesLawInSystem, 3),
            inSystemMeasured = s.Depth + s.InFlight,
        },
        workers = s.Workers,
        consumers = s.Consumers,
        utilization = Math.Round(s.Utilization, 4),
        suggestedWorkers = s.SuggestedWorkers,
        oldestMessageAgeMs = Math.Round(s.OldestMessageAge.TotalMilliseconds),
        acceptingWork = s.AcceptingWork,
        paused = s.Paused,
        pause = PauseEndpoints.PauseJson(s.Pause),
        redriveJobs = DeadLetterEndpoints.JobsJson(s.QueueId, s.RedriveJobs ?? []),
        limits = s.Limits is { } l
            ? new
            {
                rate = l.RatePermits is { } permits ? new { permits, period = l.RatePeriod, burst = l.RateBurst } : null,
                maxConcurrency = l.MaxConcurrency,
                waitedForRate = l.WaitedForRate,
                waitedForConcurrency = l.WaitedForConcurrency,
            }
            : null,
        keys = s.Keys is { } k ? new { activeKeys = k.ActiveKeys, parkedKeys = k.ParkedKeys, oldestBlockedAgeMs = Math.Round(k.OldestBlockedAge.TotalMilliseconds) } : null,
        autoscale = s.Autoscale is { } a
            ? new
            {
                activeWorkers = a.Active, targetWorkers = a.Target, deployedWorkers = a.Deployed, drainingWorkers = a.Draining, need = a.Need,
                arrivalRate = Math.Round(a.ArrivalRate, 3), meanServiceMs = Math.Round(a.MeanService.TotalMilliseconds, 3), backlog = a.Backlog,
                targetUtilisation = a.TargetUtilisation, decidedAt = a.DecidedAt,
            }
            : null,
    };
}

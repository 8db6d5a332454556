using System.Numerics;
using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Actors.Client;
using Actors.Http.Security;
using Actors.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using static Actors.Protocol.DeadLetterCommands;

namespace Actors.Http;

/// <summary>
/// The operator's dead-letter routes: list (paging, filters), fingerprint groups, redrive (a selection or all) and
/// delete (one or a selection). Filters come from the query string (<c>type</c>, <c>errorType</c>,
/// <c>fingerprint</c>, <c>since</c>, <c>until</c>) or, for redrive, from a JSON body with the same names plus <c>ids</c>.
/// A redrive of at most one chunk per partition answers 200 once it is stored; a larger one answers 202 with the
/// persisted job it started (<c>Location</c>: the job's status), which is listed under <c>redrives</c> and cancelled
/// with a DELETE there.
/// </summary>
public static class DeadLetterEndpoints
{
    /// <summary>Maps the dead-letter routes under <c>/queues/{queue}/dead-letters</c>.</summary>
    public static IEndpointRouteBuilder MapDeadLetterEndpoints(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup("/queues/{queue}/dead-letters").WithTags("Dead letters");
        group.MapGet("", ListAsync).WithName("ListDeadLetters").WithSummary("Dead letters in id order: ?after=&limit=&type=&errorType=&fingerprint=&since=&until=").RequirePermission(ActorsPolicies.Read);
        group.MapGet("/groups", GroupsAsync).WithName("GroupDeadLetters").WithSummary("Dead letters grouped by failure fingerprint, largest first").RequirePermission(ActorsPolicies.Read);
        group.MapPost("/redrive", RedriveAsync).WithName("RedriveDeadLetters").WithSummary("Back to the ready set with a fresh attempt count; body selects (empty: all)").RequirePermission(ActorsPolicies.Manage);
        group.MapGet("/redrives", ListRedrivesAsync).WithName("ListRedriveJobs").WithSummary("Active redrive jobs with their progress, oldest first").RequirePermission(ActorsPolicies.Read);
        group.MapGet("/redrives/{id}", GetRedriveAsync).WithName("GetRedriveJob").WithSummary("One active redrive job's progress (404 once it finished or was cancelled)").RequirePermission(ActorsPolicies.Read);
        group.MapDelete("/redrives/{id}", CancelRedriveAsync).WithName("CancelRedriveJob").WithSummary("Cancel a redrive job: what it has not redriven stays dead-lettered").RequirePermission(ActorsPolicies.Manage);
        group.MapDelete("/{id:long}", DeleteOneAsync).WithName("DeleteDeadLetter").WithSummary("Delete one dead letter").RequirePermission(ActorsPolicies.Manage);
        group.MapDelete("", PurgeAsync).WithName("PurgeDeadLetters").WithSummary("Delete the dead letters the query selects (none given: all)").RequirePermission(ActorsPolicies.Manage);
        return app;
    }

    private static async Task<IResult> ListAsync(string queue, HttpRequest request, IQueueClient client, CancellationToken cancellationToken)
    {
        if (!TryFilter(request, out var filter, out var error)) return Problems.BadRequest(error);
        if (!TryNumber(request, "after", 0L, out var after, out error) || !TryNumber(request, "limit", 100, out var asked, out error))
            return Problems.BadRequest(error);
        // The queue serves at most 1,000 a page; the next link names the limit that was applied.
        var limit = Math.Clamp(asked, 1, 1000);
        return await Run(async () =>
        {
            var page = await client.ListDeadLettersAsync(queue, filter, after, limit, cancellationToken).ConfigureAwait(false);
            return Results.Json(new
            {
                queue,
                total = page.TotalMatching,
                next = page.NextAfterId is { } next ? $"/queues/{queue}/dead-letters?after={next}&limit={limit}" : null,
                items = page.Items.Select(d => new
                {
                    id = d.MessageId,
                    type = d.Type,
                    attempts = d.Attempts,
                    enqueuedAt = d.EnqueuedAt,
                    deadLetteredAt = d.DeadLetteredAt,
                    reason = d.Reason,
                    lastError = d.LastError is { } e ? new { type = e.Type, message = e.Message, worker = e.Worker, at = e.At } : null,
                    fingerprint = d.Fingerprint,
                }),
            });
        }).ConfigureAwait(false);
    }

    private static Task<IResult> GroupsAsync(string queue, IQueueClient client, CancellationToken cancellationToken) => Run(async () =>
    {
        var groups = await client.GroupDeadLettersAsync(queue, cancellationToken).ConfigureAwait(false);
        return Results.Json(new { queue, groups = groups.Select(g => new { fingerprint = g.Fingerprint, errorType = g.ErrorType, sample = g.SampleMessage, count = g.Count, types = g.Types, firstAt = g.FirstAt, lastAt = g.LastAt }) });
    });

    private static async Task<IResult> RedriveAsync(string queue, HttpRequest request, IQueueClient client, CancellationToken cancellationToken)
    {
        var filter = DeadLetterFilter.All;
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                var body = await JsonSerializer.DeserializeAsync<RedriveBody>(request.Body, Handlers.HandlerRegistry.JsonOptions, cancellationToken).ConfigureAwait(false);
                if (body is not null)
                    filter = new DeadLetterFilter(body.Ids is { Length: > 0 } ids ? ids.ToImmutableArray() : default, body.Type, body.ErrorType, body.Fingerprint, body.Since, body.Until);
            }
            catch (JsonException e)
            {
                return Problems.Create(StatusCodes.Status400BadRequest, "malformed-json", "Malformed JSON", $"The body is not a valid selection: {e.Message}");
            }
        }
        return await Run(async () =>
        {
            var result = await client.StartRedriveAsync(queue, filter, Security.Audit.Who(request.HttpContext.User), cancellationToken).ConfigureAwait(false);
            if (JobsJson(queue, result.Jobs ?? []).SingleOrDefault() is not { } job) return Results.Json(new { queue, redriven = result.Count });
            // Redriven: what went back at once (partitions whose selection fitted in one chunk); the job does the rest.
            request.HttpContext.Response.Headers.Location = job.Status;
            return Results.Json(new { queue, redriven = result.Count, selected = result.Selected, job, status = job.Status }, statusCode: StatusCodes.Status202Accepted);
        }).ConfigureAwait(false);
    }

    private static Task<IResult> ListRedrivesAsync(string queue, IQueueClient client, CancellationToken cancellationToken) => Run(async () =>
        Results.Json(new { queue, jobs = JobsJson(queue, await client.ListRedriveJobsAsync(queue, cancellationToken).ConfigureAwait(false)) }));

    private static Task<IResult> GetRedriveAsync(string queue, string id, IQueueClient client, CancellationToken cancellationToken) => Run(async () =>
        JobsJson(queue, await client.ListRedriveJobsAsync(queue, cancellationToken).ConfigureAwait(false)).FirstOrDefault(j => j.Id == id) is { } job
            ? Results.Json(job)
            : RedriveNotFound(queue, id));

    private static async Task<IResult> CancelRedriveAsync(string queue, string id, HttpRequest request, IQueueClient client, CancellationToken cancellationToken) => await Run(async () =>
    {
        var result = await client.CancelRedriveJobAsync(queue, id, Security.Audit.Who(request.HttpContext.User), cancellationToken).ConfigureAwait(false);
        return result.Cancelled && result.Job is { } job
            ? Results.Json(new { queue, cancelled = true, job = JobsJson(queue, [job]).Single() })
            : RedriveNotFound(queue, id);
    }).ConfigureAwait(false);

    private static IResult RedriveNotFound(string queue, string id) =>
        Problems.Create(StatusCodes.Status404NotFound, "redrive-job-not-found", "Redrive job not found",
            $"Queue '{queue}' has no active redrive job '{id}': it finished, was cancelled, or never existed.");

    /// <summary>Jobs as JSON, one per job id: a job that runs in several partitions adds up their progress.</summary>
    internal static List<RedriveJobJson> JobsJson(string queue, IEnumerable<RedriveJobs.RedriveJobStatus> jobs) =>
        jobs.GroupBy(j => j.JobId, StringComparer.Ordinal)
            .Select(g => new RedriveJobJson(g.Key, g.Sum(j => j.Total), g.Sum(j => j.Redriven), g.Sum(j => j.Remaining), g.Min(j => j.StartedAt),
                g.First().RequestedBy, g.Select(j => j.Partition).Order().ToArray(), $"/queues/{queue}/dead-letters/redrives/{g.Key}"))
            .ToList();

    internal sealed record RedriveJobJson(string Id, int Total, int Redriven, int Remaining, DateTime StartedAt, string? RequestedBy, int[] Partitions, string Status);

    private static Task<IResult> DeleteOneAsync(string queue, long id, IQueueClient client, CancellationToken cancellationToken) => Run(async () =>
    {
        var purged = await client.PurgeDeadLettersAsync(queue, new DeadLetterFilter(Ids: [id]), cancellationToken).ConfigureAwait(false);
        return purged == 1
            ? Results.NoContent()
            : Problems.Create(StatusCodes.Status404NotFound, "dead-letter-not-found", "Dead letter not found", $"Queue '{queue}' has no dead letter {id}.");
    });

    private static async Task<IResult> PurgeAsync(string queue, HttpRequest request, IQueueClient client, CancellationToken cancellationToken)
    {
        if (!TryFilter(request, out var filter, out var error)) return Problems.BadRequest(error);
        return await Run(async () => Results.Json(new { queue, purged = await client.PurgeDeadLettersAsync(queue, filter, cancellationToken).ConfigureAwait(false) })).ConfigureAwait(false);
    }

    private static async Task<IResult> Run(Func<Task<IResult>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (QueueException e)
        {
            return Problems.For(e.Code, e.Message);
        }
    }

    /// <summary>An optional whole-number query parameter: absent means <paramref name="fallback"/>, anything else must parse.</summary>
    private static bool TryNumber<T>(HttpRequest request, string name, T fallback, out T value, out string error) where T : struct, IBinaryInteger<T>
    {
        value = fallback;
        error = "";
        if (!request.Query.TryGetValue(name, out var text) || string.IsNullOrEmpty(text)) return true;
        if (T.TryParse(text.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out value)) return true;
        error = $"'{name}' must be a non-negative whole number, got '{text}'.";
        return false;
    }

    private static bool TryFilter(HttpRequest request, out DeadLetterFilter filter, out string error)
    {
        filter = DeadLetterFilter.All;
        error = "";
        DateTime? since = null, until = null;
        if (request.Query.TryGetValue("since", out var s))
        {
            if (!DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed))
            {
                error = "'since' must be an ISO 8601 time.";
                return false;
            }
            since = parsed;
        }
        if (request.Query.TryGetValue("until", out var u))
        {
            if (!DateTime.TryParse(u, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed))
            {
                error = "'until' must be an ISO 8601 time.";
                return false;
            }
            until = parsed;
        }
        string? Text(string name) => request.Query.TryGetValue(name, out var v) && !string.IsNullOrEmpty(v) ? v.ToString() : null;
        filter = new DeadLetterFilter(default, Text("type"), Text("errorType"), Text("fingerprint"), since, until);
        return true;
    }

    private sealed record RedriveBody(long[]? Ids, string? Type, string? ErrorType, string? Fingerprint, DateTime? Since, DateTime? Until);
}

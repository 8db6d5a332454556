using System.Text.Json;
using Actors.Client;
using Actors.Schedules;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Actors.Http.Security;

/// <summary>Which queue a route's permission is checked against.</summary>
public enum QueueScope
{
    /// <summary>The <c>{queue}</c> route value.</summary>
    RouteQueue,

    /// <summary>Every queue: the permission's pattern must be <c>*</c> (lists of all queues or schedules).</summary>
    AllQueues,

    /// <summary>
    /// The target queue of the schedule <c>{id}</c> (and, for <c>PUT</c>, of the body's <c>queue</c>); a schedule
    /// that does not exist, or a body without a queue, needs the <c>*</c> pattern.
    /// </summary>
    ScheduleTarget,
}

/// <summary>A route needs <see cref="Kind"/> on the queue <see cref="Scope"/> names.</summary>
/// <param name="Kind">The permission kind.</param>
/// <param name="Scope">Where the queue comes from.</param>
public sealed record QueuePermissionRequirement(PermissionKind Kind, QueueScope Scope) : IAuthorizationRequirement;

/// <summary>The authorization policies of the HTTP API, one per route kind; <c>AddActorsAuth</c> registers them.</summary>
public static class ActorsPolicies
{
    /// <summary><c>produce:</c> the route's queue.</summary>
    public const string Produce = "actors:produce";

    /// <summary><c>read:</c> the route's queue.</summary>
    public const string Read = "actors:read";

    /// <summary><c>manage:</c> the route's queue.</summary>
    public const string Manage = "actors:manage";

    /// <summary><c>read:*</c>: lists of every queue or schedule (and metrics, when a node serves them).</summary>
    public const string ReadAll = "actors:read-all";

    /// <summary><c>read:</c> the schedule's target queue.</summary>
    public const string ReadSchedule = "actors:read-schedule";

    /// <summary><c>manage:</c> the schedule's target queue (old and new, for a replacement).</summary>
    public const string ManageSchedule = "actors:manage-schedule";

    /// <summary><c>admin</c>: the cluster.</summary>
    public const string Admin = "actors:admin";

    /// <summary>Each policy's requirement.</summary>
    public static IReadOnlyDictionary<string, QueuePermissionRequirement> Requirements { get; } = new Dictionary<string, QueuePermissionRequirement>
    {
        [Produce] = new(PermissionKind.Produce, QueueScope.RouteQueue),
        [Read] = new(PermissionKind.Read, QueueScope.RouteQueue),
        [Manage] = new(PermissionKind.Manage, QueueScope.RouteQueue),
        [ReadAll] = new(PermissionKind.Read, QueueScope.AllQueues),
        [ReadSchedule] = new(PermissionKind.Read, QueueScope.ScheduleTarget),
        [ManageSchedule] = new(PermissionKind.Manage, QueueScope.ScheduleTarget),
        [Admin] = new(PermissionKind.Admin, QueueScope.AllQueues),
    };
}

/// <summary>
/// Decides a <see cref="QueuePermissionRequirement"/> from the caller's permissions and the request's queue. A failure
/// carries the permission that was missing, which the 403 problem names.
/// </summary>
public sealed class QueuePermissionHandler : AuthorizationHandler<QueuePermissionRequirement>
{
    /// <summary>The <see cref="HttpContext.Items"/> key under which the queue the check resolved is kept, for the audit log.</summary>
    public const string QueueItem = "actors:queue";

    /// <inheritdoc />
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, QueuePermissionRequirement requirement)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(requirement);
        if (context.User.Identity?.IsAuthenticated != true) return;
        var granted = Permissions.Of(context.User).ToArray();
        var http = context.Resource as HttpContext;
        // admin, or the kind on every queue: no need to find out which queue (except to name it in the audit log).
        if (Permissions.Allows(granted, requirement.Kind, null))
        {
            // The body's queue names a schedule write in the audit log; no lookup of the existing schedule, which
            // for a new id would start and passivate a schedule actor just before the write reaches it.
            if (http is not null && requirement is { Scope: QueueScope.ScheduleTarget, Kind: PermissionKind.Manage } && HttpMethods.IsPut(http.Request.Method))
                http.Items[QueueItem] = await BodyQueueAsync(http.Request).ConfigureAwait(false);
            context.Succeed(requirement);
            return;
        }
        IReadOnlyList<string?> queues = requirement.Scope switch
        {
            QueueScope.RouteQueue => [http?.GetRouteValue("queue") as string],
            QueueScope.ScheduleTarget when http is not null => await ScheduleQueuesAsync(http).ConfigureAwait(false),
            _ => [null],
        };
        if (http is not null) http.Items[QueueItem] = queues[0];
        foreach (var queue in queues)
        {
            if (Permissions.Allows(granted, requirement.Kind, queue)) continue;
            var needed = Permissions.Format(requirement.Kind, queue ?? Permissions.AnyQueue);
            context.Fail(new AuthorizationFailureReason(this, $"This needs the permission '{needed}' (or admin)."));
            return;
        }
        context.Succeed(requirement);
    }

    /// <summary>
    /// The queues a schedule request touches: the existing schedule's target, and for <c>PUT</c> the body's; a null
    /// entry when one is unknown (no such schedule, no readable body), which only <c>*</c> matches.
    /// </summary>
    private static async Task<IReadOnlyList<string?>> ScheduleQueuesAsync(HttpContext http)
    {
        var queues = new List<string?>(2);
        if (HttpMethods.IsPut(http.Request.Method)) queues.Add(await BodyQueueAsync(http.Request).ConfigureAwait(false));
        var existing = await ExistingTargetAsync(http).ConfigureAwait(false);
        if (existing is not null || queues.Count == 0) queues.Add(existing);
        return queues;
    }

    private static async Task<string?> ExistingTargetAsync(HttpContext http)
    {
        if (http.GetRouteValue("id") is not string id || !Names.IsValidQueueName(id)) return null;
        if (http.RequestServices.GetService(typeof(IScheduleClient)) is not IScheduleClient client) return null;
        try
        {
            var status = await client.GetAsync(id, 1, http.RequestAborted).ConfigureAwait(false);
            return status?.Definition.Queue;
        }
        catch (ScheduleException)
        {
            return null;
        }
    }

    /// <summary>The <c>queue</c> of a JSON body, read from a rewound buffer so the endpoint reads the body again.</summary>
    private static async Task<string?> BodyQueueAsync(HttpRequest request)
    {
        request.EnableBuffering();
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, default, request.HttpContext.RequestAborted).ConfigureAwait(false);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("queue", out var queue) && queue.ValueKind == JsonValueKind.String
                ? queue.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
        catch (BadHttpRequestException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;   // a field name or the queue escapes a lone surrogate: no queue; the endpoint refuses the body
        }
        finally
        {
            request.Body.Position = 0;
        }
    }
}

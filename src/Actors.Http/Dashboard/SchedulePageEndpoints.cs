using Actors.Client;
using Actors.Http.Security;
using Actors.Protocol;
using Actors.Schedules;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Actors.Http.Dashboard;

/// <summary>
/// The routes of the schedules pages. Reading a schedule needs <c>read</c> on its target queue (the list shows only
/// those); pause, resume and trigger need <c>manage</c> on it, checked by the same policy as the schedules API
/// (<see cref="ActorsPolicies.ManageSchedule"/>), and come only from the dashboard's own script.
/// </summary>
internal static class SchedulePageEndpoints
{
    /// <summary>Last fires whose messages' outcome the detail page looks up (the schedule keeps at most 10).</summary>
    private const int OutcomeLookups = 10;

    /// <summary>Maps the schedules pages and actions onto the dashboard's route group.</summary>
    public static RouteGroupBuilder MapSchedulePages(this RouteGroupBuilder group)
    {
        group.MapGet("/schedules", ListAsync).AllowAnonymous();
        group.MapGet("/schedules/{id}", DetailAsync).AllowAnonymous();
        group.MapPost("/schedules/{id}/pause", (string id, HttpContext context, IScheduleClient schedules, IQueueClient queues) =>
                ActAsync(id, context, schedules, queues, async ct => (await schedules.PauseAsync(id, ct).ConfigureAwait(false), null)))
            .RequirePermission(ActorsPolicies.ManageSchedule).AddEndpointFilter(DashboardLogin.CsrfFilter);
        group.MapPost("/schedules/{id}/resume", (string id, HttpContext context, IScheduleClient schedules, IQueueClient queues) =>
                ActAsync(id, context, schedules, queues, async ct => (await schedules.ResumeAsync(id, ct).ConfigureAwait(false), null)))
            .RequirePermission(ActorsPolicies.ManageSchedule).AddEndpointFilter(DashboardLogin.CsrfFilter);
        group.MapPost("/schedules/{id}/trigger", (string id, HttpContext context, IScheduleClient schedules, IQueueClient queues) =>
                ActAsync(id, context, schedules, queues, async ct => await schedules.TriggerAsync(id, ct).ConfigureAwait(false) is { } triggered
                    ? (await schedules.GetAsync(id, 5, ct).ConfigureAwait(false), $"Triggered: message {triggered.MessageId}.")
                    : (null, null)))
            .RequirePermission(ActorsPolicies.ManageSchedule).AddEndpointFilter(DashboardLogin.CsrfFilter);
        return group;
    }

    private static async Task<IResult> ListAsync(HttpContext context, IScheduleClient schedules)
    {
        if (DashboardLogin.Refuse(context, null) is { } refused) return refused;
        try
        {
            var all = await schedules.ListAsync(context.RequestAborted).ConfigureAwait(false);
            var readable = all.Where(s => DashboardLogin.Can(context, PermissionKind.Read, s.Definition.Queue))
                .OrderBy(s => s.ScheduleId, StringComparer.Ordinal).ToList();
            return Html.Result(Html.Page(context, "Schedules",
                SchedulesPage.List(readable, s => DashboardLogin.Can(context, PermissionKind.Manage, s.Definition.Queue))));
        }
        catch (ScheduleException e)
        {
            return Failed(context, "Schedules", e);
        }
    }

    private static async Task<IResult> DetailAsync(string id, HttpContext context, IScheduleClient schedules, IQueueClient queues)
    {
        if (DashboardLogin.Refuse(context, null) is { } refused) return refused;
        try
        {
            var status = await schedules.GetAsync(id, 5, context.RequestAborted).ConfigureAwait(false);
            // Like the API: a schedule that does not exist is known only to a key that may read every queue.
            if (DashboardLogin.Refuse(context, status?.Definition.Queue ?? Permissions.AnyQueue) is { } forbidden) return forbidden;
            if (status is null)
                return Html.Result(Html.Page(context, id, $"<h1>Schedule {Html.E(id)}</h1><p class=\"notice error\">There is no schedule {Html.E(id)}.</p>"),
                    StatusCodes.Status404NotFound);
            return Html.Result(Html.Page(context, "Schedule " + id, await DetailFragmentAsync(context, queues, status, null).ConfigureAwait(false)));
        }
        catch (ScheduleException e)
        {
            return Failed(context, id, e);
        }
    }

    /// <summary>
    /// Runs an action and answers with the schedule's re-rendered row or detail (as the form's <c>view</c> field asks);
    /// a refusal goes into the page's <c>#action-result</c> instead.
    /// </summary>
    private static async Task<IResult> ActAsync(string id, HttpContext context, IScheduleClient schedules, IQueueClient queues,
        Func<CancellationToken, Task<(ScheduleStatus? Status, string? Notice)>> act)
    {
        var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false) : null;
        var detail = string.Equals(form?[SchedulesPage.ViewField].ToString(), SchedulesPage.DetailView, StringComparison.Ordinal);
        try
        {
            var (status, notice) = await act(context.RequestAborted).ConfigureAwait(false);
            if (status is null) return Elsewhere(context, SchedulesPage.Notice($"There is no schedule {id}.", error: true));
            var noticeHtml = notice is null ? null : SchedulesPage.Notice(notice);
            var canManage = DashboardLogin.Can(context, PermissionKind.Manage, status.Definition.Queue);
            return Html.Result(detail
                ? await DetailFragmentAsync(context, queues, status, noticeHtml).ConfigureAwait(false)
                : SchedulesPage.Row(status, canManage, noticeHtml));
        }
        catch (ScheduleException e)
        {
            return Elsewhere(context, SchedulesPage.Notice(e.Message, error: true));
        }
    }

    /// <summary>The detail, with the outcome of each last fire's message the target queue still knows.</summary>
    private static async Task<string> DetailFragmentAsync(HttpContext context, IQueueClient queues, ScheduleStatus status, string? notice)
    {
        var queue = status.Definition.Queue;
        var lookups = await Task.WhenAll(status.LastFires.Take(OutcomeLookups).Select(async f =>
        {
            try
            {
                return (f.MessageId, Info: await queues.GetMessageAsync(queue, f.MessageId, context.RequestAborted).ConfigureAwait(false));
            }
            catch (QueueException)
            {
                return (f.MessageId, Info: null);
            }
        })).ConfigureAwait(false);
        var outcomes = new Dictionary<long, MessageStatus>();
        foreach (var (messageId, info) in lookups)
            if (info is not null) outcomes[messageId] = info.Status;
        return SchedulesPage.Detail(status, outcomes, DashboardLogin.Can(context, PermissionKind.Manage, queue), notice);
    }

    /// <summary>An action's answer for the page's <c>#action-result</c> rather than the form's target (htmx's retarget headers).</summary>
    private static IResult Elsewhere(HttpContext context, string html)
    {
        context.Response.Headers["HX-Retarget"] = "#action-result";
        context.Response.Headers["HX-Reswap"] = "innerHTML";
        return Html.Result(html);
    }

    private static IResult Failed(HttpContext context, string title, ScheduleException e)
    {
        var status = e.Code switch
        {
            ScheduleErrorCode.NotFound or ScheduleErrorCode.UnknownQueue => StatusCodes.Status404NotFound,
            ScheduleErrorCode.Unavailable => StatusCodes.Status503ServiceUnavailable,
            _ => StatusCodes.Status400BadRequest,
        };
        return Html.Result(Html.Page(context, title, $"<h1>{Html.E(title)}</h1><p class=\"notice error\">{Html.E(e.Message)}</p>"), status);
    }
}

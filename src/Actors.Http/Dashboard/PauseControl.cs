using Actors.Client;
using Actors.Http.Security;
using Actors.Protocol;
using Microsoft.AspNetCore.Http;
using static Actors.Http.Dashboard.Html;

namespace Actors.Http.Dashboard;

/// <summary>
/// A queue's pause on the dashboard: the "paused" badge (queue page and overview rows) and, for who may manage the
/// queue, the Pause/Resume button. The button posts through the CSRF filter and the answer replaces the control.
/// </summary>
internal static class PauseControl
{
    /// <summary>The badge of a paused queue (its title says since when, by whom and why); empty while it runs.</summary>
    public static string Badge(QueuePause? pause) => pause is null ? ""
        : $" <span class=\"badge paused\" title=\"{E(Describe(pause))}\">paused</span>";

    /// <summary>The queue page's control: the badge and, when <paramref name="canManage"/>, the button that toggles it.</summary>
    public static string Render(string queue, QueuePause? pause, bool canManage)
    {
        var action = pause is null ? "pause" : "resume";
        var button = canManage
            ? $"<form class=\"inline\" hx-post=\"/dashboard/queues/{U(queue)}/{action}\" hx-target=\"#pause-control\" hx-swap=\"outerHTML\"{(pause is null ? $" hx-confirm=\"{E($"Pause {queue}? It keeps accepting messages and starts none until resumed.")}\"" : "")}>"
              + $"<button type=\"submit\" class=\"{action}\">{(pause is null ? "Pause" : "Resume")}</button></form>"
            : "";
        return $"<span id=\"pause-control\">{Badge(pause)}{button}</span>";
    }

    /// <summary>Pauses or resumes <paramref name="queue"/> (the route's <c>manage</c> policy and CSRF filter come first) and answers with the new control.</summary>
    public static async Task<IResult> ToggleAsync(string queue, bool pause, HttpContext context, IQueueClient client)
    {
        try
        {
            var who = Audit.Who(context.User);
            var state = pause
                ? await client.PauseAsync(queue, "paused from the dashboard", who, context.RequestAborted).ConfigureAwait(false)
                : await client.ResumeAsync(queue, who, context.RequestAborted).ConfigureAwait(false);
            return Result(Render(queue, state.Pause, canManage: true));
        }
        catch (QueueException e)
        {
            return Result($"<span id=\"pause-control\"><span class=\"notice error\">{E(e.Message)}</span></span>");
        }
    }

    private static string Describe(QueuePause pause) =>
        $"since {pause.Since:u}{(pause.By is null ? "" : " by " + pause.By)}{(pause.Reason is null ? "" : ": " + pause.Reason)}";
}

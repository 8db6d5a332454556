using System.Globalization;
using System.Text;
using System.Xml;
using Actors.Protocol;
using Actors.Schedules;
using static Actors.Http.Dashboard.Html;

namespace Actors.Http.Dashboard;

/// <summary>
/// The schedules pages: a table of every schedule the person may read (when it fires, its target, the next and last
/// fires, the counters) and one schedule's detail (definition, next 5 fires, last fires with their messages' outcome).
/// Pause, resume and trigger buttons appear only with <c>manage</c> on the target queue; each answers with the
/// re-rendered row or detail, which htmx swaps in place.
/// </summary>
internal static class SchedulesPage
{
    /// <summary>The form field that says which fragment an action answers with: <see cref="RowView"/> or <see cref="DetailView"/>.</summary>
    public const string ViewField = "view";

    /// <summary>The action came from a row of the list.</summary>
    public const string RowView = "row";

    /// <summary>The action came from the detail page.</summary>
    public const string DetailView = "detail";

    /// <summary>The list; <paramref name="canManage"/> says per schedule whether its buttons are shown.</summary>
    public static string List(IReadOnlyList<ScheduleStatus> schedules, Func<ScheduleStatus, bool> canManage)
    {
        var html = new StringBuilder(1024 + 512 * schedules.Count);
        html.Append("<h1>Schedules</h1><div id=\"action-result\" aria-live=\"polite\"></div>");
        if (schedules.Count == 0) return html.Append("<p class=\"hint\">No schedule this key may read.</p>").ToString();
        html.Append("<table class=\"schedules\"><thead><tr><th>Schedule</th><th>When</th><th>Queue</th><th>Type</th><th>State</th><th>Next fire</th>")
            .Append("<th>Last fire</th><th>Fired</th><th>Missed</th><th>Skipped</th><th>Last error</th><th></th></tr></thead><tbody>");
        foreach (var s in schedules) html.Append(Row(s, canManage(s)));
        return html.Append("</tbody></table>").ToString();
    }

    /// <summary>One schedule's row of the list; <paramref name="notice"/> is shown beside its buttons.</summary>
    public static string Row(ScheduleStatus s, bool canManage, string? notice = null)
    {
        var d = s.Definition;
        var html = new StringBuilder(1024);
        html.Append("<tr data-schedule=\"").Append(E(s.ScheduleId)).Append("\"><td><a href=\"/dashboard/schedules/").Append(U(s.ScheduleId)).Append("\">").Append(E(s.ScheduleId)).Append("</a></td>")
            .Append("<td class=\"when\">").Append(E(When(d))).Append("</td>")
            .Append("<td><a href=\"/dashboard/queues/").Append(U(d.Queue)).Append("\">").Append(E(d.Queue)).Append("</a></td><td>").Append(E(d.Type)).Append("</td>")
            .Append("<td class=\"state\">").Append(State(s)).Append("</td>")
            .Append("<td class=\"next\">").Append(s.Next.IsDefaultOrEmpty ? "—" : Time(s.Next[0])).Append("</td>")
            .Append("<td class=\"last-fire\">").Append(LastFire(s)).Append("</td>")
            .Append("<td class=\"fired\">").Append(N(s.Fired)).Append("</td><td>").Append(N(s.Missed)).Append("</td><td>").Append(N(s.SkippedTotal)).Append(s.CountsAreLowerBounds ? "+" : "").Append("</td>")
            .Append("<td class=\"error\">").Append(E(s.LastError)).Append("</td><td class=\"actions\">");
        if (canManage) html.Append(Actions(s, RowView, "closest tr"));
        if (notice is not null) html.Append(' ').Append(notice);
        return html.Append("</td></tr>").ToString();
    }

    /// <summary>
    /// One schedule's detail: its definition, counters, next fires and last fires; <paramref name="outcomes"/> holds the
    /// status of each last fire's message that the target queue still knows, <paramref name="notice"/> an action's answer.
    /// </summary>
    public static string Detail(ScheduleStatus s, IReadOnlyDictionary<long, MessageStatus> outcomes, bool canManage, string? notice = null)
    {
        var d = s.Definition;
        var q = U(d.Queue);
        var html = new StringBuilder(4096);
        html.Append("<div id=\"schedule-detail\"><h1>Schedule <span class=\"schedule-name\">").Append(E(s.ScheduleId)).Append("</span></h1>")
            .Append("<div id=\"action-result\" aria-live=\"polite\">").Append(notice).Append("</div>");
        if (canManage) html.Append("<p class=\"toolbar\">").Append(Actions(s, DetailView, "#schedule-detail")).Append("</p>");
        html.Append("<table class=\"stats schedule\"><tbody>")
            .Append(MessagePage.Row("When", When(d), "when"))
            .Append("<tr><th>Queue</th><td><a href=\"/dashboard/queues/").Append(q).Append("\">").Append(E(d.Queue)).Append("</a></td></tr>")
            .Append(MessagePage.Row("Type", d.Type, ""))
            .Append("<tr><th>State</th><td class=\"state\">").Append(State(s)).Append("</td></tr>")
            .Append(MessagePage.Row("Starts", Time(d.StartAt), ""))
            .Append(MessagePage.Row("Ends", Time(d.EndAt), ""))
            .Append(MessagePage.Row("Misfire", d.Misfire.ToString(), ""))
            .Append(MessagePage.Row("Catch-up", $"at most {d.MaxCatchup.ToString(CultureInfo.InvariantCulture)} within {XmlConvert.ToString(d.CatchupWindow)}", ""))
            .Append(MessagePage.Row("Overlap", d.Overlap.ToString(), ""))
            .Append(MessagePage.Row("Fired", N(s.Fired), "fired"))
            .Append(MessagePage.Row("Missed", N(s.Missed), ""))
            .Append(MessagePage.Row("Skipped", Skipped(s), ""));
        if (s.Buffered is { } buffered) html.Append(MessagePage.Row("Buffered occurrence", Time(buffered), ""));
        if (!s.Pending.IsDefaultOrEmpty) html.Append(MessagePage.Row("Being enqueued", string.Join(", ", s.Pending.Select(p => Time(p))), ""));
        if (s.LastError is not null) html.Append(MessagePage.Row("Last error", s.LastError, "error"));
        html.Append("</tbody></table>");

        html.Append("<h2>Next fires</h2>");
        if (s.Next.IsDefaultOrEmpty) html.Append("<p class=\"hint\">None: the schedule has ended.</p>");
        else
        {
            html.Append("<ol class=\"next-fires\">");
            foreach (var next in s.Next) html.Append("<li>").Append(Time(next)).Append("</li>");
            html.Append("</ol>");
        }

        html.Append("<h2>Last fires</h2>");
        if (s.LastFires.IsDefaultOrEmpty) html.Append("<p class=\"hint\">Not fired yet.</p>");
        else
        {
            html.Append("<table class=\"fires\"><thead><tr><th>Occurrence</th><th>Fired</th><th>How</th><th>Message</th><th>Outcome</th></tr></thead><tbody>");
            foreach (var f in s.LastFires)
                html.Append("<tr><td>").Append(Time(f.Occurrence)).Append("</td><td>").Append(Time(f.FiredAt)).Append("</td><td>").Append(How(f))
                    .Append("</td><td><a href=\"/dashboard/queues/").Append(q).Append("/messages/").Append(f.MessageId).Append("\">").Append(f.MessageId).Append("</a></td><td class=\"outcome\">")
                    .Append(outcomes.TryGetValue(f.MessageId, out var status) ? MessagePage.StatusName(status) : "—").Append("</td></tr>");
            html.Append("</tbody></table>");
        }

        html.Append("<h2>Payload</h2>").Append(MessagePage.Bytes(d.Payload, "payload"));
        if (d.Headers is { Count: > 0 } headers)
        {
            html.Append("<h2>Headers</h2><table class=\"stats\"><tbody>");
            foreach (var (name, value) in headers.OrderBy(h => h.Key, StringComparer.Ordinal)) html.Append(MessagePage.Row(name, value, ""));
            html.Append("</tbody></table>");
        }
        return html.Append("</div>").ToString();
    }

    /// <summary>When a schedule fires: its cron expression and time zone, or its interval (ISO 8601, as declared).</summary>
    public static string When(ScheduleDefinition d) => d.Cron is { } cron
        ? $"cron {cron} ({d.TimeZone})"
        : d.Every is { } every ? "every " + XmlConvert.ToString(every) : "—";

    /// <summary>A notice fragment (an action's answer).</summary>
    public static string Notice(string text, bool error = false) =>
        $"<span class=\"notice{(error ? " error" : "")}\">{E(text)}</span>";

    private static string State(ScheduleStatus s) => s.Paused ? "<span class=\"warn\">paused</span>" : "active";

    private static string LastFire(ScheduleStatus s)
    {
        if (s.LastFires.IsDefaultOrEmpty) return "—";
        var f = s.LastFires[0];
        return $"{Time(f.FiredAt)} <a href=\"/dashboard/queues/{U(s.Definition.Queue)}/messages/{f.MessageId}\">#{f.MessageId}</a> <span class=\"hint\">{How(f)}</span>";
    }

    private static string How(ScheduleFire f) => (f.Manual ? "triggered" : "scheduled") + (f.Replayed ? ", replayed" : "");

    private static string Skipped(ScheduleStatus s)
    {
        var total = N(s.SkippedTotal) + (s.CountsAreLowerBounds ? "+" : "");
        return s.Skipped.IsEmpty ? total : $"{total} ({string.Join(", ", s.Skipped.Select(k => $"{k.Key}: {N(k.Value)}"))})";
    }

    private static string Actions(ScheduleStatus s, string view, string target)
    {
        var html = new StringBuilder(512);
        html.Append(s.Paused ? Action(s.ScheduleId, "resume", "Resume", view, target, null) : Action(s.ScheduleId, "pause", "Pause", view, target, null));
        html.Append(Action(s.ScheduleId, "trigger", "Trigger now", view, target, $"Enqueue one {s.Definition.Type} message into {s.Definition.Queue} now?"));
        return html.ToString();
    }

    private static string Action(string id, string action, string label, string view, string target, string? confirm) =>
        $"<form class=\"inline\" hx-post=\"/dashboard/schedules/{U(id)}/{action}\" hx-target=\"{target}\" hx-swap=\"outerHTML\""
        + (confirm is null ? "" : $" hx-confirm=\"{E(confirm)}\"") + ">"
        + $"<input type=\"hidden\" name=\"{ViewField}\" value=\"{view}\"><button type=\"submit\" class=\"{action}\">{E(label)}</button></form>";
}

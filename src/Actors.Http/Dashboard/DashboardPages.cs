using System.Text;
using Actors.Protocol;
using static Actors.Http.Dashboard.Html;
using static Actors.Protocol.DeadLetterCommands;

namespace Actors.Http.Dashboard;

/// <summary>
/// The dashboard's pages and the fragments its streams and actions send: the queue overview, a queue's statistics
/// and charts, its dead-letter groups and paged list. Fragments are single-line HTML, so one server-sent event
/// carries one.
/// </summary>
internal static class DashboardPages
{
    /// <summary>Rows per overview page: a node with a thousand queues never renders or streams them all at once.</summary>
    public const int OverviewPageSize = 100;

    /// <summary>
    /// The overview: one page of rows (those whose name contains <paramref name="filter"/>), replaced every second by
    /// the <c>queues</c> event of its stream, with a name filter and the pager.
    /// </summary>
    public static string Overview(IReadOnlyList<QueueQueries.QueueStats> rows, int total, int page, string? filter, Func<string, string> sparkline, SamplerSnapshot? sample)
    {
        var query = OverviewQuery(page, filter);
        var html = new StringBuilder(1024 + 600 * rows.Count);
        html.Append("<h1>Queues</h1><form class=\"filter overview-filter\" method=\"get\" action=\"/dashboard\"><label>Name contains <input name=\"q\" value=\"")
            .Append(E(filter)).Append("\"></label> <button type=\"submit\">Filter</button></form>")
            .Append("<table class=\"queues\"><thead><tr><th>Queue</th><th title=\"depth, last 10 minutes\">Trend</th><th>Depth</th><th>In flight</th><th>Scheduled</th><th>Dead</th>")
            .Append("<th title=\"arrival rate\">λ</th><th>Completions</th><th>Enqueued</th><th title=\"mean wait, enqueue to start\">W</th><th>Oldest</th>")
            .Append("<th title=\"worker utilisation\">ρ</th><th>Time to drain</th><th>Workers</th></tr></thead>")
            .Append("<tbody id=\"queues-body\" data-stream=\"/dashboard/stream").Append(query).Append("\">").Append(OverviewRows(rows, sparkline)).Append("</tbody></table>");
        if (total == 0) html.Append(filter is null ? "<p class=\"hint\">No queue this key may read.</p>" : "<p class=\"hint\">No queue matches.</p>");
        var pages = Math.Max(1, (total + OverviewPageSize - 1) / OverviewPageSize);
        html.Append("<p class=\"pager overview-pager\">Queues ").Append(N(total == 0 ? 0 : (page - 1) * OverviewPageSize + 1)).Append('–')
            .Append(N(Math.Min(total, page * OverviewPageSize))).Append(" of ").Append(N(total));
        if (page > 1) html.Append(" <a class=\"previous\" href=\"/dashboard").Append(OverviewQuery(page - 1, filter)).Append("\">Previous</a>");
        if (page < pages) html.Append(" <a class=\"next\" href=\"/dashboard").Append(OverviewQuery(page + 1, filter)).Append("\">Next</a>");
        html.Append("</p>");
        if (sample is not null)
            html.Append("<p class=\"hint sampled\">Sampled ").Append(N(sample.Queues.Count)).Append(" queue(s) in ")
                .Append(Duration(sample.Took)).Append("; each row's trend is its depth over the last 10 minutes.</p>");
        else html.Append("<p class=\"notice error\">The queues' statistics are not available right now.</p>");
        return html.ToString();
    }

    /// <summary>The overview's query string for a page and filter (empty for the first page without a filter).</summary>
    public static string OverviewQuery(int page, string? filter)
    {
        var parts = new List<string>(2);
        if (page > 1) parts.Add("page=" + page.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (filter is not null) parts.Add("q=" + U(filter));
        return parts.Count == 0 ? "" : "?" + string.Join("&amp;", parts);
    }

    /// <summary>The overview's rows, each with its depth sparkline from <paramref name="sparkline"/>.</summary>
    public static string OverviewRows(IReadOnlyList<QueueQueries.QueueStats> queues, Func<string, string> sparkline)
    {
        var html = new StringBuilder(600 * queues.Count);
        foreach (var q in queues)
        {
            html.Append("<tr data-queue=\"").Append(E(q.QueueId)).Append("\"><td><a href=\"/dashboard/queues/").Append(U(q.QueueId)).Append("\">").Append(E(q.QueueId)).Append("</a>").Append(PauseControl.Badge(q.Pause)).Append("</td>")
                .Append("<td class=\"trend\">").Append(sparkline(q.QueueId)).Append("</td>")
                .Append("<td class=\"depth\">").Append(N(q.Depth)).Append("</td><td class=\"in-flight\">").Append(N(q.InFlight)).Append("</td>")
                .Append("<td>").Append(N(q.Scheduled)).Append("</td><td class=\"dead\">");
            if (q.DeadLettered > 0) html.Append("<a href=\"/dashboard/queues/").Append(U(q.QueueId)).Append("/dead-letters\">").Append(N(q.DeadLettered)).Append("</a>");
            else html.Append('0');
            html.Append("</td><td>").Append(Rate(q.ArrivalRate)).Append("</td><td>").Append(Rate(q.CompletionRate)).Append("</td>")
                .Append("<td class=\"enqueued\">").Append(N(q.TotalEnqueued)).Append("</td>")
                .Append("<td>").Append(Duration(q.MeanWait)).Append("</td><td>").Append(Duration(q.OldestMessageAge)).Append("</td>")
                .Append("<td>").Append(Percent(q.Utilization)).Append("</td><td>").Append(TimeToDrain(q)).Append("</td>")
                .Append("<td>").Append(q.Workers).Append(q.SuggestedWorkers > q.Workers ? $" <span class=\"warn\" title=\"suggested\">→ {q.SuggestedWorkers}</span>" : "").Append("</td></tr>");
        }
        return html.ToString();
    }

    /// <summary>Depth over the net drain rate (completions beyond arrivals); a dash when the queue is not draining.</summary>
    public static string TimeToDrain(QueueQueries.QueueStats q)
    {
        if (q.Depth == 0) return "0";
        var net = q.CompletionRate - q.ArrivalRate;
        return net <= 0 ? "—" : Duration(TimeSpan.FromSeconds(Math.Min(q.Depth / net, TimeSpan.MaxValue.TotalSeconds / 2)));
    }

    /// <summary>
    /// A queue's page: live statistics and charts, a link to its dead letters, and Pause/Resume for who may manage it. The charts open with
    /// <paramref name="historyJson"/> (the last hour, see <see cref="HistoryPoint.ToColumnsJson"/>) and a 1 h / 24 h
    /// range selector.
    /// </summary>
    public static string Queue(QueueQueries.QueueStats q, bool canManage, string historyJson) =>
        $"<h1>Queue <span class=\"queue-name\">{E(q.QueueId)}</span> {PauseControl.Render(q.QueueId, q.Pause, canManage)}</h1>"
        + $"<p class=\"toolbar\"><a href=\"/dashboard/queues/{U(q.QueueId)}/dead-letters\">Dead letters ({N(q.DeadLettered)})</a> {MessagePage.LookupForm(q.QueueId)}</p>"
        + "<div class=\"queue-layout\">"
        + $"<div id=\"queue-stats\" data-stream=\"/dashboard/queues/{U(q.QueueId)}/stream\">{QueueStats(q)}</div>"
        + $"<div class=\"chart-area\"><p class=\"range\" data-history=\"/dashboard/queues/{U(q.QueueId)}/history\">History: <button type=\"button\" data-range=\"1h\" class=\"active\">1 h</button> <button type=\"button\" data-range=\"24h\">24 h</button></p>"
        + "<script type=\"application/json\" id=\"queue-history\">" + historyJson + "</script>"
        + "<div class=\"charts\">"
        + "<div class=\"chart\" data-chart=\"depth\" data-title=\"Depth\" data-series=\"depth,in flight,scheduled\"></div>"
        + "<div class=\"chart\" data-chart=\"rates\" data-title=\"Arrivals vs completions (/s)\" data-series=\"arrivals,completions\"></div>"
        + "<div class=\"chart\" data-chart=\"times\" data-title=\"Wait and service time (ms)\" data-series=\"wait,service\"></div>"
        + "<div class=\"chart\" data-chart=\"little\" data-title=\"Little's law: L against λW\" data-series=\"L (depth),λW\"></div>"
        + "<div class=\"chart\" data-chart=\"workers\" data-title=\"Workers\" data-series=\"actual,suggested\"></div>"
        + "</div></div></div><p class=\"hint\">Charts open with the node's history (1-s points while the page is watched, 10-s points kept 24 h across restarts) and go on live.</p>";

    /// <summary>A queue's statistics table (the <c>stats</c> event of its stream).</summary>
    public static string QueueStats(QueueQueries.QueueStats q)
    {
        var rows = new (string Name, string Value, string Css)[]
        {
            ("Depth", N(q.Depth), "depth"), ("In flight", N(q.InFlight), "in-flight"), ("Scheduled", N(q.Scheduled), ""),
            ("Dead-lettered", N(q.DeadLettered), "dead"), ("Arrival rate λ", Rate(q.ArrivalRate), ""), ("Completion rate", Rate(q.CompletionRate), ""),
            ("Mean wait W", Duration(q.MeanWait), ""), ("Mean service", Duration(q.MeanService), ""),
            ("L = λW (waiting)", q.LittlesLawWaiting.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture), ""),
            ("Oldest message", Duration(q.OldestMessageAge), ""), ("Utilisation ρ", Percent(q.Utilization), ""),
            ("Workers (suggested)", $"{q.Workers} ({q.SuggestedWorkers})", ""), ("Time to drain", TimeToDrain(q), ""),
            ("Enqueued", N(q.TotalEnqueued), "enqueued"), ("Succeeded", N(q.TotalSucceeded), "succeeded"),
            ("Failed attempts", N(q.TotalFailedAttempts), ""), ("Dead-lettered (total)", N(q.TotalDeadLettered), ""),
            ("Accepting work", q.AcceptingWork ? "yes" : "no (draining)", ""),
            ("Deliveries", q.Pause is { } pause ? $"paused since {Time(pause.Since)}{(pause.By is null ? "" : " by " + pause.By)}" : "running", q.Paused ? "deliveries paused" : "deliveries"),
        };
        if (q.Autoscale is { } a)
            rows = [.. rows, ("Autoscale: active / target (deployed)", $"{a.Active} / {a.Target} ({a.Deployed})", "autoscale"),
                ("Autoscale: last decision", $"λ {Rate(a.ArrivalRate)}, S {Duration(a.MeanService)}, B {N(a.Backlog)} → need {a.Need}", "")];
        var html = new StringBuilder("<table class=\"stats\"><tbody>");
        foreach (var (name, value, css) in rows)
            html.Append("<tr><th>").Append(E(name)).Append("</th><td").Append(css.Length > 0 ? $" class=\"{css}\"" : "").Append('>').Append(E(value)).Append("</td></tr>");
        return html.Append("</tbody></table>").ToString();
    }

    /// <summary>
    /// A queue's dead letters: fingerprint groups (with redrive and purge when <paramref name="canManage"/>) and one
    /// keyset page of the list, filtered server-side by <paramref name="filter"/> (fingerprint, type, error type), whose
    /// messages can be ticked and redriven or purged together (also with <paramref name="canManage"/>), and the
    /// progress of the queue's running redrive jobs.
    /// </summary>
    public static string DeadLetters(string queue, IReadOnlyList<DeadLetterGroup> groups, DeadLetterPage page, DeadLetterFilter filter,
        IReadOnlyList<DeadLetterEndpoints.RedriveJobJson> jobs, bool canManage)
    {
        var q = U(queue);
        var fingerprint = filter.Fingerprint;
        var html = new StringBuilder(8192);
        html.Append("<h1>Dead letters of <a href=\"/dashboard/queues/").Append(q).Append("\">").Append(E(queue)).Append("</a></h1>")
            .Append("<div id=\"action-result\" aria-live=\"polite\">");
        foreach (var job in jobs) html.Append(RedriveProgress(queue, job));
        html.Append("</div>")
            .Append("<h2>Groups by failure</h2>");
        if (groups.Count == 0) html.Append("<p class=\"hint\">No dead letters.</p>");
        else
        {
            html.Append("<table class=\"groups\"><thead><tr><th>Error</th><th>Sample message</th><th>Count</th><th>Types</th><th>First</th><th>Last</th><th></th></tr></thead><tbody>");
            foreach (var g in groups)
            {
                html.Append("<tr data-fingerprint=\"").Append(E(g.Fingerprint)).Append("\"><td>").Append(E(g.ErrorType)).Append("</td><td class=\"sample\">").Append(E(g.SampleMessage))
                    .Append("</td><td class=\"count\">").Append(N(g.Count)).Append("</td><td>").Append(E(string.Join(", ", g.Types))).Append("</td><td>").Append(Time(g.FirstAt))
                    .Append("</td><td>").Append(Time(g.LastAt)).Append("</td><td class=\"actions\"><a href=\"/dashboard/queues/").Append(q).Append("/dead-letters?fingerprint=")
                    .Append(U(g.Fingerprint)).Append("\">List</a>");
                if (canManage)
                    html.Append(ActionButton(queue, "redrive", "Redrive", g.Fingerprint, $"Redrive {N(g.Count)} dead letter(s) of {g.ErrorType}?"))
                        .Append(ActionButton(queue, "purge", "Purge", g.Fingerprint, $"Delete {N(g.Count)} dead letter(s) of {g.ErrorType} for good?"));
                html.Append("</td></tr>");
            }
            html.Append("</tbody></table>");
        }

        html.Append("<h2>Messages").Append(fingerprint is null ? "" : " in group " + E(fingerprint)).Append(" (").Append(N(page.TotalMatching)).Append(")</h2>");
        html.Append("<form class=\"filter\" method=\"get\" action=\"/dashboard/queues/").Append(q).Append("/dead-letters\">")
            .Append("<label>Type <input name=\"type\" value=\"").Append(E(filter.Type)).Append("\"></label> ")
            .Append("<label>Error type <input name=\"errorType\" value=\"").Append(E(filter.ErrorType)).Append("\"></label> ");
        if (fingerprint is not null) html.Append("<input type=\"hidden\" name=\"fingerprint\" value=\"").Append(E(fingerprint)).Append("\">");
        html.Append("<button type=\"submit\">Filter</button> <a href=\"/dashboard/queues/").Append(q).Append("/dead-letters\">All</a></form>");
        if (canManage && page.Items.Length > 0)
            html.Append("<p class=\"selection\">")
                .Append(SelectionButton(queue, "redrive", "Redrive selected", "Redrive the selected dead letters?"))
                .Append(SelectionButton(queue, "purge", "Purge selected", "Delete the selected dead letters for good?"))
                .Append("</p>");
        html.Append("<table class=\"dead-letters\"><thead><tr>");
        if (canManage) html.Append("<th><input type=\"checkbox\" class=\"pick-all\" aria-label=\"Select every message on this page\"></th>");
        html.Append("<th>Id</th><th>Type</th><th>Attempts</th><th>Dead-lettered</th><th>Reason</th><th>Last error</th></tr></thead><tbody>");
        foreach (var d in page.Items)
        {
            html.Append("<tr>");
            if (canManage) html.Append("<td><input type=\"checkbox\" class=\"pick\" name=\"id\" value=\"").Append(d.MessageId).Append("\" aria-label=\"Select message ").Append(d.MessageId).Append("\"></td>");
            html.Append("<td><a href=\"/dashboard/queues/").Append(q).Append("/messages/").Append(d.MessageId).Append("\">").Append(d.MessageId).Append("</a></td><td>").Append(E(d.Type)).Append("</td><td>").Append(d.Attempts).Append("</td><td>").Append(Time(d.DeadLetteredAt))
                .Append("</td><td>").Append(E(d.Reason)).Append("</td><td>").Append(d.LastError is { } e ? $"<b>{E(e.Type)}</b>: {E(e.Message)}" : "—").Append("</td></tr>");
        }
        html.Append("</tbody></table>");
        if (page.NextAfterId is { } next)
        {
            html.Append("<p class=\"pager\"><a class=\"next\" href=\"/dashboard/queues/").Append(q).Append("/dead-letters?after=").Append(next);
            if (fingerprint is not null) html.Append("&amp;fingerprint=").Append(U(fingerprint));
            if (filter.Type is not null) html.Append("&amp;type=").Append(U(filter.Type));
            if (filter.ErrorType is not null) html.Append("&amp;errorType=").Append(U(filter.ErrorType));
            html.Append("\">Next page</a></p>");
        }
        return html.ToString();
    }

    /// <summary>A button that posts the messages ticked in the list (<c>id</c> values) after a confirmation.</summary>
    private static string SelectionButton(string queue, string action, string label, string confirm) =>
        $"<button type=\"button\" class=\"{action}-selected\" hx-post=\"/dashboard/queues/{U(queue)}/dead-letters/{action}\" hx-include=\"table.dead-letters input.pick\" "
        + $"hx-confirm=\"{E(confirm)}\" hx-target=\"#action-result\">{E(label)}</button> ";

    private static string ActionButton(string queue, string action, string label, string fingerprint, string confirm) =>
        $"<form class=\"inline\" hx-post=\"/dashboard/queues/{U(queue)}/dead-letters/{action}\" hx-confirm=\"{E(confirm)}\" hx-target=\"#action-result\">"
        + $"<input type=\"hidden\" name=\"fingerprint\" value=\"{E(fingerprint)}\"><button type=\"submit\" class=\"{action}\">{E(label)}</button></form>";

    /// <summary>What a redrive did: all at once, or a job whose progress the fragment polls every second.</summary>
    public static string RedriveResult(string queue, int redriven, IReadOnlyList<DeadLetterEndpoints.RedriveJobJson> jobs)
    {
        var html = new StringBuilder("<p class=\"notice redrive-result\">Redriven: ").Append(N(redriven)).Append(".</p>");
        foreach (var job in jobs) html.Append(RedriveProgress(queue, job));
        return html.Append("<p><a href=\"\">Reload</a></p>").ToString();
    }

    /// <summary>A running redrive job's progress, refreshed every second until it is gone.</summary>
    public static string RedriveProgress(string queue, DeadLetterEndpoints.RedriveJobJson? job, string? id = null) => job is null
        ? $"<p class=\"notice\">Redrive job {E(id)} finished.</p>"
        : $"<div class=\"progress\" hx-get=\"/dashboard/queues/{U(queue)}/dead-letters/redrives/{U(job.Id)}\" hx-trigger=\"every 1s\" hx-swap=\"outerHTML\">"
          + $"Redrive job {E(job.Id)}: {N(job.Redriven)} of {N(job.Total)} <progress max=\"{job.Total}\" value=\"{job.Redriven}\"></progress></div>";
}

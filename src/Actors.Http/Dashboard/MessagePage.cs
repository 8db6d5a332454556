using System.Text;
using System.Text.Json;
using Actors.Protocol;
using static Actors.Http.Dashboard.Html;

namespace Actors.Http.Dashboard;

/// <summary>
/// One message: status, timing, headers, every failed attempt's error (stack trace folded), payload and result
/// (as text, capped, encoded). Dead letters link here, and the queue page's lookup form finds a message by id or idempotency key.
/// </summary>
internal static class MessagePage
{
    /// <summary>Payload and result bytes shown at most; the rest is counted, not shown.</summary>
    public const int ShownBytes = 64 * 1024;

    /// <summary>The page of <paramref name="m"/>.</summary>
    public static string Render(QueueQueries.MessageInfo m)
    {
        var q = U(m.QueueId);
        var html = new StringBuilder(4096);
        html.Append("<h1>Message ").Append(m.MessageId).Append(" of <a href=\"/dashboard/queues/").Append(q).Append("\">").Append(E(m.QueueId)).Append("</a></h1>")
            .Append("<table class=\"stats message\"><tbody>")
            .Append(Row("Status", StatusName(m.Status), "status"))
            .Append(Row("Type", m.Type, ""))
            .Append(Row("Attempts", m.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture), ""))
            .Append(Row("Enqueued", Time(m.EnqueuedAt), ""))
            .Append(Row("Next attempt", Time(m.NextAttemptAt), ""))
            .Append(Row("Finished", Time(m.FinishedAt), ""));
        if (m.Headers.TryGetValue("traceparent", out var trace)) html.Append(Row("Trace", trace, "trace"));
        html.Append("</tbody></table>");

        html.Append("<h2>Errors (").Append(m.Errors.Count).Append(")</h2>");
        if (m.Errors.IsEmpty) html.Append("<p class=\"hint\">No failed attempt.</p>");
        else
        {
            html.Append("<ol class=\"errors\">");
            foreach (var e in m.Errors)
            {
                html.Append("<li><b>").Append(E(e.Type)).Append("</b>: ").Append(E(e.Message)).Append(" <span class=\"hint\">").Append(Time(e.At));
                if (e.Worker is not null) html.Append(" on ").Append(E(e.Worker));
                html.Append("</span>");
                if (!string.IsNullOrEmpty(e.StackTrace)) html.Append("<details><summary>Stack trace</summary><pre>").Append(E(e.StackTrace)).Append("</pre></details>");
                html.Append("</li>");
            }
            html.Append("</ol>");
        }

        if (!m.Headers.IsEmpty)
        {
            html.Append("<h2>Headers</h2><table class=\"stats\"><tbody>");
            foreach (var (name, value) in m.Headers.OrderBy(h => h.Key, StringComparer.Ordinal)) html.Append(Row(name, value, ""));
            html.Append("</tbody></table>");
        }
        html.Append("<h2>Payload</h2>").Append(Bytes(m.Payload, "payload"));
        if (m.Result is not null) html.Append("<h2>Result</h2>").Append(Bytes(m.Result, "result"));
        return html.ToString();
    }

    /// <summary>The lookup form of a queue page.</summary>
    public static string LookupForm(string queue) =>
        $"<form class=\"lookup\" method=\"get\" action=\"/dashboard/queues/{U(queue)}/messages\"><label>Message id or idempotency key <input type=\"text\" name=\"id\" required></label> <button type=\"submit\">Find</button></form>";

    /// <summary>A status as the HTTP API names it (<c>dead-lettered</c>).</summary>
    public static string StatusName(MessageStatus status) => JsonNamingPolicy.KebabCaseLower.ConvertName(status.ToString());

    /// <summary>A name and value row of a <c>stats</c> table, both encoded; <paramref name="css"/> classes the value cell.</summary>
    internal static string Row(string name, string value, string css) =>
        $"<tr><th>{E(name)}</th><td{(css.Length > 0 ? $" class=\"{css}\"" : "")}>{E(value)}</td></tr>";

    /// <summary>Bytes shown as UTF-8 text (the first <see cref="ShownBytes"/>, encoded) in a <c>pre</c> of class <paramref name="css"/>; a hint when absent.</summary>
    internal static string Bytes(ReadOnlyMemory<byte>? bytes, string css)
    {
        if (bytes is not { } b) return "<p class=\"hint\">Not held any more (the queue keeps payloads only while it needs them).</p>";
        var shown = b.Length > ShownBytes ? b[..ShownBytes] : b;
        var text = Encoding.UTF8.GetString(shown.Span);
        var more = b.Length > ShownBytes ? $"<p class=\"hint\">First {N(ShownBytes)} of {N(b.Length)} bytes.</p>" : "";
        return $"<pre class=\"{css}\">{E(text)}</pre>{more}";
    }
}

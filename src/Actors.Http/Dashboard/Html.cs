using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Http;

namespace Actors.Http.Dashboard;

/// <summary>
/// HTML building for the dashboard: every value that comes from data passes through <see cref="E"/>, numbers and
/// durations are formatted invariantly, and pages share one layout that loads only the vendored assets.
/// </summary>
internal static class Html
{
    /// <summary>The content security policy of every dashboard page: scripts and styles from the node only.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

    /// <summary>HTML-encodes text for an element's content or a quoted attribute value.</summary>
    public static string E(string? text) => text is null ? "" : HtmlEncoder.Default.Encode(text);

    /// <summary>A path segment (queue name, fingerprint) encoded for a URL inside an attribute.</summary>
    public static string U(string text) => E(Uri.EscapeDataString(text));

    /// <summary>A count with thousands separators.</summary>
    public static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A rate per second.</summary>
    public static string Rate(double perSecond) => perSecond.ToString(perSecond >= 100 ? "N0" : "0.0", CultureInfo.InvariantCulture) + "/s";

    /// <summary>A fraction as a percentage.</summary>
    public static string Percent(double fraction) => (fraction * 100).ToString("0", CultureInfo.InvariantCulture) + " %";

    /// <summary>A duration in the unit that reads best (ms, s, min, h).</summary>
    public static string Duration(TimeSpan span)
    {
        if (span <= TimeSpan.Zero) return "0";
        if (span.TotalMilliseconds < 1000) return span.TotalMilliseconds.ToString(span.TotalMilliseconds < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " ms";
        if (span.TotalSeconds < 120) return span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";
        if (span.TotalMinutes < 120) return span.TotalMinutes.ToString("0", CultureInfo.InvariantCulture) + " min";
        return span.TotalHours.ToString("0.0", CultureInfo.InvariantCulture) + " h";
    }

    /// <summary>A UTC time as ISO 8601 to the second; a dash when absent.</summary>
    public static string Time(DateTime? at) => at is { } t ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "—";

    /// <summary>A whole page: head with the vendored assets, the navigation, <paramref name="body"/>.</summary>
    public static string Page(HttpContext context, string title, string body)
    {
        var user = Security.Audit.Who(context.User);
        var html = new StringBuilder(4096);
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<meta name=\"htmx-config\" content='{\"includeIndicatorStyles\":false,\"allowEval\":false}'>")
            .Append("<title>").Append(E(title)).Append(" · Actors</title>")
            .Append("<link rel=\"icon\" href=\"data:,\">")
            .Append("<link rel=\"stylesheet\" href=\"").Append(DashboardAssets.Prefix).Append("vendor/uPlot.min.css\">")
            .Append("<link rel=\"stylesheet\" href=\"").Append(DashboardAssets.Prefix).Append("dashboard.css\">")
            .Append("<script src=\"").Append(DashboardAssets.Prefix).Append("vendor/htmx.min.js\" defer></script>")
            .Append("<script src=\"").Append(DashboardAssets.Prefix).Append("vendor/uPlot.iife.min.js\" defer></script>")
            .Append("<script src=\"").Append(DashboardAssets.Prefix).Append("dashboard.js\" defer></script>")
            .Append("</head><body><header><a class=\"brand\" href=\"/dashboard\">Actors</a><nav><a href=\"/dashboard\">Queues</a>")
            .Append(" <a href=\"/dashboard/schedules\">Schedules</a> <a href=\"/dashboard/cluster\">Cluster</a>")
            .Append("</nav>");
        if (context.User.Identity?.IsAuthenticated == true && context.Request.Cookies.ContainsKey(DashboardLogin.CookieName))
            html.Append("<span class=\"user\">").Append(E(user))
                .Append(" <button class=\"link\" hx-post=\"/dashboard/logout\">Log out</button></span>");
        html.Append("</header><main>").Append(body).Append("</main></body></html>");
        return html.ToString();
    }

    /// <summary>Writes a page with the dashboard's security headers.</summary>
    public static IResult Result(string html, int status = StatusCodes.Status200OK) => new HtmlResult(html, status);

    private sealed class HtmlResult(string html, int status) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = status;
            response.ContentType = "text/html; charset=utf-8";
            response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
            response.Headers.XContentTypeOptions = "nosniff";
            response.Headers.CacheControl = "no-store";
            return response.WriteAsync(html, httpContext.RequestAborted);
        }
    }
}

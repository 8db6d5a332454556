using Actors.Http.Security;
using Microsoft.AspNetCore.Http;

namespace Actors.Http.Dashboard;

/// <summary>
/// Who may see and do what on the dashboard, and how a browser proves it. A person logs in with an API key: the key
/// goes into an HttpOnly, SameSite=Strict cookie scoped to <c>/dashboard</c>, which the API key scheme accepts on
/// dashboard paths only. Every POST must come from the dashboard's own script (the <c>HX-Request</c> header, which a
/// cross-site form cannot send without a preflight) and, when the browser names an origin, from this origin.
/// </summary>
internal static class DashboardLogin
{
    /// <summary>The cookie that carries a logged-in person's API key.</summary>
    public const string CookieName = "actors-dashboard-key";

    /// <summary>The path the cookie and the cookie-accepting routes live under.</summary>
    public const string PathPrefix = "/dashboard";

    /// <summary>The key in the dashboard cookie, on dashboard paths only; null elsewhere or without the cookie.</summary>
    public static string? ReadCookie(HttpRequest request) =>
        request.Path.StartsWithSegments(PathPrefix, StringComparison.Ordinal)
        && request.Cookies.TryGetValue(CookieName, out var key) && !string.IsNullOrWhiteSpace(key) ? key.Trim() : null;

    /// <summary>True when the request's principal is authenticated (an API key, a JWT, or anonymous on loopback).</summary>
    public static bool Authenticated(HttpContext context) => context.User.Identity?.IsAuthenticated == true;

    /// <summary>True when the principal has <paramref name="kind"/> on <paramref name="queue"/>.</summary>
    public static bool Can(HttpContext context, PermissionKind kind, string? queue) =>
        Authenticated(context) && Permissions.Allows(Permissions.Of(context.User), kind, queue);

    /// <summary>True when the request is the dashboard script's own POST from this origin (see the class summary).</summary>
    public static bool SameOrigin(HttpRequest request, bool requireScript)
    {
        if (requireScript && !string.Equals(request.Headers["HX-Request"], "true", StringComparison.Ordinal)) return false;
        string? origin = request.Headers.Origin;
        // Without an Origin header (an older browser), the SameSite=Strict cookie and the header check stand alone.
        if (string.IsNullOrEmpty(origin)) return true;
        return string.Equals(origin, $"{request.Scheme}://{request.Host.Value}", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Refuses a POST that does not pass <see cref="SameOrigin"/> with 403.</summary>
    public static ValueTask<object?> CsrfFilter(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        SameOrigin(context.HttpContext.Request, requireScript: true)
            ? next(context)
            : ValueTask.FromResult<object?>(Problems.Create(StatusCodes.Status403Forbidden, "cross-site-request", "Cross-site request refused",
                "Dashboard actions are accepted only from the dashboard's own pages."));

    /// <summary>The login page; <paramref name="message"/> says why the person is here again.</summary>
    public static string Page(HttpContext context, string? message) => Html.Page(context, "Log in",
        "<section class=\"login\"><h1>Log in</h1>"
        + (message is null ? "" : $"<p class=\"notice\">{Html.E(message)}</p>")
        + "<form method=\"post\" action=\"/dashboard/login\"><label>API key <input type=\"password\" name=\"key\" autocomplete=\"current-password\" required autofocus></label>"
        + "<button type=\"submit\">Log in</button></form>"
        + "<p class=\"hint\">The key is kept in an HttpOnly cookie for this browser session and sent only to <code>/dashboard</code>.</p></section>");

    /// <summary>Sets the cookie from the login form and goes to the overview.</summary>
    public static async Task<IResult> LogInAsync(HttpContext context)
    {
        if (!SameOrigin(context.Request, requireScript: false) || !context.Request.HasFormContentType)
            return Html.Result(Page(context, "The login form must be sent from this dashboard."), StatusCodes.Status400BadRequest);
        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        var key = form["key"].ToString().Trim();
        if (key.Length == 0) return Html.Result(Page(context, "Enter an API key."), StatusCodes.Status400BadRequest);
        context.Response.Cookies.Append(CookieName, key, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = PathPrefix,
            IsEssential = true,
        });
        return Results.Redirect("/dashboard");
    }

    /// <summary>Deletes the cookie; htmx follows the <c>HX-Redirect</c> to the login page.</summary>
    public static IResult LogOut(HttpContext context)
    {
        context.Response.Cookies.Delete(CookieName, new CookieOptions { Path = PathPrefix, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps, HttpOnly = true });
        context.Response.Headers["HX-Redirect"] = "/dashboard/login";
        return Results.NoContent();
    }

    /// <summary>The login page as an answer: it says so when the cookie holds a key that was not accepted.</summary>
    public static IResult LoginPage(HttpContext context) =>
        Html.Result(Page(context, !Authenticated(context) && context.Request.Cookies.ContainsKey(CookieName) ? "That API key was not accepted: log in again." : null));

    /// <summary>
    /// Null when the person may read <paramref name="queue"/> (null: the overview, which lists what they may read);
    /// otherwise the answer: a redirect to the login page for a person not logged in (or whose cookie holds a key that
    /// is no longer valid), 403 for one without the permission.
    /// </summary>
    public static IResult? Refuse(HttpContext context, string? queue)
    {
        if (!Authenticated(context)) return Results.Redirect("/dashboard/login");
        if (queue is null || Can(context, PermissionKind.Read, queue)) return null;
        return Html.Result(Html.Page(context, "Forbidden", $"<h1>Forbidden</h1><p>Your key has no <code>read</code> permission on queue <b>{Html.E(queue)}</b>.</p>"),
            StatusCodes.Status403Forbidden);
    }
}

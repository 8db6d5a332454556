using Actors.Client;
using Actors.Http.Security;
using Actors.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Actors.Http.Dashboard;

/// <summary>
/// The routes of the cluster page: the page, and the fragment it fetches every few seconds. Both need <c>admin</c>, as
/// the API's <c>GET /cluster</c> does.
/// </summary>
internal static class ClusterPageEndpoints
{
    /// <summary>Maps the cluster page and its fragment onto the dashboard's route group.</summary>
    public static RouteGroupBuilder MapClusterPage(this RouteGroupBuilder group)
    {
        group.MapGet("/cluster", PageAsync).AllowAnonymous();
        group.MapGet("/cluster/status", FragmentAsync).AllowAnonymous();
        return group;
    }

    private static async Task<IResult> PageAsync(HttpContext context, IQueueClient client)
    {
        if (!DashboardLogin.Authenticated(context)) return Results.Redirect("/dashboard/login");
        if (!DashboardLogin.Can(context, PermissionKind.Admin, null))
            return Html.Result(Html.Page(context, "Forbidden", "<h1>Forbidden</h1><p>The cluster page needs the <code>admin</code> permission.</p>"), StatusCodes.Status403Forbidden);
        try
        {
            return Html.Result(Html.Page(context, "Cluster", ClusterPage.Render(await client.GetClusterStatusAsync(context.RequestAborted).ConfigureAwait(false))));
        }
        catch (QueueException e)
        {
            return Html.Result(Html.Page(context, "Cluster", $"<h1>Cluster</h1><p class=\"notice error\">{Html.E(e.Message)}</p>"), StatusCodes.Status503ServiceUnavailable);
        }
    }

    /// <summary>The page's body again; a status without a body when refused or unavailable, so the page keeps its last view.</summary>
    private static async Task<IResult> FragmentAsync(HttpContext context, IQueueClient client)
    {
        if (!DashboardLogin.Authenticated(context)) return Results.StatusCode(StatusCodes.Status401Unauthorized);
        if (!DashboardLogin.Can(context, PermissionKind.Admin, null)) return Results.StatusCode(StatusCodes.Status403Forbidden);
        try
        {
            return Html.Result(ClusterPage.Body(await client.GetClusterStatusAsync(context.RequestAborted).ConfigureAwait(false)));
        }
        catch (QueueException)
        {
            return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
        }
    }
}

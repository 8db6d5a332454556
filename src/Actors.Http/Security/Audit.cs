using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Actors.Http.Security;

/// <summary>
/// The audit trail of manage and admin actions: one structured log event (category <c>Actors.Audit</c>, event id
/// 9000 named <c>Audit</c>) per request that passed authorization, with who, what, which queue, how many and the
/// HTTP status. It goes wherever the node's logs go.
/// </summary>
public static partial class Audit
{
    /// <summary>The log category of audit events.</summary>
    public const string Category = "Actors.Audit";

    /// <summary>The event id of an audit record.</summary>
    public const int EventId = 9000;

    /// <summary>Count fields of a response body, in the order they are looked for.</summary>
    private static readonly string[] CountFields = ["selected", "redriven", "purged", "count"];

    /// <summary>An endpoint filter that writes one audit record after the handler answers.</summary>
    public static async ValueTask<object?> Filter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var result = await next(context).ConfigureAwait(false);
        var http = context.HttpContext;
        var status = (result as IStatusCodeHttpResult)?.StatusCode ?? http.Response.StatusCode;
        var action = http.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? http.Request.Method + " " + http.Request.Path;
        var queue = http.GetRouteValue("queue") as string ?? http.Items[QueuePermissionHandler.QueueItem] as string;
        var target = http.GetRouteValue("id")?.ToString();
        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(Category);
        if (!logger.IsEnabled(LogLevel.Information)) return result;
        var count = Count(result, status);
        var principal = Who(http.User);
        Record(logger, principal, action, queue ?? "*", target ?? "", count, status);
        return result;
    }

    /// <summary>Who a principal is in the audit log: its name (key name, token <c>sub</c>), else the token's client, else <c>unnamed</c>.</summary>
    public static string Who(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.Identity?.IsAuthenticated != true) return ApiKeyAuthenticationHandler.AnonymousName;
        return user.Identity.Name ?? user.FindFirst("client_id")?.Value ?? user.FindFirst("azp")?.Value ?? "unnamed";
    }

    /// <summary>One audit record.</summary>
    [LoggerMessage(EventId = EventId, EventName = "Audit", Level = LogLevel.Information,
        Message = "Audit: {Principal} {Action} on queue {Queue} (id {Target}): {Count} affected, status {Status}")]
    public static partial void Record(ILogger logger, string principal, string action, string queue, string target, long count, int status);

    /// <summary>How many things an action touched: a count field of the body, else 1 for a success and 0 otherwise.</summary>
    private static long Count(object? result, int status)
    {
        if (result is IValueHttpResult { Value: { } value })
        {
            try
            {
                var json = value as JsonElement? ?? JsonSerializer.SerializeToElement(value, value.GetType(), JsonSerializerOptions.Web);
                if (json.ValueKind == JsonValueKind.Object)
                    foreach (var field in CountFields)
                        if (json.TryGetProperty(field, out var n) && n.TryGetInt64(out var count)) return count;
            }
            catch (NotSupportedException)
            {
            }
        }
        return status is >= 200 and < 300 ? 1 : 0;
    }
}

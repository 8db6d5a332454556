using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;

namespace Actors.Http.Security;

/// <summary>
/// Answers a refused request with a problem: 401 <c>urn:actors:problem:unauthenticated</c> (with the scheme's
/// <c>WWW-Authenticate: Bearer</c>) when there is no valid credential, 403 <c>urn:actors:problem:forbidden</c>
/// naming the missing permission when there is one.
/// </summary>
public sealed class AuthorizationProblems : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    /// <inheritdoc />
    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(authorizeResult);
        if (authorizeResult.Challenged)
        {
            await Each(policy, scheme => context.ChallengeAsync(scheme)).ConfigureAwait(false);
            var sent = ApiKeyAuthenticationHandler.ReadKey(context.Request) is not null;
            await Write(context, StatusCodes.Status401Unauthorized, "unauthenticated", "Unauthenticated", sent
                ? "The API key or token is not valid."
                : $"This route needs a credential: an API key as 'Authorization: Bearer <key>' or '{ApiKeyAuthenticationOptions.HeaderName}: <key>', or a JWT bearer token.").ConfigureAwait(false);
        }
        else if (authorizeResult.Forbidden)
        {
            await Each(policy, scheme => context.ForbidAsync(scheme)).ConfigureAwait(false);
            var reasons = authorizeResult.AuthorizationFailure?.FailureReasons.Select(r => r.Message).ToArray() ?? [];
            await Write(context, StatusCodes.Status403Forbidden, "forbidden", "Forbidden",
                $"'{Audit.Who(context.User)}' may not do this. {string.Join(" ", reasons)}".TrimEnd()).ConfigureAwait(false);
        }
        else
        {
            await _default.HandleAsync(next, context, policy, authorizeResult).ConfigureAwait(false);
        }
    }

    private static async Task Each(AuthorizationPolicy policy, Func<string?, Task> action)
    {
        if (policy.AuthenticationSchemes.Count == 0) await action(null).ConfigureAwait(false);
        foreach (var scheme in policy.AuthenticationSchemes) await action(scheme).ConfigureAwait(false);
    }

    private static Task Write(HttpContext context, int status, string slug, string title, string detail)
    {
        if (context.Response.HasStarted) return Task.CompletedTask;
        context.Response.StatusCode = status;
        return Problems.Create(status, slug, title, detail).ExecuteAsync(context);
    }
}

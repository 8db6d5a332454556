using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Actors.Http.Security;

/// <summary>Options of the API key scheme (filled from <see cref="ActorsAuthOptions"/> by <c>AddActorsAuth</c>).</summary>
public sealed class ApiKeyAuthenticationOptions : AuthenticationSchemeOptions
{
    /// <summary>The header that may carry the key instead of <c>Authorization: Bearer</c>.</summary>
    public const string HeaderName = "X-Api-Key";

    /// <summary>The keys: name, hash and permissions. Default: none.</summary>
    public IReadOnlyDictionary<string, ApiKeyEntry> Keys { get; set; } = new Dictionary<string, ApiKeyEntry>();

    /// <summary>Requests without a credential get every permission, on any address. Default <c>false</c>.</summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>
    /// Another scheme (JWT) accepts credentials, so a missing key does not mean "no credentials configured".
    /// Default <c>false</c>.
    /// </summary>
    public bool OtherCredentials { get; set; }
}

/// <summary>
/// Authenticates <c>Authorization: Bearer &lt;key&gt;</c> or <c>X-Api-Key: &lt;key&gt;</c> against the configured
/// SHA-256 hashes (constant-time, every hash compared), or, on <c>/dashboard</c> paths, the key in the dashboard's
/// HttpOnly login cookie. Without a credential: every permission when anonymous
/// access is allowed explicitly, or when no credentials are configured at all and the request arrived on a
/// loopback address; otherwise no result (the authorization step answers 401).
/// </summary>
public sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<ApiKeyAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<ApiKeyAuthenticationOptions>(options, logger, encoder)
{
    /// <summary>The scheme's name.</summary>
    public const string SchemeName = "ApiKey";

    /// <summary>The name an anonymous caller has in the audit log.</summary>
    public const string AnonymousName = "anonymous";

    private (string Name, byte[] Hash, Claim[] Claims)[]? _keys;

    /// <inheritdoc />
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        // The dashboard's login cookie counts on dashboard paths only (see DashboardLogin); a header wins over it.
        var presented = ReadKey(Request) ?? Dashboard.DashboardLogin.ReadCookie(Request);
        if (presented is null)
        {
            if (!AnonymousAllowed()) return Task.FromResult(AuthenticateResult.NoResult());
            var anonymous = new ClaimsIdentity([new Claim(ClaimTypes.Name, AnonymousName), new Claim(Permissions.ClaimType, Permissions.Admin)], "Anonymous");
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(anonymous), Scheme.Name)));
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        (string Name, byte[] Hash, Claim[] Claims)? match = null;
        // Compare with every key, without an early exit: the time taken does not say which key came close.
        foreach (var key in Keys())
            if (CryptographicOperations.FixedTimeEquals(hash, key.Hash)) match = key;
        if (match is not { } found) return Task.FromResult(AuthenticateResult.Fail("The API key is not valid."));
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, found.Name), .. found.Claims], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    /// <summary>401 with <c>WWW-Authenticate: Bearer</c>; the body is written by the authorization result handler.</summary>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.Append(HeaderNames.WWWAuthenticate, "Bearer");
        return Task.CompletedTask;
    }

    /// <summary>The key in <c>Authorization: Bearer</c> or <c>X-Api-Key</c>; null when neither is sent.</summary>
    internal static string? ReadKey(HttpRequest request)
    {
        string? authorization = request.Headers.Authorization;
        if (authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return authorization["Bearer ".Length..].Trim();
        string? header = request.Headers[ApiKeyAuthenticationOptions.HeaderName];
        return string.IsNullOrEmpty(header) ? (authorization is null ? null : authorization) : header.Trim();
    }

    private bool AnonymousAllowed()
    {
        if (Options.AllowAnonymous) return true;
        if (Options.Keys.Count > 0 || Options.OtherCredentials) return false;
        // No credentials configured: loopback only. The startup check refuses other bindings; this is the second lock.
        var local = Context.Connection.LocalIpAddress;
        return local is null || IPAddress.IsLoopback(local.IsIPv4MappedToIPv6 ? local.MapToIPv4() : local);
    }

    private (string Name, byte[] Hash, Claim[] Claims)[] Keys() => _keys ??= Options.Keys
        .Select(k => (k.Key, Convert.FromHexString(k.Value.Hash), k.Value.Permissions.Select(p => new Claim(Permissions.ClaimType, p)).ToArray()))
        .ToArray();
}

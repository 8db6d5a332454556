namespace Actors.Http.Security;

/// <summary>
/// Authentication and permissions of the HTTP API, bound from <c>Actors:Auth</c>. With no keys and no JWT the node
/// serves anonymous requests only on loopback (and refuses to start bound elsewhere) unless
/// <see cref="AllowAnonymous"/> says otherwise.
/// </summary>
public sealed class ActorsAuthOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string Section = "Actors:Auth";

    /// <summary>API keys by name (the name is who the audit log says acted). Default: none.</summary>
    public Dictionary<string, ApiKeyEntry> Keys { get; init; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Serve requests without a credential, with every permission, on any address (for a node behind a proxy that
    /// authenticates). Keys and tokens still work and name the caller. Default <c>false</c>.
    /// </summary>
    public bool AllowAnonymous { get; init; }

    /// <summary>Optional JWT bearer tokens (OAuth 2.0 / OpenID Connect). Default: none (off).</summary>
    public JwtAuthOptions? Jwt { get; init; }

    /// <summary>True when JWT bearer tokens are accepted (an authority or an audience is set).</summary>
    public bool JwtEnabled => Jwt is { } jwt && (!string.IsNullOrWhiteSpace(jwt.Authority) || !string.IsNullOrWhiteSpace(jwt.Audience));

    /// <summary>True when callers can prove who they are: at least one key, or JWT.</summary>
    public bool HasCredentials => Keys.Count > 0 || JwtEnabled;
}

/// <summary>One API key: the hash of its secret and what it may do.</summary>
public sealed class ApiKeyEntry
{
    /// <summary>Lowercase hex SHA-256 of the key's UTF-8 bytes (64 characters); never the key itself. Required.</summary>
    public string Hash { get; init; } = "";

    /// <summary>
    /// Permissions: <c>admin</c>, or <c>produce|read|manage</c> <c>:</c> a queue pattern (<c>orders</c>,
    /// <c>billing.*</c>, <c>*</c>). Default: none (the key authenticates but may do nothing).
    /// </summary>
    public string[] Permissions { get; init; } = [];
}

/// <summary>JWT bearer validation, bound from <c>Actors:Auth:Jwt</c>.</summary>
public sealed class JwtAuthOptions
{
    /// <summary>The issuer whose OpenID Connect metadata supplies the signing keys, e.g. <c>https://login.example.com/realms/ops</c>. Default: none.</summary>
    public string? Authority { get; init; }

    /// <summary>The audience a token must carry (<c>aud</c>). Default: none (not checked when only an authority is set).</summary>
    public string? Audience { get; init; }

    /// <summary>
    /// Claims whose values are permissions (a JSON array, repeated claims, or space-separated like <c>scope</c>);
    /// values that are not permissions are ignored. Default <c>permissions</c>, <c>scope</c>, <c>scp</c>.
    /// </summary>
    public string[] PermissionClaims { get; init; } = ["permissions", "scope", "scp"];

    /// <summary>Require HTTPS for the authority's metadata. Default <c>true</c>.</summary>
    public bool RequireHttpsMetadata { get; init; } = true;
}

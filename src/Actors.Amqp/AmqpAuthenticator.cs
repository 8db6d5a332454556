using System.Net;
using System.Security.Cryptography;
using System.Text;
using Actors.Amqp.Codec;
using Actors.Http.Security;
using Microsoft.Extensions.Options;

namespace Actors.Amqp;

/// <summary>Who an AMQP connection authenticated as, and the permissions (<see cref="Permissions"/> strings) it holds.</summary>
/// <param name="Name">The API key's name, or <c>anonymous</c>.</param>
/// <param name="Granted">The permission strings.</param>
public sealed record AmqpPrincipal(string Name, IReadOnlyList<string> Granted)
{
    /// <summary>True when the principal may do <paramref name="kind"/> on <paramref name="queue"/>.</summary>
    public bool Allows(PermissionKind kind, string? queue) => Permissions.Allows(Granted, kind, queue);
}

/// <summary>
/// Checks the credentials of <c>connection.start-ok</c> (PLAIN or AMQPLAIN) against the node's API keys
/// (<c>Actors:Auth:Keys</c>), as the HTTP API does: the password is an API key (the user name is only logged), and
/// the key's permissions apply to every queue the connection touches. <c>guest</c>/<c>guest</c> is the anonymous
/// caller, accepted when the HTTP API would accept an anonymous request: anonymous access is allowed explicitly, or no
/// credentials are configured and the connection arrived on a loopback address.
/// </summary>
public sealed class AmqpAuthenticator(IOptions<ActorsAuthOptions> options)
{
    /// <summary>The mechanisms offered in <c>connection.start</c>.</summary>
    public const string Mechanisms = "PLAIN AMQPLAIN";

    private readonly ActorsAuthOptions _options = options.Value;
    private (string Name, byte[] Hash, string[] Permissions)[]? _keys;

    /// <summary>
    /// The user name and password of a start-ok response: PLAIN is <c>\0user\0password</c>, AMQPLAIN a field table
    /// (without its length) with LOGIN and PASSWORD. Null when the mechanism is unknown or the response malformed.
    /// </summary>
    public static (string User, string Password)? ParseResponse(string mechanism, ReadOnlySpan<byte> response)
    {
        switch (mechanism)
        {
            case "PLAIN":
            {
                var text = Encoding.UTF8.GetString(response);
                var parts = text.Split('\0');
                return parts.Length == 3 ? (parts[1], parts[2]) : null;
            }
            case "AMQPLAIN":
                try
                {
                    var reader = new AmqpReader(response);
                    string? user = null, password = null;
                    while (reader.Remaining > 0)
                    {
                        var name = reader.ReadShortString();
                        var value = reader.ReadFieldValue();
                        if (name == "LOGIN") user = value as string;
                        else if (name == "PASSWORD") password = value as string;
                    }
                    return user is null || password is null ? null : (user, password);
                }
                catch (AmqpSyntaxException)
                {
                    return null;
                }
            default:
                return null;
        }
    }

    /// <summary>The principal for these credentials, or null (403 ACCESS_REFUSED).</summary>
    /// <param name="user">The user name (logged; <c>guest</c> with password <c>guest</c> is the anonymous caller).</param>
    /// <param name="password">The API key.</param>
    /// <param name="localAddress">The address the connection arrived on.</param>
    public AmqpPrincipal? Authenticate(string user, string password, IPAddress? localAddress)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(password);
        if (user == "guest" && password == "guest" && AnonymousAllowed(localAddress))
            return new AmqpPrincipal(ApiKeyAuthenticationHandler.AnonymousName, [Permissions.Admin]);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(password));
        (string Name, byte[] Hash, string[] Permissions)? match = null;
        // Compare with every key, without an early exit: the time taken does not say which key came close.
        foreach (var key in Keys())
            if (CryptographicOperations.FixedTimeEquals(hash, key.Hash)) match = key;
        return match is { } found ? new AmqpPrincipal(found.Name, found.Permissions) : null;
    }

    private bool AnonymousAllowed(IPAddress? local)
    {
        if (_options.AllowAnonymous) return true;
        if (_options.HasCredentials) return false;
        return local is not null && IPAddress.IsLoopback(local.IsIPv4MappedToIPv6 ? local.MapToIPv4() : local);
    }

    private (string Name, byte[] Hash, string[] Permissions)[] Keys() => _keys ??= _options.Keys
        .Where(k => ApiKeys.IsHash(k.Value.Hash))
        .Select(k => (k.Key, Convert.FromHexString(k.Value.Hash), k.Value.Permissions))
        .ToArray();
}

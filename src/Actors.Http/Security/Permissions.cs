using System.Security.Claims;
using Actors;

namespace Actors.Http.Security;

/// <summary>What a permission allows on the queues its pattern matches.</summary>
public enum PermissionKind
{
    /// <summary>Enqueue (one or a batch).</summary>
    Produce,

    /// <summary>Message status, queue statistics, dead-letter listing and groups, schedules.</summary>
    Read,

    /// <summary>Cancel, dead-letter redrive, purge and delete, schedule writes.</summary>
    Manage,

    /// <summary>Everything, on every queue, and the cluster.</summary>
    Admin,
}

/// <summary>
/// Permission strings: <c>admin</c>, or <c>produce</c>, <c>read</c> or <c>manage</c>, a colon and a queue pattern —
/// an exact queue name (<c>orders</c>), a prefix ending in <c>.*</c> (<c>billing.*</c> matches <c>billing.eu</c> but
/// not <c>billing</c>), or <c>*</c> (every queue). <c>admin</c> implies every other permission; the others imply
/// nothing but themselves.
/// </summary>
public static class Permissions
{
    /// <summary>The claim type that carries one permission string on an authenticated principal.</summary>
    public const string ClaimType = "actors:permission";

    /// <summary>The pattern that matches every queue.</summary>
    public const string AnyQueue = "*";

    /// <summary>The permission that implies all others.</summary>
    public const string Admin = "admin";

    /// <summary>The permission string for <paramref name="kind"/> on <paramref name="pattern"/> (<c>admin</c> for <see cref="PermissionKind.Admin"/>).</summary>
    public static string Format(PermissionKind kind, string pattern) =>
        kind == PermissionKind.Admin ? Admin : Name(kind) + ":" + pattern;

    /// <summary>Parses a permission string; false (with the reason) when it is not one.</summary>
    public static bool TryParse(string? text, out PermissionKind kind, out string pattern, out string error)
    {
        kind = PermissionKind.Admin;
        pattern = AnyQueue;
        error = "";
        if (string.Equals(text, Admin, StringComparison.Ordinal)) return true;
        var colon = text?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        if (text is null || colon < 0)
        {
            error = $"'{text}' is not a permission: use admin, or produce|read|manage:<queue pattern>.";
            return false;
        }
        switch (text[..colon])
        {
            case "produce": kind = PermissionKind.Produce; break;
            case "read": kind = PermissionKind.Read; break;
            case "manage": kind = PermissionKind.Manage; break;
            default:
                error = $"'{text}': the kind must be produce, read or manage.";
                return false;
        }
        pattern = text[(colon + 1)..];
        if (pattern == AnyQueue || Names.IsValidQueueName(pattern)) return true;
        if (pattern.EndsWith(".*", StringComparison.Ordinal) && Names.IsValidQueueName(pattern[..^2])) return true;
        error = $"'{text}': the queue pattern must be a queue name, a prefix ending in '.*', or '*'.";
        return false;
    }

    /// <summary>True when <paramref name="pattern"/> matches <paramref name="queue"/>; a null queue (every queue) only matches <c>*</c>.</summary>
    public static bool Matches(string pattern, string? queue)
    {
        if (pattern == AnyQueue) return true;
        if (queue is null) return false;
        return pattern.EndsWith(".*", StringComparison.Ordinal)
            ? queue.Length > pattern.Length - 1 && queue.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal)
            : string.Equals(pattern, queue, StringComparison.Ordinal);
    }

    /// <summary>True when <paramref name="granted"/> allow <paramref name="kind"/> on <paramref name="queue"/> (null: on every queue).</summary>
    public static bool Allows(IEnumerable<string> granted, PermissionKind kind, string? queue)
    {
        ArgumentNullException.ThrowIfNull(granted);
        foreach (var permission in granted)
        {
            if (!TryParse(permission, out var k, out var pattern, out _)) continue;
            if (k == PermissionKind.Admin) return true;
            if (k == kind && kind != PermissionKind.Admin && Matches(pattern, queue)) return true;
        }
        return false;
    }

    /// <summary>The permission strings a principal carries.</summary>
    public static IEnumerable<string> Of(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.FindAll(ClaimType).Select(c => c.Value);
    }

    private static string Name(PermissionKind kind) => kind switch
    {
        PermissionKind.Produce => "produce",
        PermissionKind.Read => "read",
        PermissionKind.Manage => "manage",
        _ => Admin,
    };
}

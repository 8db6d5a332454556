using System.Text.RegularExpressions;

namespace Actors.Configuration;

/// <summary>Masks secrets in text that is about to be logged: connection strings and configuration dumps.</summary>
public static partial class Secrets
{
    /// <summary>What a secret's value is replaced with.</summary>
    public const string Mask = "***";

    /// <summary>
    /// <paramref name="text"/> with the value of every setting whose name ends in <c>password</c>, <c>pwd</c> or
    /// <c>secret</c> (any case) replaced by <see cref="Mask"/>: <c>Password=…</c> in a connection string, also one
    /// quoted inside HOCON, <c>password = "…"</c> in HOCON, <c>"CertificatePassword": "…"</c> in JSON. A value ends at a
    /// <c>;</c>, <c>,</c>, <c>}</c>, quote or line end, or is a quoted string whole. Everything else is kept, so the
    /// host and the database stay readable.
    /// </summary>
    public static string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        return Setting().Replace(text, m => m.Groups["key"].Value + m.Groups["sep"].Value + Mask);
    }

    // A key ending in password, pwd or secret (any case), = or :, then a quoted value or one up to ; , } " or a line end.
    [GeneratedRegex("""(?<key>["']?[\w.-]*(?:password|pwd|secret)["']?)(?<sep>\s*[=:]\s*)(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^;,}"\r\n]*)""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Setting();
}

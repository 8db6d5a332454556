using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Actors.Http.Webhooks;

/// <summary>
/// The signature of a webhook delivery: <c>X-Actors-Signature: v1=&lt;hex HMAC-SHA256(secret, "{timestamp}.{body}")&gt;</c>
/// with <c>X-Actors-Timestamp</c> the unix time in seconds; the secret is the UTF-8 bytes of the type's
/// <see cref="WebhookOptions.Secret"/>. A receiver recomputes it over the raw body, compares in constant time and
/// rejects old timestamps (replays).
/// </summary>
public static class WebhookSignature
{
    /// <summary>The header that carries the unix time (seconds) the delivery was signed at.</summary>
    public const string TimestampHeader = "X-Actors-Timestamp";

    /// <summary>The header that carries <c>v1=&lt;hex&gt;</c>.</summary>
    public const string SignatureHeader = "X-Actors-Signature";

    /// <summary>The signature header's value for <paramref name="body"/> signed at <paramref name="timestamp"/> (unix seconds).</summary>
    public static string Compute(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        var prefix = Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        hmac.AppendData(prefix);
        hmac.AppendData(body);
        return "v1=" + Convert.ToHexStringLower(hmac.GetHashAndReset());
    }

    /// <summary>
    /// True when <paramref name="signature"/> is the signature of <paramref name="body"/> at <paramref name="timestamp"/>
    /// and the timestamp is within <paramref name="tolerance"/> of <paramref name="now"/>. Compares in constant time.
    /// </summary>
    public static bool Verify(string secret, string? timestamp, string? signature, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan tolerance)
    {
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || signature is null) return false;
        if (Math.Abs(now.ToUnixTimeSeconds() - seconds) > tolerance.TotalSeconds) return false;
        var expected = Encoding.ASCII.GetBytes(Compute(secret, seconds, body));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature));
    }
}

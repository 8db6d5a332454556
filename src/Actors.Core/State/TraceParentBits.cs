using System.Globalization;

namespace Actors.State;

/// <summary>
/// A W3C <c>traceparent</c> (version 00: <c>00-{trace id}-{span id}-{flags}</c>, 55 characters) held as its 25 bytes
/// instead of a 55-character string: what a retained finished message keeps of its headers, at a seventh of the cost.
/// The default value is "none" (a valid trace id is never all zeros).
/// </summary>
internal readonly struct TraceParentBits
{
    private const int Length = 55;
    private readonly ulong _traceHigh;
    private readonly ulong _traceLow;
    private readonly ulong _span;
    private readonly byte _flags;

    private TraceParentBits(ulong traceHigh, ulong traceLow, ulong span, byte flags)
    {
        _traceHigh = traceHigh;
        _traceLow = traceLow;
        _span = span;
        _flags = flags;
    }

    /// <summary>True when a trace parent is held.</summary>
    public bool HasValue => (_traceHigh | _traceLow) != 0;

    /// <summary>The bits of <paramref name="traceParent"/>; "none" for null or anything that is not a valid version-00 trace parent.</summary>
    public static TraceParentBits Parse(string? traceParent)
    {
        if (traceParent is not { Length: Length } text || !text.StartsWith("00-", StringComparison.Ordinal) || text[35] != '-' || text[52] != '-') return default;
        if (!Hex(text.AsSpan(3, 16), out var high) || !Hex(text.AsSpan(19, 16), out var low) || !Hex(text.AsSpan(36, 16), out var span)
            || !byte.TryParse(text.AsSpan(53, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var flags))
            return default;
        return new TraceParentBits(high, low, span, flags);
    }

    /// <summary>The trace parent as its header text; null for "none".</summary>
    public string? Text => HasValue
        ? string.Create(CultureInfo.InvariantCulture, $"00-{_traceHigh:x16}{_traceLow:x16}-{_span:x16}-{_flags:x2}")
        : null;

    // Lowercase hex only, as the W3C format requires, so the text comes back exactly as it was.
    private static bool Hex(ReadOnlySpan<char> digits, out ulong value)
    {
        value = 0;
        foreach (var c in digits)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f'))) return false;
        }
        return ulong.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }
}

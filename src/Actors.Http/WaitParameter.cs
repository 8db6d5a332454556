using System.Globalization;

namespace Actors.Http;

/// <summary>
/// The <c>wait</c> query parameter of the enqueue and status routes: how long to wait for the message's outcome. An
/// ISO 8601 duration (<c>PT30S</c>), a number of seconds (<c>30</c>, <c>2.5</c>), or a number with a unit (<c>30s</c>,
/// <c>500ms</c>, <c>2m</c>). The queue client caps it at the request timeout.
/// </summary>
internal static class WaitParameter
{
    /// <summary>The query parameter's name.</summary>
    public const string Name = "wait";

    /// <summary>What the parameter means, for the OpenAPI document.</summary>
    public const string Description = "Wait up to this long for the message's outcome: seconds (30), with a unit (30s, 500ms, 2m) or ISO 8601 (PT30S); capped at the request timeout. 200 once final, else 202 with its status.";

    /// <summary>Longer values are read as this; the client caps them at its request timeout anyway.</summary>
    private static readonly TimeSpan Longest = TimeSpan.FromHours(1);

    /// <summary>
    /// Reads the parameter: true with null when absent (no wait), true with the duration when valid, false with a
    /// reason when not (negative, or not a duration).
    /// </summary>
    public static bool TryRead(string? value, out TimeSpan? wait, out string error)
    {
        wait = null;
        error = "";
        if (value is null) return true;
        if (value.Trim() is { Length: > 0 } text && TryParse(text) is { } parsed)
        {
            wait = parsed < Longest ? parsed : Longest;
            return true;
        }
        error = $"\"{Name}\" must be a non-negative duration: seconds (\"30\"), with a unit (\"30s\", \"500ms\", \"2m\") or ISO 8601 (\"PT30S\"); it was \"{value}\".";
        return false;
    }

    private static TimeSpan? TryParse(string text)
    {
        if (text.StartsWith('P'))
        {
            try
            {
                var iso = System.Xml.XmlConvert.ToTimeSpan(text);
                return iso >= TimeSpan.Zero ? iso : null;
            }
            catch (FormatException)
            {
                return null;
            }
            catch (OverflowException)
            {
                return null;
            }
        }
        var (number, scale) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
            : text.EndsWith('s') ? (text[..^1], 1.0)
            : text.EndsWith('m') ? (text[..^1], 60.0)
            : (text, 1.0);
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value)) return null;
        var seconds = value * scale;
        return seconds >= Longest.TotalSeconds ? Longest : TimeSpan.FromSeconds(seconds);
    }
}

using System.Text.RegularExpressions;

namespace Actors.State;

/// <summary>
/// Groups failures that are "the same problem": the exception type plus its message with the parts that vary
/// between occurrences (GUIDs, hex ids, numbers, quoted values) replaced by placeholders.
/// </summary>
internal static partial class Fingerprint
{
    private const int MaxMessageLength = 200;

    public static string Of(string errorType, string message) => $"{errorType}: {Normalize(message)}";

    public static string Normalize(string message)
    {
        var text = Guids().Replace(message, "*");
        text = Hex().Replace(text, "*");
        text = Quoted().Replace(text, "'*'");
        text = Numbers().Replace(text, "#");
        text = Spaces().Replace(text, " ").Trim();
        return text.Length <= MaxMessageLength ? text : text[..MaxMessageLength];
    }

    [GeneratedRegex(@"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")]
    private static partial Regex Guids();

    [GeneratedRegex(@"\b(0x)?[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*[0-9][0-9a-fA-F]*\b|\b(0x)?[0-9a-fA-F]*[0-9][0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b")]
    private static partial Regex Hex();

    [GeneratedRegex("'[^']*'|\"[^\"]*\"")]
    private static partial Regex Quoted();

    [GeneratedRegex(@"\d+(\.\d+)?")]
    private static partial Regex Numbers();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}

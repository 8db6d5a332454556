using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Actors.Cli;

/// <summary>What a command prints: aligned tables and key–value lists for people, the node's JSON for <c>--json</c>.</summary>
internal static class Output
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes <paramref name="json"/> indented, one document.</summary>
    public static void Json(TextWriter writer, JsonNode? json) => writer.WriteLine(json?.ToJsonString(Indented) ?? "null");

    /// <summary>Writes <paramref name="json"/> on one line (a stream of documents, as <c>--watch --json</c> prints).</summary>
    public static void JsonLine(TextWriter writer, JsonNode? json) => writer.WriteLine(json?.ToJsonString() ?? "null");

    /// <summary>Writes a table: a header row, then each row, columns padded to their widest cell.</summary>
    public static void Table(TextWriter writer, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => i < r.Count ? r[i].Length : 0))).ToArray();
        WriteRow(writer, headers, widths);
        foreach (var row in all) WriteRow(writer, row, widths);
    }

    /// <summary>Writes one name–value pair a line, the values aligned.</summary>
    public static void Fields(TextWriter writer, IEnumerable<(string Name, string Value)> fields)
    {
        var list = fields.ToList();
        var width = list.Count == 0 ? 0 : list.Max(f => f.Name.Length) + 1;
        foreach (var (name, value) in list) writer.WriteLine($"{(name + ":").PadRight(width)} {value}");
    }

    /// <summary>A JSON value as a table cell: strings bare, numbers invariant, null as "-", objects and arrays compact.</summary>
    public static string Cell(JsonNode? node) => node switch
    {
        null => "-",
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        JsonValue value when value.TryGetValue<bool>(out var flag) => flag ? "yes" : "no",
        JsonValue value => value.ToJsonString(),
        JsonArray array when array.All(i => i is JsonValue) => string.Join(",", array.Select(Cell)),
        _ => node.ToJsonString(),
    };

    /// <summary>A time as the node sent it (ISO 8601), shortened to seconds in UTC for a table.</summary>
    public static string Time(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : Cell(node);

    /// <summary>A text cut to <paramref name="max"/> characters, on one line.</summary>
    public static string Short(string text, int max)
    {
        var line = text.ReplaceLineEndings(" ");
        return line.Length <= max ? line : string.Concat(line.AsSpan(0, max - 1), "…");
    }

    private static void WriteRow(TextWriter writer, IReadOnlyList<string> cells, int[] widths)
    {
        var parts = new string[widths.Length];
        for (var i = 0; i < widths.Length; i++)
        {
            var cell = i < cells.Count ? cells[i] : "";
            parts[i] = i == widths.Length - 1 ? cell : cell.PadRight(widths[i]);
        }
        writer.WriteLine(string.Join("  ", parts).TrimEnd());
    }
}

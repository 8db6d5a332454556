namespace Actors.Cli;

/// <summary>Relative routes of the HTTP API, each name escaped as one path segment.</summary>
internal static class Paths
{
    /// <summary>One path segment, escaped.</summary>
    public static string Segment(string value) => Uri.EscapeDataString(value);

    /// <summary><c>queues/{queue}</c>.</summary>
    public static string Queue(string queue) => $"queues/{Segment(queue)}";

    /// <summary>A query string from the pairs whose value is set (empty when none is).</summary>
    public static string Query(params (string Name, string? Value)[] pairs)
    {
        var set = pairs.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return set.Count == 0 ? "" : "?" + string.Join("&", set);
    }
}

using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;

namespace Actors.Schedules;

/// <summary>
/// A schedule as declared in configuration (<c>Actors:Schedules:{id}</c>) or sent over HTTP (<c>PUT /schedules/{id}</c>):
/// <c>{"cron": "0 2 * * *", "timeZone": "Europe/Berlin", "queue": "reports", "type": "nightly_report", "payload": {...}}</c>,
/// or <c>"every": "PT10S"</c> instead of <c>cron</c>. Validated into a <see cref="ScheduleDefinition"/>.
/// </summary>
public sealed class ScheduleOptions
{
    /// <summary>A cron expression: 5 fields (minute first), or 6 with seconds first; Cronos syntax. Default: none. Exactly one of this and <see cref="Every"/>.</summary>
    public string? Cron { get; set; }

    /// <summary>A fixed interval: ISO 8601 (<c>PT10S</c>) or <c>hh:mm:ss</c>; at least 1 s. Anchored at <see cref="StartAt"/>, else the Unix epoch (so <c>PT1H</c> fires on the hour, UTC). Default: none.</summary>
    public string? Every { get; set; }

    /// <summary>The IANA time zone the cron expression is read in. Default <c>UTC</c>.</summary>
    public string? TimeZone { get; set; }

    /// <summary>The target queue (must be declared). Required.</summary>
    public string? Queue { get; set; }

    /// <summary>The message type of each fired message. Required.</summary>
    public string? Type { get; set; }

    /// <summary>The payload as JSON text. Default <c>null</c> (the JSON literal). In configuration an object section is turned into JSON.</summary>
    public string? Payload { get; set; }

    /// <summary>Headers of each fired message. Default: none.</summary>
    public Dictionary<string, string>? Headers { get; set; }

    /// <summary>No occurrence before this instant. Default: none.</summary>
    public DateTimeOffset? StartAt { get; set; }

    /// <summary>No occurrence after this instant; must be after <see cref="StartAt"/>. Default: none.</summary>
    public DateTimeOffset? EndAt { get; set; }

    /// <summary>True: pause; false: resume; unset: leave as it is (a new schedule runs). Default unset.</summary>
    public bool? Paused { get; set; }

    /// <summary>Missed occurrences: <c>fireOnce</c>, <c>fireAll</c> or <c>skip</c>. Default <c>fireOnce</c>.</summary>
    public MisfirePolicy Misfire { get; set; } = MisfirePolicy.FireOnce;

    /// <summary>Most runs a <c>fireAll</c> catch-up fires (the newest ones). Default 100; range 1–10,000.</summary>
    public int? MaxCatchup { get; set; }

    /// <summary>Missed occurrences older than this are skipped: ISO 8601 or <c>hh:mm:ss</c>. Default 24 h; range 0 – 366 days.</summary>
    public string? CatchupWindow { get; set; }

    /// <summary>While the previous message is unfinished: <c>skip</c>, <c>bufferOne</c> or <c>allow</c>. Default <c>skip</c>.</summary>
    public OverlapPolicy Overlap { get; set; } = OverlapPolicy.Skip;

    /// <summary>
    /// Binds every schedule under <paramref name="schedulesSection"/> (<c>Actors:Schedules</c>) into
    /// <paramref name="schedules"/>, its <c>Payload</c> as <see cref="BindPayloads"/> reads it. The configuration binder
    /// cannot do this alone: it throws on an object section bound to the string <see cref="Payload"/> and, inside a
    /// dictionary, swallows that by leaving the whole schedule out, so each schedule is bound here without its payload.
    /// </summary>
    public static void Bind(IConfiguration schedulesSection, IDictionary<string, ScheduleOptions> schedules)
    {
        ArgumentNullException.ThrowIfNull(schedulesSection);
        ArgumentNullException.ThrowIfNull(schedules);
        foreach (var section in schedulesSection.GetChildren())
        {
            var withoutPayload = section.AsEnumerable(makePathsRelative: true)
                .Where(kv => !kv.Key.Equals(nameof(Payload), StringComparison.OrdinalIgnoreCase) && !kv.Key.StartsWith(nameof(Payload) + ":", StringComparison.OrdinalIgnoreCase));
            var schedule = schedules.TryGetValue(section.Key, out var bound) ? bound : new ScheduleOptions();
            new ConfigurationBuilder().AddInMemoryCollection(withoutPayload).Build().Bind(schedule);
            schedules[section.Key] = schedule;
        }
        BindPayloads(schedulesSection, schedules);
    }

    /// <summary>
    /// Reads <c>Payload</c> of each schedule under <paramref name="schedulesSection"/> (<c>Actors:Schedules</c>) into
    /// JSON text: a plain value is used as JSON text when it parses as JSON, otherwise as a JSON string; an object
    /// section becomes a JSON object (children named 0, 1, … an array), its values numbers, booleans or null when they
    /// read as such and strings otherwise. The binder cannot do this itself: configuration holds only strings.
    /// </summary>
    public static void BindPayloads(IConfiguration schedulesSection, IDictionary<string, ScheduleOptions> schedules)
    {
        ArgumentNullException.ThrowIfNull(schedulesSection);
        ArgumentNullException.ThrowIfNull(schedules);
        foreach (var (id, schedule) in schedules)
        {
            var payload = schedulesSection.GetSection(id).GetSection(nameof(Payload));
            if (!payload.Exists()) continue;
            schedule.Payload = payload.GetChildren().Any() ? ToJson(payload)?.ToJsonString() ?? "null" : AsJsonText(payload.Value ?? "null");
        }
    }

    private static string AsJsonText(string text)
    {
        try
        {
            return JsonNode.Parse(text) is { } node ? node.ToJsonString() : "null";
        }
        catch (System.Text.Json.JsonException)
        {
            return JsonValue.Create(text).ToJsonString();
        }
    }

    private static JsonNode? ToJson(IConfigurationSection section)
    {
        var children = section.GetChildren().ToList();
        if (children.Count == 0) return Scalar(section.Value);
        if (children.All(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            return new JsonArray(children.OrderBy(c => int.Parse(c.Key, CultureInfo.InvariantCulture)).Select(ToJson).ToArray());
        var obj = new JsonObject();
        foreach (var child in children) obj[child.Key] = ToJson(child);
        return obj;
    }

    private static JsonValue? Scalar(string? value)
    {
        if (value is null || value == "null") return null;
        if (value is "true" or "false") return JsonValue.Create(value == "true");
        if (value.Length > 0 && (char.IsAsciiDigit(value[0]) || value[0] == '-'))
        {
            try
            {
                if (JsonNode.Parse(value) is JsonValue number) return number;
            }
            catch (System.Text.Json.JsonException)
            {
                // Not a JSON number ("2026-01-01"): a string.
            }
        }
        return JsonValue.Create(value);
    }
}

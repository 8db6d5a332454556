using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml;
using Actors.Client;
using Actors.Http.Security;
using Actors.Schedules;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Actors.Http;

/// <summary>
/// The schedules API: <c>PUT /schedules/{id}</c> (idempotent upsert), <c>GET /schedules</c>, <c>GET /schedules/{id}</c>,
/// <c>DELETE /schedules/{id}</c>, <c>POST /schedules/{id}/pause|resume|trigger</c>. Errors are problem details
/// (<see cref="Problems"/>): 400 for a bad definition (an invalid cron carries Cronos's message), 404 for an unknown
/// queue or schedule, 503 when the schedule does not answer.
/// </summary>
public static class ScheduleEndpoints
{
    private static readonly JsonNamingPolicy Camel = JsonNamingPolicy.CamelCase;

    /// <summary>Maps every route of the schedules API onto <paramref name="app"/>.</summary>
    public static IEndpointRouteBuilder MapScheduleEndpoints(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var schedules = app.MapGroup("/schedules").WithTags("Schedules");
        schedules.MapGet("", ListAsync).WithName("ListSchedules").WithSummary("Every schedule with its next occurrences and counters").RequirePermission(ActorsPolicies.ReadAll);
        schedules.MapGet("/{id}", GetAsync).WithName("GetSchedule").WithSummary("Next 5 occurrences, last fires with their message ids, missed and skipped counts").RequirePermission(ActorsPolicies.ReadSchedule);
        schedules.MapPut("/{id}", PutAsync).WithName("PutSchedule").WithSummary("Create or replace a schedule (idempotent)").Accepts<ScheduleBody>("application/json").RequirePermission(ActorsPolicies.ManageSchedule);
        schedules.MapDelete("/{id}", DeleteAsync).WithName("DeleteSchedule").WithSummary("Delete a schedule").RequirePermission(ActorsPolicies.ManageSchedule);
        schedules.MapPost("/{id}/pause", PauseAsync).WithName("PauseSchedule").WithSummary("Stop firing until resumed (occurrences meanwhile are counted as skipped)").RequirePermission(ActorsPolicies.ManageSchedule);
        schedules.MapPost("/{id}/resume", ResumeAsync).WithName("ResumeSchedule").WithSummary("Fire again from the next occurrence").RequirePermission(ActorsPolicies.ManageSchedule);
        schedules.MapPost("/{id}/trigger", TriggerAsync).WithName("TriggerSchedule").WithSummary("Fire once now; 202 once the message is stored").RequirePermission(ActorsPolicies.ManageSchedule);
        return app;
    }

    /// <summary>The body of <c>PUT /schedules/{id}</c> (documentation only: parsed by hand so the payload stays as sent).</summary>
    /// <param name="Cron">5 fields, or 6 with seconds; or use <paramref name="Every"/>.</param>
    /// <param name="Every">An ISO 8601 duration such as <c>PT10S</c> (at least 1 s).</param>
    /// <param name="TimeZone">IANA id; default UTC.</param>
    /// <param name="Queue">The target queue.</param>
    /// <param name="Type">The message type.</param>
    /// <param name="Payload">Any JSON value.</param>
    /// <param name="Headers">String headers.</param>
    /// <param name="StartAt">No occurrence before.</param>
    /// <param name="EndAt">No occurrence after.</param>
    /// <param name="Paused">Pause or resume with this definition.</param>
    /// <param name="Misfire"><c>fireOnce</c> (default), <c>fireAll</c> or <c>skip</c>.</param>
    /// <param name="MaxCatchup">Default 100.</param>
    /// <param name="CatchupWindow">ISO 8601 duration; default PT24H.</param>
    /// <param name="Overlap"><c>skip</c> (default), <c>bufferOne</c> or <c>allow</c>.</param>
    public sealed record ScheduleBody(string? Cron, string? Every, string? TimeZone, string Queue, string Type, JsonElement? Payload,
        Dictionary<string, string>? Headers, DateTimeOffset? StartAt, DateTimeOffset? EndAt, bool? Paused, string? Misfire, int? MaxCatchup,
        string? CatchupWindow, string? Overlap);

    private static async Task<IResult> PutAsync(string id, HttpRequest http, IScheduleClient client, CancellationToken cancellationToken)
    {
        if (InvalidId(id) is { } invalid) return invalid;
        using var request = await MessageRequestReader.ReadJsonAsync(http, cancellationToken).ConfigureAwait(false);
        if (request.Problem is { } problem) return problem;
        if (!TryRead(request.Document!.RootElement, out var spec, out var error)) return For(ScheduleErrorCode.InvalidSchedule, error);
        try
        {
            var upsert = await client.PutAsync(id, spec, cancellationToken).ConfigureAwait(false);
            var body = StatusJson(upsert.Status);
            body["created"] = upsert.Created;
            body["changed"] = upsert.Changed;
            return upsert.Created ? Results.Created($"/schedules/{id}", body) : Results.Json(body);
        }
        catch (ScheduleException e)
        {
            return For(e.Code, e.Message);
        }
    }

    private static Task<IResult> GetAsync(string id, IScheduleClient client, CancellationToken cancellationToken) =>
        StatusOr404(id, () => client.GetAsync(id, 5, cancellationToken));

    private static Task<IResult> PauseAsync(string id, IScheduleClient client, CancellationToken cancellationToken) =>
        StatusOr404(id, () => client.PauseAsync(id, cancellationToken));

    private static Task<IResult> ResumeAsync(string id, IScheduleClient client, CancellationToken cancellationToken) =>
        StatusOr404(id, () => client.ResumeAsync(id, cancellationToken));

    private static async Task<IResult> ListAsync(IScheduleClient client, CancellationToken cancellationToken)
    {
        try
        {
            var all = await client.ListAsync(cancellationToken).ConfigureAwait(false);
            return Results.Json(new JsonObject { ["schedules"] = new JsonArray(all.Select(s => (JsonNode?)StatusJson(s)).ToArray()) });
        }
        catch (ScheduleException e)
        {
            return For(e.Code, e.Message);
        }
    }

    private static async Task<IResult> DeleteAsync(string id, IScheduleClient client, CancellationToken cancellationToken)
    {
        if (InvalidId(id) is { } invalid) return invalid;
        try
        {
            return await client.DeleteAsync(id, cancellationToken).ConfigureAwait(false) ? Results.NoContent() : NotFound(id);
        }
        catch (ScheduleException e)
        {
            return For(e.Code, e.Message);
        }
    }

    private static async Task<IResult> TriggerAsync(string id, IScheduleClient client, CancellationToken cancellationToken)
    {
        if (InvalidId(id) is { } invalid) return invalid;
        try
        {
            var triggered = await client.TriggerAsync(id, cancellationToken).ConfigureAwait(false);
            return triggered is null
                ? NotFound(id)
                : Results.Accepted($"/queues/{triggered.Queue}/messages/{triggered.MessageId}",
                    new { schedule = id, at = triggered.At, queue = triggered.Queue, messageId = triggered.MessageId });
        }
        catch (ScheduleException e)
        {
            return For(e.Code, e.Message);
        }
    }

    private static async Task<IResult> StatusOr404(string id, Func<Task<ScheduleStatus?>> call)
    {
        if (InvalidId(id) is { } invalid) return invalid;
        try
        {
            return await call().ConfigureAwait(false) is { } status ? Results.Json(StatusJson(status)) : NotFound(id);
        }
        catch (ScheduleException e)
        {
            return For(e.Code, e.Message);
        }
    }

    private static IResult? InvalidId(string id) =>
        Names.IsValidQueueName(id) ? null : For(ScheduleErrorCode.InvalidScheduleId, $"Schedule id '{id}' is invalid: {Names.QueueNameRule}.");

    private static IResult NotFound(string id) => For(ScheduleErrorCode.NotFound, $"There is no schedule '{id}'.");

    /// <summary>The problem for a schedule refusal: 400 for bad input, 404 for an unknown queue or schedule, 503 when unavailable.</summary>
    public static IResult For(ScheduleErrorCode code, string detail)
    {
        var (status, slug, title) = code switch
        {
            ScheduleErrorCode.InvalidCron => (StatusCodes.Status400BadRequest, "invalid-cron", "Invalid cron expression"),
            ScheduleErrorCode.UnknownTimeZone => (StatusCodes.Status400BadRequest, "unknown-time-zone", "Unknown time zone"),
            ScheduleErrorCode.IntervalTooShort => (StatusCodes.Status400BadRequest, "interval-too-short", "Interval too short"),
            ScheduleErrorCode.CronOrEvery => (StatusCodes.Status400BadRequest, "cron-or-every", "Give cron or every"),
            ScheduleErrorCode.InvalidScheduleId => (StatusCodes.Status400BadRequest, "invalid-schedule-id", "Invalid schedule id"),
            ScheduleErrorCode.UnknownQueue => (StatusCodes.Status404NotFound, "unknown-queue", "Unknown queue"),
            ScheduleErrorCode.NotFound => (StatusCodes.Status404NotFound, "schedule-not-found", "Schedule not found"),
            ScheduleErrorCode.Unavailable => (StatusCodes.Status503ServiceUnavailable, "schedule-unavailable", "Schedule unavailable"),
            _ => (StatusCodes.Status400BadRequest, "invalid-schedule", "Invalid schedule"),
        };
        return Problems.Create(status, slug, title, detail, code.ToString());
    }

    private static readonly HashSet<string> Fields = new(StringComparer.OrdinalIgnoreCase)
    {
        "cron", "every", "timeZone", "queue", "type", "payload", "headers", "startAt", "endAt", "paused", "misfire", "maxCatchup", "catchupWindow", "overlap",
    };

    /// <summary>Reads the JSON shape into options; names are case-insensitive and unknown names are refused (a typo would silently change nothing).</summary>
    internal static bool TryRead(JsonElement root, out ScheduleOptions spec, out string error)
    {
        spec = new ScheduleOptions();
        error = "";
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = "A schedule is a JSON object: {\"cron\": \"0 2 * * *\", \"queue\": \"...\", \"type\": \"...\", \"payload\": ...}.";
            return false;
        }
        // A lone surrogate escape (valid JSON, not Unicode) anywhere: refused before a name or value is read as text.
        if (!MessageRequestReader.IsWellFormedText(root))
        {
            error = "The schedule holds a name or string that is not valid Unicode (a lone surrogate escape such as \\ud800).";
            return false;
        }
        foreach (var property in root.EnumerateObject())
        {
            var name = property.Name;
            var value = property.Value;
            if (!Fields.Contains(name))
            {
                error = $"Unknown field \"{name}\"; the fields are {string.Join(", ", Fields)}.";
                return false;
            }
            if (value.ValueKind == JsonValueKind.Null && !name.Equals("payload", StringComparison.OrdinalIgnoreCase)) continue;
            switch (name.ToUpperInvariant())
            {
                case "PAYLOAD":
                    spec.Payload = value.GetRawText();
                    continue;
                case "HEADERS":
                    if (value.ValueKind != JsonValueKind.Object || value.EnumerateObject().Any(h => h.Value.ValueKind != JsonValueKind.String))
                    {
                        error = "\"headers\" must be an object of strings.";
                        return false;
                    }
                    // A name given twice keeps its last value, as a message's headers do (ToDictionary threw: a 500).
                    var headers = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach (var header in value.EnumerateObject()) headers[header.Name] = header.Value.GetString()!;
                    spec.Headers = headers;
                    continue;
                case "PAUSED":
                    if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        error = "\"paused\" must be true or false.";
                        return false;
                    }
                    spec.Paused = value.GetBoolean();
                    continue;
                case "MAXCATCHUP":
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var max))
                    {
                        error = "\"maxCatchup\" must be a whole number.";
                        return false;
                    }
                    spec.MaxCatchup = max;
                    continue;
            }
            if (value.ValueKind != JsonValueKind.String)
            {
                error = $"\"{name}\" must be a string.";
                return false;
            }
            var text = value.GetString()!;
            switch (name.ToUpperInvariant())
            {
                case "CRON": spec.Cron = text; break;
                case "EVERY": spec.Every = text; break;
                case "TIMEZONE": spec.TimeZone = text; break;
                case "QUEUE": spec.Queue = text; break;
                case "TYPE": spec.Type = text; break;
                case "CATCHUPWINDOW": spec.CatchupWindow = text; break;
                case "STARTAT" or "ENDAT":
                    if (!DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var instant))
                    {
                        error = $"\"{name}\" must be an ISO 8601 date and time.";
                        return false;
                    }
                    if (name.Equals("startAt", StringComparison.OrdinalIgnoreCase)) spec.StartAt = instant;
                    else spec.EndAt = instant;
                    break;
                case "MISFIRE":
                    if (!Enum.TryParse<MisfirePolicy>(text, ignoreCase: true, out var misfire) || !Enum.IsDefined(misfire) || int.TryParse(text, out _))
                    {
                        error = "\"misfire\" must be fireOnce, fireAll or skip.";
                        return false;
                    }
                    spec.Misfire = misfire;
                    break;
                case "OVERLAP":
                    if (!Enum.TryParse<OverlapPolicy>(text, ignoreCase: true, out var overlap) || !Enum.IsDefined(overlap) || int.TryParse(text, out _))
                    {
                        error = "\"overlap\" must be skip, bufferOne or allow.";
                        return false;
                    }
                    spec.Overlap = overlap;
                    break;
            }
        }
        return true;
    }

    /// <summary>A schedule's status as JSON: its definition in the shape it was declared in, then next occurrences, fires and counters.</summary>
    internal static JsonObject StatusJson(ScheduleStatus status)
    {
        var d = status.Definition;
        return new JsonObject
        {
            ["id"] = status.ScheduleId,
            ["cron"] = d.Cron,
            ["every"] = d.Every is { } every ? XmlConvert.ToString(every) : null,
            ["timeZone"] = d.TimeZone,
            ["queue"] = d.Queue,
            ["type"] = d.Type,
            ["payload"] = Embed(d.Payload),
            ["headers"] = d.Headers is null ? null : new JsonObject(d.Headers.Select(h => KeyValuePair.Create(h.Key, (JsonNode?)h.Value))),
            ["startAt"] = d.StartAt,
            ["endAt"] = d.EndAt,
            ["paused"] = status.Paused,
            ["misfire"] = Camel.ConvertName(d.Misfire.ToString()),
            ["maxCatchup"] = d.MaxCatchup,
            ["catchupWindow"] = XmlConvert.ToString(d.CatchupWindow),
            ["overlap"] = Camel.ConvertName(d.Overlap.ToString()),
            ["next"] = new JsonArray(status.Next.Select(n => (JsonNode?)n).ToArray()),
            ["lastFires"] = new JsonArray(status.LastFires.Select(f => (JsonNode?)new JsonObject
            {
                ["occurrence"] = f.Occurrence,
                ["messageId"] = f.MessageId,
                ["firedAt"] = f.FiredAt,
                ["manual"] = f.Manual,
                ["replayed"] = f.Replayed,
            }).ToArray()),
            ["fired"] = status.Fired,
            ["missed"] = status.Missed,
            ["skipped"] = new JsonObject
            {
                ["total"] = status.SkippedTotal,
                ["byReason"] = new JsonObject(status.Skipped.Select(s => KeyValuePair.Create(s.Key, (JsonNode?)s.Value))),
            },
            ["countsAreLowerBounds"] = status.CountsAreLowerBounds,
            ["buffered"] = status.Buffered,
            ["pending"] = new JsonArray(status.Pending.Select(p => (JsonNode?)p).ToArray()),
            ["lastError"] = status.LastError,
        };
    }

    private static JsonNode? Embed(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            return JsonNode.Parse(bytes.Span);
        }
        catch (JsonException)
        {
            return new JsonObject { ["base64"] = Convert.ToBase64String(bytes.Span) };
        }
    }
}

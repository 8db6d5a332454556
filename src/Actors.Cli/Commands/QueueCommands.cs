using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Actors.Cli.Commands;

/// <summary><c>queues</c>, <c>stats</c>, <c>enqueue</c> and <c>get</c>: queue statistics and single messages.</summary>
internal static class QueueCommands
{
    private static readonly string[] QueueHeaders = ["QUEUE", "DEPTH", "IN-FLIGHT", "SCHEDULED", "DEAD", "ENQUEUED", "SUCCEEDED", "IN/S", "OUT/S", "WAIT-MS", "SERVICE-MS", "WORKERS"];

    /// <summary>The four commands.</summary>
    public static IEnumerable<Command> Create(Session session)
    {
        var queues = new Command("queues", "Every queue with its depth, in-flight, scheduled and dead counts, totals, rates and times");
        session.Handle(queues, async run =>
        {
            var json = await run.Api.GetAsync("queues", run.Cancellation).ConfigureAwait(false);
            if (run.Json) Output.Json(run.Out, json);
            else Output.Table(run.Out, QueueHeaders, (json["queues"]?.AsArray() ?? []).Select(q => QueueRow(q!)));
        });
        yield return queues;

        yield return Stats(session);
        yield return Enqueue(session);

        var getQueue = new Argument<string>("queue") { Description = "The queue" };
        var getId = new Argument<long?>("id") { Description = "The message id (or give --idempotency-key)", Arity = ArgumentArity.ZeroOrOne };
        var getKey = new Option<string?>("--idempotency-key") { Description = "Find the message by the idempotency key it was enqueued with (while the queue remembers the key)" };
        var get = new Command("get", "A message: status, attempts, errors, payload and result") { getQueue, getId, getKey };
        session.Handle(get, async run =>
        {
            var path = (run.Value(getId), run.Value(getKey)) switch
            {
                ({ } id, null) => $"{Paths.Queue(run.Value(getQueue))}/messages/{id}",
                (null, { } key) => $"{Paths.Queue(run.Value(getQueue))}/messages{Paths.Query(("idempotencyKey", key))}",
                _ => throw new CliException(ExitCodes.Usage, "give a message id or --idempotency-key, not both"),
            };
            var json = await run.Api.GetAsync(path, run.Cancellation).ConfigureAwait(false);
            if (run.Json) Output.Json(run.Out, json);
            else WriteMessage(run.Out, json);
        });
        yield return get;
    }

    private static Command Stats(Session session)
    {
        var queue = new Argument<string>("queue") { Description = "The queue" };
        var watch = new Option<bool>("--watch", "-w") { Description = "Refresh every second until Ctrl-C (with --json: one JSON line a second)" };
        var stats = new Command("stats", "One queue's statistics: counts, rates, wait and service time, Little's Law, workers, limits, keys") { queue, watch };
        session.Handle(stats, async run =>
        {
            var path = Paths.Queue(run.Value(queue));
            if (!run.Value(watch))
            {
                var json = await run.Api.GetAsync(path, run.Cancellation).ConfigureAwait(false);
                if (run.Json) Output.Json(run.Out, json);
                else Output.Fields(run.Out, StatsFields(json));
                return;
            }
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            try
            {
                await WatchAsync(run, path, queue, timer).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (run.Cancellation.IsCancellationRequested)
            {
                // Ctrl-C is how a watch ends.
            }
        });
        return stats;
    }

    private static async Task WatchAsync(Invocation run, string path, Argument<string> queue, PeriodicTimer timer)
    {
        do
        {
            var json = await run.Api.GetAsync(path, run.Cancellation).ConfigureAwait(false);
            if (run.Json)
            {
                Output.JsonLine(run.Out, json);
            }
            else
            {
                // A terminal is redrawn in place; redirected output gets one block a second, each stamped.
                run.Out.Write(run.Interactive ? "\u001b[H\u001b[2J" : Environment.NewLine);
                run.Out.WriteLine($"{run.Value(queue)} at {DateTime.UtcNow:HH:mm:ss}Z (Ctrl-C to stop)");
                Output.Fields(run.Out, StatsFields(json));
            }
            await run.Out.FlushAsync(run.Cancellation).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(run.Cancellation).ConfigureAwait(false));
    }

    private static Command Enqueue(Session session)
    {
        var queue = new Argument<string>("queue") { Description = "The queue" };
        var type = new Argument<string>("type") { Description = "The message type (selects the handler)" };
        var payload = new Argument<string?>("payload") { Description = "The payload: JSON text, @file to read it from a file, or - for standard input; none: null", Arity = ArgumentArity.ZeroOrOne };
        var key = new Option<string?>("--key") { Description = "An ordering key: messages with the same key run one at a time, in order" };
        var priority = new Option<int?>("--priority") { Description = "0–9, higher starts first (default 0)" };
        var idempotency = new Option<string?>("--idempotency-key") { Description = "The same key and request again answers with the first message" };
        var delay = new Option<string?>("--delay") { Description = "Not before this long from now: 30s, 5m, 2h, 1d, a number of seconds, or an ISO 8601 duration (PT10M)" };
        var enqueue = new Command("enqueue", "Store a message; prints its id and status once it is on disk") { queue, type, payload, key, priority, idempotency, delay };
        session.Handle(enqueue, async run =>
        {
            var body = new JsonObject
            {
                ["type"] = run.Value(type),
                ["payload"] = await ReadPayloadAsync(run.Value(payload), run.In, run.Cancellation).ConfigureAwait(false),
            };
            if (run.Value(key) is { } k) body["key"] = k;
            if (run.Value(priority) is { } p) body["priority"] = p;
            if (run.Value(idempotency) is { } i) body["idempotencyKey"] = i;
            if (run.Value(delay) is { } d) body["delay"] = Delay(d);
            var (status, json) = await run.Api.SendAsync(HttpMethod.Post, $"{Paths.Queue(run.Value(queue))}/messages", body, run.Cancellation).ConfigureAwait(false);
            if (run.Json)
            {
                Output.Json(run.Out, json);
                return;
            }
            var replayed = status == 200 ? " (idempotent replay of the first request)" : "";
            run.Out.WriteLine($"{Output.Cell(json?["id"])} {Output.Cell(json?["status"])}{replayed}");
        });
        return enqueue;
    }

    /// <summary>The payload argument as JSON: literal text, <c>@file</c>, <c>-</c> for standard input, or null.</summary>
    internal static async Task<JsonNode?> ReadPayloadAsync(string? argument, TextReader input, CancellationToken cancellationToken)
    {
        if (argument is null) return null;
        string text, from;
        if (argument == "-")
        {
            text = await input.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            from = "standard input";
        }
        else if (argument.StartsWith('@'))
        {
            var file = argument[1..];
            try
            {
                text = await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException(ExitCodes.Usage, $"cannot read the payload file '{file}': {e.Message}");
            }
            from = $"file '{file}'";
        }
        else
        {
            text = argument;
            from = "argument";
        }
        try
        {
            return JsonNode.Parse(text) ?? JsonValue.Create((string?)null);
        }
        catch (JsonException e)
        {
            throw new CliException(ExitCodes.Usage, $"the payload ({from}) is not JSON: {e.Message} (a string payload needs its quotes: '\"text\"')");
        }
    }

    /// <summary>A delay as the API takes it: <c>30s</c>, <c>5m</c>, <c>2h</c>, <c>1d</c>, <c>500ms</c> become seconds; seconds and ISO 8601 durations pass as given.</summary>
    internal static JsonNode Delay(string text)
    {
        var value = text.Trim();
        if (value.StartsWith('P') || value.StartsWith('p')) return value.ToUpperInvariant();
        var (number, scale) = value switch
        {
            _ when value.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (value[..^2], 0.001),
            _ when value.EndsWith('s') => (value[..^1], 1.0),
            _ when value.EndsWith('m') => (value[..^1], 60.0),
            _ when value.EndsWith('h') => (value[..^1], 3600.0),
            _ when value.EndsWith('d') => (value[..^1], 86400.0),
            _ => (value, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount < 0)
            throw new CliException(ExitCodes.Usage, $"--delay '{text}' is not a duration: use 30s, 5m, 2h, 1d, a number of seconds or an ISO 8601 duration (PT10M)");
        return JsonValue.Create(Math.Round(amount * scale, 3));
    }

    private static string[] QueueRow(JsonNode q)
    {
        var totals = q["totals"];
        return
        [
            Output.Cell(q["queue"]), Output.Cell(q["depth"]), Output.Cell(q["inFlight"]), Output.Cell(q["scheduled"]), Output.Cell(q["deadLettered"]),
            Output.Cell(totals?["enqueued"]), Output.Cell(totals?["succeeded"]), Output.Cell(q["arrivalRate"]), Output.Cell(q["completionRate"]),
            Output.Cell(q["meanWaitMs"]), Output.Cell(q["meanServiceMs"]), Output.Cell(q["workers"]),
        ];
    }

    private static IEnumerable<(string, string)> StatsFields(JsonNode s)
    {
        var totals = s["totals"];
        var little = s["littlesLaw"];
        yield return ("queue", Output.Cell(s["queue"]));
        yield return ("accepting work", Output.Cell(s["acceptingWork"]));
        yield return ("deliveries", PauseCommands.Describe(s["pause"]));
        yield return ("depth", Output.Cell(s["depth"]));
        yield return ("in flight", Output.Cell(s["inFlight"]));
        yield return ("scheduled", Output.Cell(s["scheduled"]));
        yield return ("dead-lettered", Output.Cell(s["deadLettered"]));
        yield return ("next due", Output.Time(s["nextDueAt"]));
        yield return ("oldest message age ms", Output.Cell(s["oldestMessageAgeMs"]));
        yield return ("totals", string.Join(", ", (totals?.AsObject() ?? []).Select(t => $"{t.Key} {Output.Cell(t.Value)}")));
        yield return ("arrival rate /s", Output.Cell(s["arrivalRate"]));
        yield return ("completion rate /s", Output.Cell(s["completionRate"]));
        yield return ("mean wait ms", Output.Cell(s["meanWaitMs"]));
        yield return ("mean service ms", Output.Cell(s["meanServiceMs"]));
        yield return ("Little's Law waiting", $"{Output.Cell(little?["waitingPredicted"])} predicted, {Output.Cell(little?["waitingMeasured"])} measured");
        yield return ("Little's Law in system", $"{Output.Cell(little?["inSystemPredicted"])} predicted, {Output.Cell(little?["inSystemMeasured"])} measured");
        yield return ("workers", $"{Output.Cell(s["workers"])} (utilization {Output.Cell(s["utilization"])}, suggested {Output.Cell(s["suggestedWorkers"])})");
        if (s["keys"] is JsonObject keys)
            yield return ("keys", $"{Output.Cell(keys["activeKeys"])} active, {Output.Cell(keys["parkedKeys"])} parked, oldest blocked {Output.Cell(keys["oldestBlockedAgeMs"])} ms");
        if (s["limits"] is JsonObject limits) yield return ("limits", limits.ToJsonString());
        if (s["redriveJobs"] is JsonArray { Count: > 0 } jobs)
            yield return ("redrive jobs", string.Join("; ", jobs.Select(j => $"{Output.Cell(j!["id"])} {Output.Cell(j["redriven"])}/{Output.Cell(j["total"])}")));
    }

    private static void WriteMessage(TextWriter writer, JsonNode m)
    {
        var errors = m["errors"]?.AsArray() ?? [];
        var fields = new List<(string, string)>
        {
            ("id", Output.Cell(m["id"])),
            ("queue", Output.Cell(m["queue"])),
            ("type", Output.Cell(m["type"])),
            ("status", Output.Cell(m["status"])),
            ("attempts", Output.Cell(m["attempts"])),
            ("enqueued", Output.Time(m["enqueuedAt"])),
        };
        if (m["dueAt"] is not null) fields.Add(("due", Output.Time(m["dueAt"])));
        else if (m["nextAttemptAt"] is not null) fields.Add(("next attempt", Output.Time(m["nextAttemptAt"])));
        if (m["finishedAt"] is not null) fields.Add(("finished", Output.Time(m["finishedAt"])));
        if (m["headers"] is JsonObject { Count: > 0 } headers)
            fields.Add(("headers", string.Join(", ", headers.Select(h => $"{h.Key}={Output.Cell(h.Value)}"))));
        fields.Add(("payload", Output.Short(m["payload"]?.ToJsonString() ?? "null", 200)));
        if (m["result"] is { } result) fields.Add(("result", Output.Short(result.ToJsonString(), 200)));
        if (m["followUp"] is JsonObject followUp)
            fields.Add(("follow-up", $"{Output.Cell(followUp["on"])} → {Output.Cell(followUp["queue"])}/{Output.Cell(followUp["id"])}{(followUp["error"] is { } e ? " error: " + Output.Cell(e) : "")}"));
        Output.Fields(writer, fields);
        foreach (var error in errors)
            writer.WriteLine($"  error at {Output.Time(error?["at"])}: {Output.Cell(error?["type"])}: {Output.Short(Output.Cell(error?["message"]), 300)}");
    }
}

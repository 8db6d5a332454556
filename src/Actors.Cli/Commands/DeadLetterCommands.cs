using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Actors.Cli.Commands;

/// <summary><c>dlq list|groups|redrive|purge</c>: the dead letters of a queue, selected by type, error, fingerprint, time or id.</summary>
internal static class DeadLetterCommands
{
    /// <summary>The <c>dlq</c> command and its subcommands.</summary>
    public static Command Create(Session session)
    {
        var dlq = new Command("dlq", "Dead letters: list, group by failure, redrive, purge");
        dlq.Add(List(session));
        dlq.Add(Groups(session));
        dlq.Add(Redrive(session));
        dlq.Add(Purge(session));
        return dlq;
    }

    /// <summary>The selection options every subcommand but <c>groups</c> takes.</summary>
    private sealed class Filter
    {
        public Option<string?> Type { get; } = new("--type") { Description = "Only this message type" };
        public Option<string?> ErrorType { get; } = new("--error-type") { Description = "Only this exception type (its full name)" };
        public Option<string?> Fingerprint { get; } = new("--fingerprint") { Description = "Only this failure fingerprint (see dlq groups)" };
        public Option<string?> Since { get; } = new("--since") { Description = "Dead-lettered at or after this time (ISO 8601)" };
        public Option<string?> Until { get; } = new("--until") { Description = "Dead-lettered before this time (ISO 8601)" };

        public void AddTo(Command command)
        {
            command.Add(Type);
            command.Add(ErrorType);
            command.Add(Fingerprint);
            command.Add(Since);
            command.Add(Until);
        }

        public bool Any(Invocation run) =>
            run.Value(Type) is not null || run.Value(ErrorType) is not null || run.Value(Fingerprint) is not null || run.Value(Since) is not null || run.Value(Until) is not null;

        public (string, string?)[] Query(Invocation run) =>
        [
            ("type", run.Value(Type)), ("errorType", run.Value(ErrorType)), ("fingerprint", run.Value(Fingerprint)),
            ("since", Time(run.Value(Since), "--since")), ("until", Time(run.Value(Until), "--until")),
        ];

        public JsonObject Body(Invocation run, long[] ids)
        {
            var body = new JsonObject();
            foreach (var (name, value) in Query(run))
                if (value is not null) body[name] = value;
            if (ids.Length > 0) body["ids"] = new JsonArray(ids.Select(i => (JsonNode?)i).ToArray());
            return body;
        }
    }

    private static Option<string[]> Ids() => new("--ids") { Description = "Only these message ids (comma-separated, or the option repeated)", AllowMultipleArgumentsPerToken = true };

    private static Argument<string> Queue() => new("queue") { Description = "The queue" };

    private static Command List(Session session)
    {
        var queue = Queue();
        var filter = new Filter();
        var after = new Option<long?>("--after") { Description = "Only ids after this one (the next page)" };
        var limit = new Option<int?>("--limit") { Description = "At most this many (default 100, at most 1000)" };
        var list = new Command("list", "Dead letters in id order, with their last error") { queue, after, limit };
        filter.AddTo(list);
        session.Handle(list, async run =>
        {
            var query = Paths.Query([.. filter.Query(run), ("after", run.Value(after)?.ToString(CultureInfo.InvariantCulture)), ("limit", run.Value(limit)?.ToString(CultureInfo.InvariantCulture))]);
            var json = await run.Api.GetAsync($"{Paths.Queue(run.Value(queue))}/dead-letters{query}", run.Cancellation).ConfigureAwait(false);
            if (run.Json)
            {
                Output.Json(run.Out, json);
                return;
            }
            var items = json["items"]?.AsArray() ?? [];
            Output.Table(run.Out, ["ID", "TYPE", "ATTEMPTS", "DEAD-LETTERED", "ERROR-TYPE", "ERROR", "FINGERPRINT"], items.Select(d => (IReadOnlyList<string>)
            [
                Output.Cell(d!["id"]), Output.Cell(d["type"]), Output.Cell(d["attempts"]), Output.Time(d["deadLetteredAt"]),
                Output.Cell(d["lastError"]?["type"]), Output.Short(Output.Cell(d["lastError"]?["message"] ?? d["reason"]), 60), Output.Cell(d["fingerprint"]),
            ]));
            var next = items.Count > 0 && json["next"] is not null ? $"; more with --after {Output.Cell(items[^1]!["id"])}" : "";
            run.Out.WriteLine($"{items.Count} of {Output.Cell(json["total"])} dead letters{next}");
        });
        return list;
    }

    private static Command Groups(Session session)
    {
        var queue = Queue();
        var groups = new Command("groups", "Dead letters grouped by failure fingerprint, largest first") { queue };
        session.Handle(groups, async run =>
        {
            var json = await run.Api.GetAsync($"{Paths.Queue(run.Value(queue))}/dead-letters/groups", run.Cancellation).ConfigureAwait(false);
            if (run.Json)
            {
                Output.Json(run.Out, json);
                return;
            }
            Output.Table(run.Out, ["FINGERPRINT", "COUNT", "ERROR-TYPE", "TYPES", "FIRST", "LAST", "SAMPLE"], (json["groups"]?.AsArray() ?? []).Select(g => (IReadOnlyList<string>)
            [
                Output.Cell(g!["fingerprint"]), Output.Cell(g["count"]), Output.Cell(g["errorType"]), Output.Cell(g["types"]),
                Output.Time(g["firstAt"]), Output.Time(g["lastAt"]), Output.Short(Output.Cell(g["sample"]), 60),
            ]));
        });
        return groups;
    }

    private static Command Redrive(Session session)
    {
        var queue = Queue();
        var filter = new Filter();
        var ids = Ids();
        var redrive = new Command("redrive", "Put the selected dead letters (none selected: all) back in the queue with fresh attempts") { queue, ids };
        filter.AddTo(redrive);
        session.Handle(redrive, async run =>
        {
            var body = filter.Body(run, ParseIds(run.Value(ids)));
            var (status, json) = await run.Api.SendAsync(HttpMethod.Post, $"{Paths.Queue(run.Value(queue))}/dead-letters/redrive", body, run.Cancellation).ConfigureAwait(false);
            if (run.Json)
            {
                Output.Json(run.Out, json);
                return;
            }
            run.Out.WriteLine($"redriven {Output.Cell(json?["redriven"])}");
            if (status == 202 && json?["job"] is JsonObject job)
                run.Out.WriteLine($"job {Output.Cell(job["id"])} redrives the rest: {Output.Cell(job["redriven"])} of {Output.Cell(job["total"])} so far (progress: actors stats {run.Value(queue)})");
        });
        return redrive;
    }

    private static Command Purge(Session session)
    {
        var queue = Queue();
        var filter = new Filter();
        var ids = Ids();
        var all = new Option<bool>("--all") { Description = "Delete every dead letter of the queue (required when nothing is selected)" };
        var purge = new Command("purge", "Delete the selected dead letters for good") { queue, ids, all };
        filter.AddTo(purge);
        session.Handle(purge, async run =>
        {
            var selected = ParseIds(run.Value(ids));
            if (selected.Length == 0 && !filter.Any(run) && !run.Value(all))
                throw new CliException(ExitCodes.Usage, "purge deletes dead letters for good: select them (--ids, --type, --error-type, --fingerprint, --since, --until) or pass --all");
            if (selected.Length > 0 && filter.Any(run))
                throw new CliException(ExitCodes.Usage, "purge takes either --ids or the other selections, not both");
            var path = $"{Paths.Queue(run.Value(queue))}/dead-letters";
            long purged = 0;
            var missing = new List<long>();
            if (selected.Length > 0)
            {
                foreach (var id in selected)
                {
                    try
                    {
                        await run.Api.SendAsync(HttpMethod.Delete, $"{path}/{id}", null, run.Cancellation).ConfigureAwait(false);
                        purged++;
                    }
                    catch (CliException e) when (e.ExitCode == ExitCodes.NotFound && e.Message.Contains("dead-letter-not-found", StringComparison.Ordinal))
                    {
                        missing.Add(id);
                    }
                }
            }
            else
            {
                var (_, json) = await run.Api.SendAsync(HttpMethod.Delete, path + Paths.Query(filter.Query(run)), null, run.Cancellation).ConfigureAwait(false);
                purged = json?["purged"]?.GetValue<long>() ?? 0;
            }
            if (run.Json) Output.Json(run.Out, new JsonObject { ["queue"] = run.Value(queue), ["purged"] = purged, ["notFound"] = new JsonArray(missing.Select(m => (JsonNode?)m).ToArray()) });
            else run.Out.WriteLine($"purged {purged}{(missing.Count > 0 ? $"; not dead letters: {string.Join(",", missing)}" : "")}");
        });
        return purge;
    }

    /// <summary>Ids from <c>--ids 1,2 --ids 3</c> or <c>--ids 1 2 3</c>.</summary>
    internal static long[] ParseIds(string[]? values)
    {
        if (values is null) return [];
        var ids = new List<long>();
        foreach (var part in values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                throw new CliException(ExitCodes.Usage, $"--ids takes message ids (whole numbers), got '{part}'");
            ids.Add(id);
        }
        return [.. ids];
    }

    /// <summary>A time option as ISO 8601 UTC, or a usage failure.</summary>
    private static string? Time(string? value, string option)
    {
        if (value is null) return null;
        if (!DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            throw new CliException(ExitCodes.Usage, $"{option} '{value}' is not a time: use ISO 8601, e.g. 2026-12-01T08:00:00Z");
        return at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
    }
}

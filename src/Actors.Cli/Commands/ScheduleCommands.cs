using System.CommandLine;
using System.Text.Json.Nodes;

namespace Actors.Cli.Commands;

/// <summary><c>schedules list|get|pause|resume|trigger|delete</c>: the node's recurring schedules.</summary>
internal static class ScheduleCommands
{
    /// <summary>The <c>schedules</c> command and its subcommands.</summary>
    public static Command Create(Session session)
    {
        var schedules = new Command("schedules", "Recurring schedules: list, inspect, pause, resume, fire now, delete");

        var list = new Command("list", "Every schedule with its next occurrence and counters");
        session.Handle(list, async run =>
        {
            var json = await run.Api.GetAsync("schedules", run.Cancellation).ConfigureAwait(false);
            if (run.Json)
            {
                Output.Json(run.Out, json);
                return;
            }
            Output.Table(run.Out, ["ID", "QUEUE", "TYPE", "WHEN", "PAUSED", "NEXT", "FIRED", "MISSED", "SKIPPED"], (json["schedules"]?.AsArray() ?? []).Select(s => (IReadOnlyList<string>)
            [
                Output.Cell(s!["id"]), Output.Cell(s["queue"]), Output.Cell(s["type"]), When(s), Output.Cell(s["paused"]),
                Output.Time(s["next"]?.AsArray().FirstOrDefault()), Output.Cell(s["fired"]), Output.Cell(s["missed"]), Output.Cell(s["skipped"]?["total"]),
            ]));
        });
        schedules.Add(list);

        schedules.Add(One(session, "get", "A schedule: definition, next 5 occurrences, last fires, counters", HttpMethod.Get, ""));
        schedules.Add(One(session, "pause", "Stop firing until resumed", HttpMethod.Post, "/pause"));
        schedules.Add(One(session, "resume", "Fire again from the next occurrence", HttpMethod.Post, "/resume"));

        var triggerId = Id();
        var trigger = new Command("trigger", "Fire once now; prints the message it stored") { triggerId };
        session.Handle(trigger, async run =>
        {
            var (_, json) = await run.Api.SendAsync(HttpMethod.Post, $"schedules/{Paths.Segment(run.Value(triggerId))}/trigger", null, run.Cancellation).ConfigureAwait(false);
            if (run.Json) Output.Json(run.Out, json);
            else run.Out.WriteLine($"fired: message {Output.Cell(json?["messageId"])} on queue {Output.Cell(json?["queue"])}");
        });
        schedules.Add(trigger);

        var deleteId = Id();
        var delete = new Command("delete", "Delete a schedule") { deleteId };
        session.Handle(delete, async run =>
        {
            var id = run.Value(deleteId);
            await run.Api.SendAsync(HttpMethod.Delete, $"schedules/{Paths.Segment(id)}", null, run.Cancellation).ConfigureAwait(false);
            if (run.Json) Output.Json(run.Out, new JsonObject { ["id"] = id, ["deleted"] = true });
            else run.Out.WriteLine($"deleted schedule {id}");
        });
        schedules.Add(delete);
        return schedules;
    }

    private static Argument<string> Id() => new("id") { Description = "The schedule id" };

    /// <summary>A subcommand that answers one schedule's status (get, pause, resume).</summary>
    private static Command One(Session session, string name, string description, HttpMethod method, string suffix)
    {
        var id = Id();
        var command = new Command(name, description) { id };
        session.Handle(command, async run =>
        {
            var (_, json) = await run.Api.SendAsync(method, $"schedules/{Paths.Segment(run.Value(id))}{suffix}", null, run.Cancellation).ConfigureAwait(false);
            if (run.Json) Output.Json(run.Out, json);
            else WriteSchedule(run.Out, json ?? new JsonObject());
        });
        return command;
    }

    private static string When(JsonNode s) =>
        s["cron"] is { } cron ? $"cron {Output.Cell(cron)} {Output.Cell(s["timeZone"])}" : $"every {Output.Cell(s["every"])}";

    private static void WriteSchedule(TextWriter writer, JsonNode s)
    {
        Output.Fields(writer,
        [
            ("id", Output.Cell(s["id"])),
            ("when", When(s)),
            ("target", $"{Output.Cell(s["queue"])} / {Output.Cell(s["type"])}"),
            ("paused", Output.Cell(s["paused"])),
            ("next", string.Join(", ", (s["next"]?.AsArray() ?? []).Select(Output.Time))),
            ("fired", Output.Cell(s["fired"])),
            ("missed", Output.Cell(s["missed"])),
            ("skipped", $"{Output.Cell(s["skipped"]?["total"])} {Output.Cell(s["skipped"]?["byReason"])}"),
            ("misfire / overlap", $"{Output.Cell(s["misfire"])} / {Output.Cell(s["overlap"])}"),
            ("last error", Output.Cell(s["lastError"])),
        ]);
        foreach (var fire in s["lastFires"]?.AsArray() ?? [])
            writer.WriteLine($"  fired {Output.Time(fire?["firedAt"])} for {Output.Time(fire?["occurrence"])}: message {Output.Cell(fire?["messageId"])}{(fire?["manual"]?.GetValue<bool>() == true ? " (manual)" : "")}");
    }
}

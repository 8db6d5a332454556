using System.CommandLine;
using System.Text.Json.Nodes;

namespace Actors.Cli.Commands;

/// <summary><c>pause &lt;queue&gt; [--reason]</c> and <c>resume &lt;queue&gt;</c>: stop and restart a queue's deliveries (intake stays open).</summary>
internal static class PauseCommands
{
    /// <summary>The two commands.</summary>
    public static IEnumerable<Command> Create(Session session)
    {
        var pauseQueue = new Argument<string>("queue") { Description = "The queue" };
        var reason = new Option<string?>("--reason") { Description = "Why, shown with the queue's statistics (at most 500 characters)" };
        var pause = new Command("pause", "Pause a queue: it keeps accepting messages and starts no deliveries until resumed; in-flight ones finish") { pauseQueue, reason };
        session.Handle(pause, async run =>
        {
            var body = run.Value(reason) is { } why ? new JsonObject { ["reason"] = why } : null;
            var (_, json) = await run.Api.SendAsync(HttpMethod.Post, $"{Paths.Queue(run.Value(pauseQueue))}/pause", body, run.Cancellation).ConfigureAwait(false);
            Write(run, json);
        });
        yield return pause;

        var resumeQueue = new Argument<string>("queue") { Description = "The queue" };
        var resume = new Command("resume", "Resume a paused queue: deliveries start again at once") { resumeQueue };
        session.Handle(resume, async run =>
        {
            var (_, json) = await run.Api.SendAsync(HttpMethod.Post, $"{Paths.Queue(run.Value(resumeQueue))}/resume", null, run.Cancellation).ConfigureAwait(false);
            Write(run, json);
        });
        yield return resume;
    }

    private static void Write(Invocation run, JsonNode? json)
    {
        if (run.Json) Output.Json(run.Out, json);
        else run.Out.WriteLine($"queue {Output.Cell(json?["queue"])} {Describe(json?["pause"])}");
    }

    /// <summary>A pause as people read it: <c>paused since … by … (reason)</c>, or <c>running</c>.</summary>
    internal static string Describe(JsonNode? pause) => pause is JsonObject p
        ? $"paused since {Output.Time(p["since"])}{(p["by"] is { } by ? " by " + Output.Cell(by) : "")}{(p["reason"] is { } why ? ": " + Output.Cell(why) : "")}"
        : "running";
}

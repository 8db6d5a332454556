using System.CommandLine;

namespace Actors.Cli.Commands;

/// <summary><c>keys release|skip|purge &lt;queue&gt; &lt;key&gt;</c>: answer an ordering key parked behind a dead letter.</summary>
internal static class KeyCommands
{
    /// <summary>The <c>keys</c> command and its subcommands.</summary>
    public static Command Create(Session session)
    {
        var keys = new Command("keys", "Answer a parked ordering key (exit 3 when the key is not parked)");
        keys.Add(Change(session, "release", "Run the key's dead letter again, ahead of the rest of the key"));
        keys.Add(Change(session, "skip", "Leave the key's message a dead letter and go on with the key"));
        keys.Add(Change(session, "purge", "Delete the key's dead letter and cancel every message of the key behind it"));
        return keys;
    }

    private static Command Change(Session session, string operation, string description)
    {
        var queue = new Argument<string>("queue") { Description = "The queue" };
        var key = new Argument<string>("key") { Description = "The ordering key" };
        var command = new Command(operation, description) { queue, key };
        session.Handle(command, async run =>
        {
            var (_, json) = await run.Api.SendAsync(HttpMethod.Post, $"{Paths.Queue(run.Value(queue))}/keys/{Paths.Segment(run.Value(key))}/{operation}", null, run.Cancellation).ConfigureAwait(false);
            if (run.Json) Output.Json(run.Out, json);
            else run.Out.WriteLine($"key {Output.Cell(json?["key"])} {Output.Cell(json?["status"])}: messages {Output.Cell(json?["messageIds"])}");
        });
        return command;
    }
}

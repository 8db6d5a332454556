using System.CommandLine;

namespace Actors.Cli.Commands;

/// <summary>
/// <c>purge &lt;queue&gt; --yes</c> (drop every message waiting for delivery) and <c>delete-queue &lt;queue&gt; --yes
/// [--if-unused] [--if-empty]</c> (delete a queue declared at run time): both lose messages for good, so both need
/// <c>--yes</c>, as <c>dlq purge</c> needs a selection or <c>--all</c>.
/// </summary>
internal static class QueueLifecycleCommands
{
    /// <summary>The two commands.</summary>
    public static IEnumerable<Command> Create(Session session)
    {
        var purgeQueue = new Argument<string>("queue") { Description = "The queue" };
        var purgeYes = new Option<bool>("--yes") { Description = "Confirm: the waiting messages are dropped for good" };
        var purge = new Command("purge", "Drop every message waiting for delivery (ready, delayed, retrying); in-flight deliveries and dead letters stay") { purgeQueue, purgeYes };
        session.Handle(purge, async run =>
        {
            var queue = run.Value(purgeQueue);
            if (!run.Value(purgeYes))
                throw new CliException(ExitCodes.Usage, $"purge drops every waiting message of '{queue}' for good: pass --yes to confirm");
            var (_, json) = await run.Api.SendAsync(HttpMethod.Post, $"{Paths.Queue(queue)}/purge", null, run.Cancellation).ConfigureAwait(false);
            if (run.Json) Output.Json(run.Out, json);
            else run.Out.WriteLine($"purged {Output.Cell(json?["purged"])} message(s) from {queue}");
        });
        yield return purge;

        var deleteQueue = new Argument<string>("queue") { Description = "The queue (declared at run time; a queue from configuration cannot be deleted)" };
        var deleteYes = new Option<bool>("--yes") { Description = "Confirm: the queue and every message it holds are deleted for good" };
        var ifUnused = new Option<bool>("--if-unused") { Description = "Refuse when consumers are attached" };
        var ifEmpty = new Option<bool>("--if-empty") { Description = "Refuse when the queue holds messages" };
        var delete = new Command("delete-queue", "Delete a queue declared at run time with every message it holds; its consumers are cancelled") { deleteQueue, deleteYes, ifUnused, ifEmpty };
        session.Handle(delete, async run =>
        {
            var queue = run.Value(deleteQueue);
            if (!run.Value(deleteYes))
                throw new CliException(ExitCodes.Usage, $"delete-queue deletes '{queue}' and every message it holds for good: pass --yes to confirm");
            var query = Paths.Query(("ifUnused", run.Value(ifUnused) ? "true" : null), ("ifEmpty", run.Value(ifEmpty) ? "true" : null));
            var (_, json) = await run.Api.SendAsync(HttpMethod.Delete, Paths.Queue(queue) + query, null, run.Cancellation).ConfigureAwait(false);
            if (run.Json) Output.Json(run.Out, json);
            else run.Out.WriteLine($"deleted {queue} ({Output.Cell(json?["messages"])} message(s))");
        });
        yield return delete;
    }
}

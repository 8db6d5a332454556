using System.CommandLine;
using System.Text.Json.Nodes;

namespace Actors.Cli.Commands;

/// <summary><c>cluster</c>: members, the leader, and where each queue lives.</summary>
internal static class ClusterCommands
{
    /// <summary>The <c>cluster</c> command.</summary>
    public static Command Create(Session session)
    {
        var cluster = new Command("cluster", "Members and their status, the leader, where each queue lives and its workers per node");
        session.Handle(cluster, async run =>
        {
            var json = await run.Api.GetAsync("cluster", run.Cancellation).ConfigureAwait(false);
            if (run.Json)
            {
                Output.Json(run.Out, json);
                return;
            }
            Output.Fields(run.Out, [("mode", Output.Cell(json["mode"])), ("self", Output.Cell(json["self"])), ("leader", Output.Cell(json["leader"]))]);
            run.Out.WriteLine();
            Output.Table(run.Out, ["MEMBER", "STATUS", "REACHABLE", "ROLES"], (json["members"]?.AsArray() ?? []).Select(m => (IReadOnlyList<string>)
                [Output.Cell(m!["address"]), Output.Cell(m["status"]), Output.Cell(m["reachable"]), Output.Cell(m["roles"])]));
            run.Out.WriteLine();
            Output.Table(run.Out, ["QUEUE", "NODE", "WORKERS"], (json["queues"]?.AsArray() ?? []).Select(q => (IReadOnlyList<string>)
                [Output.Cell(q!["queue"]), Output.Cell(q["node"]), Workers(q["workersByNode"])]));
            if (json["unplaced"] is JsonArray { Count: > 0 } unplaced) run.Out.WriteLine($"not placed: {Output.Cell(unplaced)}");
        });
        return cluster;
    }

    private static string Workers(JsonNode? byNode) =>
        byNode is JsonObject nodes ? string.Join(", ", nodes.Select(n => $"{n.Key}: {Output.Cell(n.Value)}")) : Output.Cell(byNode);
}

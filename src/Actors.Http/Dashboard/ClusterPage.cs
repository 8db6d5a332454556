using System.Text;
using Actors.Client;
using static Actors.Http.Dashboard.Html;

namespace Actors.Http.Dashboard;

/// <summary>
/// The cluster page: the mode, this node and the leader; every member with its status, roles, reachability and what it
/// hosts; where each queue (each partition of a partitioned queue) lives and its workers per node; the queues that did
/// not answer, with the reason. htmx fetches <see cref="Body"/> again every few seconds. A standalone node shows mode
/// <c>standalone</c> and itself as the one member.
/// </summary>
internal static class ClusterPage
{
    /// <summary>How often the page fetches the status again.</summary>
    public const string Refresh = "every 3s";

    /// <summary>The page: a heading and the body, which refreshes itself.</summary>
    public static string Render(ClusterStatus status) =>
        $"<h1>Cluster</h1><div id=\"cluster\" hx-get=\"/dashboard/cluster/status\" hx-trigger=\"{Refresh}\" hx-swap=\"innerHTML\">{Body(status)}</div>";

    /// <summary>Everything below the heading (the fragment the page refreshes).</summary>
    public static string Body(ClusterStatus status)
    {
        var html = new StringBuilder(2048 + 256 * status.Queues.Length);
        html.Append("<table class=\"stats cluster-summary\"><tbody>")
            .Append("<tr><th>Mode</th><td class=\"mode\">").Append(E(status.Mode)).Append("</td></tr>")
            .Append("<tr><th>This node</th><td class=\"self\">").Append(E(status.Self)).Append("</td></tr>")
            .Append("<tr><th>Leader</th><td class=\"leader\">").Append(status.Leader is null ? "—" : E(status.Leader)).Append("</td></tr>")
            .Append("<tr><th>Queues placed</th><td>").Append(N(status.Queues.Length)).Append(" of ").Append(N(status.Queues.Length + status.Unplaced.Count)).Append("</td></tr>")
            .Append("</tbody></table>");

        var hosted = new Dictionary<string, int>(StringComparer.Ordinal);
        var workers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var q in status.Queues)
        {
            foreach (var node in Partitions(q).Select(p => p.Node)) hosted[node] = hosted.GetValueOrDefault(node) + 1;
            foreach (var (node, count) in q.WorkersByNode) workers[node] = workers.GetValueOrDefault(node) + count;
        }

        html.Append("<h2>Members (").Append(status.Members.Length).Append(")</h2>")
            .Append("<table class=\"members\"><thead><tr><th>Address</th><th>Status</th><th>Roles</th><th>Reachable</th><th>Queue partitions</th><th>Workers</th></tr></thead><tbody>");
        foreach (var m in status.Members.OrderBy(m => m.Address, StringComparer.Ordinal))
        {
            html.Append("<tr data-member=\"").Append(E(m.Address)).Append("\"><td>").Append(E(m.Address));
            if (m.Address == status.Self) html.Append(" <span class=\"hint\">this node</span>");
            if (m.Address == status.Leader) html.Append(" <span class=\"hint\">leader</span>");
            html.Append("</td><td class=\"status\">").Append(E(m.Status)).Append("</td><td class=\"roles\">").Append(m.Roles.IsDefaultOrEmpty ? "—" : E(string.Join(", ", m.Roles)))
                .Append("</td><td class=\"reachable\">").Append(m.Reachable ? "yes" : "<span class=\"error\">no</span>")
                .Append("</td><td>").Append(N(hosted.GetValueOrDefault(m.Address))).Append("</td><td>").Append(N(workers.GetValueOrDefault(m.Address))).Append("</td></tr>");
        }
        html.Append("</tbody></table>");

        html.Append("<h2>Queues</h2>");
        if (status.Queues.IsDefaultOrEmpty) html.Append("<p class=\"hint\">No queue answered.</p>");
        else
        {
            html.Append("<table class=\"placements\"><thead><tr><th>Queue</th><th>Partition</th><th>Lives on</th><th>Workers by node</th></tr></thead><tbody>");
            foreach (var q in status.Queues.OrderBy(q => q.QueueId, StringComparer.Ordinal))
            {
                var partitions = Partitions(q);
                for (var i = 0; i < partitions.Count; i++)
                {
                    var (partition, node) = partitions[i];
                    html.Append("<tr data-queue=\"").Append(E(q.QueueId)).Append("\" data-partition=\"").Append(partition).Append("\"><td>");
                    if (i == 0) html.Append("<a href=\"/dashboard/queues/").Append(U(q.QueueId)).Append("\">").Append(E(q.QueueId)).Append("</a>");
                    html.Append("</td><td>").Append(partitions.Count == 1 && q.PartitionNodes is null ? "—" : partition.ToString(System.Globalization.CultureInfo.InvariantCulture))
                        .Append("</td><td class=\"node\">").Append(E(node)).Append("</td><td class=\"workers\">");
                    if (i == 0) html.Append(q.WorkersByNode.IsEmpty ? "—" : E(string.Join(", ", q.WorkersByNode.Select(w => $"{w.Key}: {w.Value}"))));
                    html.Append("</td></tr>");
                }
            }
            html.Append("</tbody></table>");
        }

        if (status.Unplaced.Count > 0)
        {
            html.Append("<h2>Not placed (").Append(status.Unplaced.Count).Append(")</h2>")
                .Append("<table class=\"unplaced\"><thead><tr><th>Queue</th><th>Reason</th></tr></thead><tbody>");
            foreach (var (queue, reason) in status.Unplaced)
                html.Append("<tr data-queue=\"").Append(E(queue)).Append("\"><td>").Append(E(queue)).Append("</td><td class=\"reason\">").Append(E(reason)).Append("</td></tr>");
            html.Append("</tbody></table><p class=\"hint\">A queue that does not answer is moving between nodes or restarting.</p>");
        }
        return html.ToString();
    }

    /// <summary>Each partition of a queue and its node; an unpartitioned queue is partition 0 on <see cref="Protocol.QueueQueries.QueuePlacement.Node"/>.</summary>
    private static List<(int Partition, string Node)> Partitions(Protocol.QueueQueries.QueuePlacement q) =>
        q.PartitionNodes is { IsEmpty: false } nodes ? nodes.Select(p => (p.Key, p.Value)).ToList() : [(0, q.Node)];
}

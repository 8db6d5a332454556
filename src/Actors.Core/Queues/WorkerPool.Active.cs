namespace Actors.Queues;

/// <summary>
/// The active set of an autoscaled pool: of the live workers, the queue picks only the active ones for new
/// deliveries. The set holds the target number of workers, split across the nodes the workers run on as evenly as
/// their workers allow (nodes in address order), so a node that joins gets its share as soon as its workers are
/// learned. A worker leaving the set keeps what it holds and finishes it (it drains); it is neither stopped nor
/// replaced, and it is the first to come back when the set grows. Without a target every live worker is active.
/// Attached consumers are outside the set: always active, never counted.
/// </summary>
internal sealed partial class WorkerPool
{
    private int? _activeTarget;

    /// <summary>Live workers in the active set.</summary>
    public int ActiveCount
    {
        get
        {
            var active = 0;
            foreach (var slot in _slots) if (slot.Active && !slot.External) active++;
            return active;
        }
    }

    /// <summary>Live workers outside the active set that still hold deliveries.</summary>
    public int DrainingCount
    {
        get
        {
            var draining = 0;
            foreach (var slot in _slots) if (slot.Alive && !slot.External && !slot.Active && slot.Outstanding > 0) draining++;
            return draining;
        }
    }

    /// <summary>Nodes (addresses) that live workers run on; at least 1.</summary>
    public int NodeCount
    {
        get
        {
            var nodes = new HashSet<Akka.Actor.Address>();
            foreach (var slot in _slots) if (slot.Alive && !slot.External) nodes.Add(slot.Ref.Path.Address);
            return Math.Max(1, nodes.Count);
        }
    }

    /// <summary>Keeps <paramref name="target"/> live workers active from now on (fewer while fewer live), and returns how many are.</summary>
    public int SetActiveTarget(int target)
    {
        _activeTarget = Math.Max(0, target);
        Rebalance();
        return ActiveCount;
    }

    /// <summary>
    /// Makes the active set match the target, split across nodes: each node's share is filled round-robin over the nodes
    /// (in address order) up to its live workers. Within a node, a worker leaving the set is the one holding the least
    /// (an idle one if any), and one joining it is the one holding the most (a draining one comes back first).
    /// </summary>
    private void Rebalance()
    {
        if (_activeTarget is not { } target) return;
        var byNode = new SortedDictionary<string, List<WorkerSlot>>(StringComparer.Ordinal);
        foreach (var slot in _slots)
        {
            if (!slot.Alive || slot.External) continue;
            var node = slot.Ref.Path.Address.ToString();
            if (!byNode.TryGetValue(node, out var workers)) byNode[node] = workers = new List<WorkerSlot>();
            workers.Add(slot);
        }
        var shares = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in byNode.Keys) shares[node] = 0;
        var left = target;
        for (var progress = true; progress && left > 0;)
        {
            progress = false;
            foreach (var (node, workers) in byNode)
            {
                if (left == 0 || shares[node] >= workers.Count) continue;
                shares[node]++;
                left--;
                progress = true;
            }
        }
        foreach (var (node, workers) in byNode)
        {
            var share = shares[node];
            var active = workers.Count(static w => w.Active);
            if (active > share)
            {
                foreach (var worker in workers.Where(static w => w.Active).OrderBy(static w => w.Outstanding).Take(active - share).ToList())
                    worker.Active = false;
            }
            else if (active < share)
            {
                foreach (var worker in workers.Where(static w => !w.Active).OrderByDescending(static w => w.Outstanding).Take(share - active).ToList())
                    worker.Active = true;
            }
        }
    }
}

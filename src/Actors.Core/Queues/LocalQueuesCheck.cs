using System.Collections.Immutable;
using Actors.Protocol;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Event;
using static Actors.Protocol.QueueQueries;

namespace Actors.Queues;

/// <summary>
/// Answers <see cref="CheckLocalQueues"/> for one requester (a short-lived child of the <see cref="QueueManager"/>):
/// finds the queue partitions this node hosts (every one on a standalone node; in a cluster, the entities of the local
/// shard region), asks each for its statistics, and answers with the ones that did not answer within the timeout
/// or answered that they are unavailable. A node with only a proxy to the queues hosts none.
/// </summary>
internal sealed class LocalQueuesCheck : ReceiveActor, IWithTimers
{
    private readonly IActorRef _replyTo;
    private readonly TimeSpan _timeout;
    private readonly string? _memberStatus;
    // Partitions still to answer, by queue name: a partition answers with its queue's name, not its entity id.
    private readonly Dictionary<string, int> _waiting = new(StringComparer.Ordinal);
    private readonly List<string> _notReady = new();
    private ImmutableArray<string> _hosted = ImmutableArray<string>.Empty;

    public LocalQueuesCheck(IReadOnlyDictionary<string, IActorRef>? hosts, IActorRef? region, IActorRef replyTo, TimeSpan timeout)
    {
        // Only a node with the queue role runs a shard region; any other has a proxy, and hosts nothing.
        var regionIsLocal = region is not null && Cluster.Get(Context.System).SelfRoles.Contains(Configuration.ClusterRoles.Queue);
        _replyTo = replyTo;
        _timeout = timeout;
        _memberStatus = region is null ? null : Cluster.Get(Context.System).SelfMember.Status.ToString();
        Receive<CurrentShardRegionState>(state => Ask(state.Shards.SelectMany(s => s.EntityIds).ToList(), _ => region!));
        Receive<QueueStats>(stats => Answered(stats.QueueId, null));
        Receive<QueueUnavailable>(unavailable => Answered(unavailable.QueueId, unavailable.Reason));
        Receive<QueueNotFound>(missing => Answered(missing.QueueId, "not declared on this node"));
        Receive<CheckTimedOut>(_ => Finish(_waiting.Select(w => $"{w.Key}: {w.Value} partition(s) did not answer within {_timeout}")));
        if (hosts is not null) Ask(hosts.Keys.ToList(), id => hosts[id]);
        else if (region is not null && regionIsLocal) region.Tell(GetShardRegionState.Instance);
        else Finish([]);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props for one check: <paramref name="hosts"/> on a standalone node, else the cluster's <paramref name="region"/> (or proxy).</summary>
    public static Props Props(IReadOnlyDictionary<string, IActorRef>? hosts, IActorRef? region, IActorRef replyTo, TimeSpan timeout) =>
        Akka.Actor.Props.Create(() => new LocalQueuesCheck(hosts, region, replyTo, timeout));

    protected override void PreStart() => Timers.StartSingleTimer("timeout", CheckTimedOut.Instance, _timeout);

    private void Ask(IReadOnlyList<string> entityIds, Func<string, IActorRef> target)
    {
        _hosted = entityIds.Order(StringComparer.Ordinal).ToImmutableArray();
        if (_hosted.IsEmpty)
        {
            Finish([]);
            return;
        }
        foreach (var id in _hosted)
        {
            var queue = Partitions.Parse(id).Queue;
            _waiting[queue] = _waiting.GetValueOrDefault(queue) + 1;
            target(id).Tell(new GetStats(id));
        }
    }

    private void Answered(string queueOrEntityId, string? failure)
    {
        var queue = Partitions.Parse(queueOrEntityId).Queue;
        if (!_waiting.TryGetValue(queue, out var left)) return;
        if (left == 1) _waiting.Remove(queue);
        else _waiting[queue] = left - 1;
        if (failure is not null) _notReady.Add($"{queueOrEntityId}: {failure}");
        if (_waiting.Count == 0) Finish([]);
    }

    private void Finish(IEnumerable<string> unanswered)
    {
        _replyTo.Tell(new LocalQueuesStatus(_hosted, _notReady.Concat(unanswered).Order(StringComparer.Ordinal).ToImmutableArray(), _memberStatus));
        Context.Stop(Self);
    }

    private sealed class CheckTimedOut : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly CheckTimedOut Instance = new();
        private CheckTimedOut() { }
    }
}

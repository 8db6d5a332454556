using System.Collections.Immutable;
using Actors.Protocol;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueQueries;

namespace Actors.Actors;

/// <summary>
/// The entry point to a node's queues: every <see cref="IWithQueueId"/> message goes through it to its queue's
/// <see cref="QueueHost"/>. On a standalone node the hosts are its children. In a cluster they are sharding
/// entities spread over the queue nodes and the manager forwards to the shard region (or its proxy, on a node
/// without the queue role); it also wakes every declared queue periodically and whenever a member leaves, so a
/// queue with pending work resumes on its new node by itself (instead of sharding's remember-entities: the declared
/// queues are the set to keep alive, and every node knows them from configuration).
/// </summary>
internal sealed class QueueManager : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan WakeInterval = TimeSpan.FromSeconds(2);

    private readonly ImmutableArray<string> _names;
    private readonly HashSet<string> _declared;
    private readonly Func<string, Props> _hostProps;
    private readonly IActorRef? _region;
    private readonly Dictionary<string, IActorRef> _hosts = new(StringComparer.Ordinal);
    private readonly TimeSpan _drainTimeout;
    private DrainAll? _drain;

    public QueueManager(IEnumerable<string> queues, Func<string, Props> hostProps, IActorRef? region, TimeSpan drainTimeout)
    {
        _names = queues.Order(StringComparer.Ordinal).ToImmutableArray();
        _declared = _names.ToHashSet(StringComparer.Ordinal);
        _hostProps = hostProps;
        _region = region;
        _drainTimeout = drainTimeout;

        Receive<IWithQueueId>(Route);
        Receive<ListQueues>(_ => Sender.Tell(new QueueNames(_names)));
        Receive<Drain>(_ => OnDrain());
        Receive<Drained>(OnQueueDrained);
        Receive<DrainTimedOut>(_ => FinishDrain());
        Receive<WakeAll>(_ => WakeQueues());
        Receive<ClusterEvent.MemberRemoved>(_ => WakeQueues());
        Receive<ClusterEvent.IMemberEvent>(_ => { });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props for the manager of a node's queues.</summary>
    /// <param name="queues">The declared queue names.</param>
    /// <param name="hostProps">Props of a queue's host, by name (standalone: started here as children).</param>
    /// <param name="region">In a cluster, the queues' shard region or proxy; null on a standalone node.</param>
    /// <param name="drainTimeout">How long a drain may take.</param>
    public static Props Props(IEnumerable<string> queues, Func<string, Props> hostProps, IActorRef? region, TimeSpan drainTimeout) =>
        Akka.Actor.Props.Create(() => new QueueManager(queues, hostProps, region, drainTimeout));

    protected override void PreStart()
    {
        if (_region is null)
        {
            foreach (var name in _names) _hosts[name] = Context.ActorOf(_hostProps(name), name);
            return;
        }
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberRemoved));
        Timers.StartPeriodicTimer("wake", WakeAll.Instance, TimeSpan.Zero, WakeInterval);
    }

    protected override void PostStop()
    {
        if (_region is not null) Cluster.Get(Context.System).Unsubscribe(Self);
    }

    private void WakeQueues()
    {
        if (_region is null || _drain is not null) return;
        foreach (var name in _names) _region.Tell(new WakeUp(name));
    }

    private void Route(IWithQueueId message)
    {
        if (!_declared.Contains(message.QueueId))
        {
            if (QueueHost.Unavailable(message, RejectionCode.UnknownQueue, $"Queue '{message.QueueId}' does not exist.") is { } reply) Sender.Tell(reply);
            return;
        }
        if (_region is not null) _region.Forward(message);
        else _hosts[message.QueueId].Forward(message);
    }

    private void OnDrain()
    {
        if (_drain is not null)
        {
            _drain.Requesters.Add(Sender);
            if (_drain.Finished) Sender.Tell(new Drained("*", _drain.Unfinished));
            return;
        }
        _drain = new DrainAll();
        _drain.Requesters.Add(Sender);
        // In a cluster, sharding drains each queue when it hands the queue over as the node leaves.
        foreach (var (name, host) in _hosts)
        {
            _drain.Pending.Add(name);
            host.Tell(Drain.Instance);
        }
        Timers.StartSingleTimer("drain", DrainTimedOut.Instance, _drainTimeout + TimeSpan.FromSeconds(1));
        if (_drain.Pending.Count == 0) FinishDrain();
    }

    private void OnQueueDrained(Drained drained)
    {
        if (_drain is null || !_drain.Pending.Remove(drained.QueueId)) return;
        _drain.Unfinished += drained.Unfinished;
        if (_drain.Pending.Count == 0) FinishDrain();
    }

    private void FinishDrain()
    {
        if (_drain is null || _drain.Finished) return;
        _drain.Finished = true;
        _drain.Unfinished += _drain.Pending.Count;
        Timers.Cancel("drain");
        foreach (var requester in _drain.Requesters) requester.Tell(new Drained("*", _drain.Unfinished));
    }

    private sealed class WakeAll : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly WakeAll Instance = new();
        private WakeAll() { }
    }

    private sealed class DrainTimedOut : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly DrainTimedOut Instance = new();
        private DrainTimedOut() { }
    }

    private sealed class DrainAll
    {
        public HashSet<string> Pending { get; } = new(StringComparer.Ordinal);
        public List<IActorRef> Requesters { get; } = new();
        public int Unfinished { get; set; }
        public bool Finished { get; set; }
    }
}

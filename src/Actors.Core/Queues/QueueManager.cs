using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Protocol;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueQueries;

namespace Actors.Queues;

/// <summary>
/// The entry point to a node's queues: every <see cref="IWithQueueId"/> message goes through it to its queue's
/// <see cref="QueueHost"/>. On a standalone node the hosts are its children. In a cluster they are sharding
/// entities spread over the queue nodes and the manager forwards to the shard region (or its proxy, on a node
/// without the queue role); it also wakes every declared queue periodically and whenever a member leaves, so a
/// queue with pending work resumes on its new node by itself (instead of sharding's remember-entities: the declared
/// queues are the set to keep alive, and every node knows them from configuration and from the queue registry, for
/// queues declared at run time; see <see cref="QueueRegistryProtocol"/> and the Declarations part of this class).
/// <para>A partitioned queue is one host per partition (see <see cref="Partitions"/>): the manager sends an enqueue
/// to its key's partition (keyless: round-robin), a message query to the partition its id names, and a query about
/// the whole queue to every partition, merging the answers (<see cref="PartitionGather"/>); a consumer attaches to
/// (and detaches from) every partition, with its share of the prefetch.</para>
/// <para>The manager remembers the consumers attached through it (see <see cref="ConsumerProtocol"/>) until they detach
/// or stop. In a cluster it attaches them again at every wake-up, so a queue that moved to another node (which knows no
/// consumer) has them back within a wake interval; for the queue where they are attached, that changes nothing.</para>
/// </summary>
internal sealed partial class QueueManager : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan WakeInterval = TimeSpan.FromSeconds(2);
    // A readiness probe's own timeout is short (Kubernetes: 1 s by default); a partition slower than this is not ready.
    private static readonly TimeSpan ReadinessTimeout = TimeSpan.FromSeconds(5);

    private readonly QueueCatalog _catalog;
    private readonly Dictionary<string, int> _partitions = new(StringComparer.Ordinal);
    private ImmutableArray<string> _names = [];
    private ImmutableArray<string> _entityIds = [];
    private readonly Func<string, Props> _hostProps;
    private readonly IActorRef? _region;
    private readonly IActorRef _registry;
    private readonly QueueOptions _declaredDefaults;
    private readonly long _maxDeclaredPayloadBytes;
    private readonly Dictionary<string, IActorRef> _hosts = new(StringComparer.Ordinal);
    private readonly TimeSpan _drainTimeout;
    private readonly TimeSpan _requestTimeout;
    private readonly Dictionary<IActorRef, Dictionary<string, ConsumerProtocol.Attach>> _consumers = new();
    private readonly Dictionary<string, List<(IWithQueueId Message, IActorRef Sender)>> _lookups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<IActorRef>> _declaring = new(StringComparer.Ordinal);
    private long _registryVersion = -1;
    private DrainAll? _drain;
    private int _nextPartition;

    public QueueManager(QueueCatalog catalog, Func<string, Props> hostProps, IActorRef? region, IActorRef registry, QueueOptions declaredDefaults, long maxDeclaredPayloadBytes, TimeSpan drainTimeout, TimeSpan requestTimeout)
    {
        _catalog = catalog;
        foreach (var (name, options) in catalog.Queues) _partitions[name] = options.Partitions;
        Index();
        _hostProps = hostProps;
        _region = region;
        _registry = registry;
        _declaredDefaults = declaredDefaults;
        _maxDeclaredPayloadBytes = maxDeclaredPayloadBytes;
        _drainTimeout = drainTimeout;
        _requestTimeout = requestTimeout;

        // The answers of the queues to the attachments the manager repeats.
        Receive<ConsumerProtocol.Attached>(_ => { });
        Receive<Terminated>(terminated => _consumers.Remove(terminated.ActorRef));
        Receive<IWithQueueId>(message => Route(message, Sender));
        Receive<ListQueues>(_ => Sender.Tell(new QueueNames(_names)));
        Receive<CheckLocalQueues>(_ => Context.ActorOf(LocalQueuesCheck.Props(_region is null ? _hosts : null, _region, Sender, ReadinessTimeout)));
        Receive<Drain>(_ => OnDrain());
        Receive<Drained>(OnQueueDrained);
        Receive<DrainTimedOut>(_ => FinishDrain());
        Receive<WakeAll>(_ => WakeQueues());
        Receive<ClusterEvent.MemberRemoved>(_ => WakeQueues());
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<QueueRegistryProtocol.Declare>(OnDeclare);
        Receive<QueueLifecycle.Delete>(OnDelete);
        // A retired queue's host passivates after a while; on a standalone node the manager has stopped it by then, unless
        // the registry did not store the removal: the queue is still declared, and starts again (empty).
        Receive<Akka.Cluster.Sharding.Passivate>(_ => Sender.Tell(QueueHost.Reopen.Instance));
        Receive<QueueDeclaration>(OnDeclared);
        Receive<DeclareTimedOut>(timedOut => _declaring.Remove(timedOut.Queue));
        Receive<QueueRegistryProtocol.Declarations>(OnDeclarations);
        Receive<QueueRegistryProtocol.DeclaredQueueFound>(OnFound);
        Receive<LookupTimedOut>(timedOut => AnswerLookups(timedOut.Queue, RejectionCode.JournalUnavailable,
            $"Queue '{timedOut.Queue}' is not known on this node yet and the queue registry did not answer within {_requestTimeout}; retry shortly."));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props for the manager of a node's queues.</summary>
    /// <param name="catalog">The node's queues: configured, and declared at run time as the manager hears of them.</param>
    /// <param name="hostProps">Props of a queue partition's host, by entity id (standalone: started here as children).</param>
    /// <param name="region">In a cluster, the queues' shard region or proxy; null on a standalone node.</param>
    /// <param name="registry">The queue registry (a singleton proxy in a cluster): declarations go to it, and the manager subscribes to it.</param>
    /// <param name="declaredDefaults">The options of a queue declared at run time without options of its own.</param>
    /// <param name="maxDeclaredPayloadBytes">The largest <see cref="QueueOptions.MaxPayloadBytes"/> a queue declared at run time may have (in a cluster, what the remoting frame carries).</param>
    /// <param name="drainTimeout">How long a drain may take.</param>
    /// <param name="requestTimeout">How long a request to every partition of a queue waits for their answers.</param>
    public static Props Props(QueueCatalog catalog, Func<string, Props> hostProps, IActorRef? region, IActorRef registry, QueueOptions declaredDefaults, long maxDeclaredPayloadBytes, TimeSpan drainTimeout, TimeSpan requestTimeout) =>
        Akka.Actor.Props.Create(() => new QueueManager(catalog, hostProps, region, registry, declaredDefaults, maxDeclaredPayloadBytes, drainTimeout, requestTimeout));

    protected override void PreStart()
    {
        if (_region is null)
        {
            foreach (var id in _entityIds) StartHost(id);
            _registry.Tell(new QueueRegistryProtocol.SubscribeDeclarations(_registryVersion));
            Timers.StartPeriodicTimer("wake", WakeAll.Instance, WakeInterval);
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
        _registry.Tell(new QueueRegistryProtocol.SubscribeDeclarations(_registryVersion));
        if (_region is null || _drain is not null) return;
        foreach (var id in _entityIds) _region.Tell(new WakeUp(id));
        foreach (var attachments in _consumers.Values)
        {
            foreach (var (queue, attach) in attachments)
            {
                for (var partition = 0; partition < _partitions[queue]; partition++)
                {
                    var (target, addressed) = Addressed(queue, partition, attach);
                    target.Tell(addressed, Self);
                }
            }
        }
    }

    /// <summary>Remembers an attachment, or forgets a detached consumer (see the class summary).</summary>
    private void Remember(IWithQueueId message)
    {
        switch (message)
        {
            case ConsumerProtocol.Attach attach:
                if (!_consumers.TryGetValue(attach.Consumer, out var attachments))
                {
                    _consumers[attach.Consumer] = attachments = new Dictionary<string, ConsumerProtocol.Attach>(StringComparer.Ordinal);
                    Context.Watch(attach.Consumer);
                }
                attachments[attach.QueueId] = attach;
                break;
            case ConsumerProtocol.Detach detach when _consumers.TryGetValue(detach.Consumer, out var remaining) && remaining.Remove(detach.QueueId):
                if (remaining.Count > 0) break;
                _consumers.Remove(detach.Consumer);
                Context.Unwatch(detach.Consumer);
                break;
        }
    }

    private void Route(IWithQueueId message, IActorRef sender)
    {
        if (!_partitions.TryGetValue(message.QueueId, out var partitions))
        {
            LookUp(message, sender);
            return;
        }
        if (message is ConsumerProtocol.Attach or ConsumerProtocol.Detach) Remember(message);
        if (partitions == 1)
        {
            Target(message.QueueId).Tell(message, sender);
            return;
        }
        var queue = message.QueueId;
        switch (message)
        {
            case Enqueue enqueue:
                SendTo(queue, PartitionOf(enqueue.Headers, enqueue.IdempotencyKey, partitions), enqueue, sender);
                break;
            case EnqueueBatch batch:
                RouteBatch(batch, partitions, sender);
                break;
            case GetMessage get when Partitions.OfMessage(get.MessageId) < partitions:
                SendTo(queue, Partitions.OfMessage(get.MessageId), get, sender);
                break;
            case GetMessage get:
                sender.Tell(new MessageNotFound(queue, get.MessageId));
                break;
            case CancelMessage cancel when Partitions.OfMessage(cancel.MessageId) < partitions:
                SendTo(queue, Partitions.OfMessage(cancel.MessageId), cancel, sender);
                break;
            case CancelMessage cancel:
                sender.Tell(new CancelResult(queue, cancel.MessageId, CancelOutcome.NotFound, null, cancel.CorrelationId));
                break;
            case OutcomeWaits.WaitForOutcome wait when Partitions.OfMessage(wait.MessageId) < partitions:
                SendTo(queue, Partitions.OfMessage(wait.MessageId), wait, sender);
                break;
            case OutcomeWaits.WaitForOutcome wait:
                sender.Tell(new MessageNotFound(queue, wait.MessageId));
                break;
            case OutcomeWaits.StopWaiting stop when Partitions.OfMessage(stop.MessageId) < partitions:
                SendTo(queue, Partitions.OfMessage(stop.MessageId), stop, sender);
                break;
            case OutcomeWaits.StopWaiting:
                break;
            case KeyCommands.ChangeKey change:
                SendTo(queue, Partitions.OfKey(change.Key, partitions), change, sender);
                break;
            default:
                if (PartitionMerge.For(message, queue) is not { } merge) return;
                var requests = Enumerable.Range(0, partitions).Select(p => Addressed(queue, p, message)).ToList();
                Context.ActorOf(PartitionGather.Props(queue, requests, merge,
                    (_, reason) => QueueHost.Unavailable(message, RejectionCode.JournalUnavailable, reason) ?? new QueueUnavailable(queue, reason), sender, _requestTimeout));
                break;
        }
    }

    /// <summary>
    /// Keyless messages of a batch go to one partition (round-robin); keyed ones to their key's partition, and ones
    /// with only an idempotency key to that key's, so a retried request reaches the partition that remembers it.
    /// </summary>
    private void RouteBatch(EnqueueBatch batch, int partitions, IActorRef sender)
    {
        var keyless = NextPartition(partitions);
        var groups = batch.Messages.Select((m, i) => (Partition: KeyedPartition(m.Headers, m.IdempotencyKey, partitions) ?? keyless, Index: i))
            .GroupBy(x => x.Partition).ToList();
        if (groups.Count == 1)
        {
            SendTo(batch.QueueId, groups[0].Key, batch, sender);
            return;
        }
        var indices = groups.Select(g => g.Select(x => x.Index).ToArray()).ToList();
        var requests = groups.Select((g, n) => Addressed(batch.QueueId, g.Key,
            batch with { Messages = g.Select(x => batch.Messages[x.Index]).ToImmutableArray(), CorrelationId = n })).ToList();
        Context.ActorOf(PartitionGather.Props(batch.QueueId, requests,
            replies => PartitionMerge.Batch(batch.QueueId, batch.CorrelationId, batch.Messages.Length, indices, replies),
            (replies, reason) => PartitionMerge.Batch(batch.QueueId, batch.CorrelationId, batch.Messages.Length, indices, replies, reason), sender, _requestTimeout));
    }

    private int PartitionOf(ImmutableDictionary<string, string>? headers, string? idempotencyKey, int partitions) =>
        KeyedPartition(headers, idempotencyKey, partitions) ?? NextPartition(partitions);

    /// <summary>The ordering key's partition; else the idempotency key's; null for a message with neither.</summary>
    private static int? KeyedPartition(ImmutableDictionary<string, string>? headers, string? idempotencyKey, int partitions) =>
        headers?.GetValueOrDefault(Partitions.KeyHeader) is { } key ? Partitions.OfKey(key, partitions)
        : idempotencyKey is not null ? Partitions.OfKey(idempotencyKey, partitions)
        : null;

    private int NextPartition(int partitions) => (int)((uint)_nextPartition++ % (uint)partitions);

    private void SendTo(string queue, int partition, IWithQueueId message, IActorRef sender)
    {
        var (target, addressed) = Addressed(queue, partition, message);
        target.Tell(addressed, sender);
    }

    /// <summary>Where a partition's host is, and the message with its queue id set to the partition's entity id (what sharding routes by).</summary>
    private (IActorRef Target, IWithQueueId Message) Addressed(string queue, int partition, IWithQueueId message)
    {
        var id = Partitions.EntityId(queue, partition);
        IWithQueueId addressed = message switch
        {
            Enqueue m => m with { QueueId = id },
            EnqueueBatch m => m with { QueueId = id },
            GetMessage m => m with { QueueId = id },
            CancelMessage m => m with { QueueId = id },
            KeyCommands.ChangeKey m => m with { QueueId = id },
            PauseCommands.Pause m => m with { QueueId = id },
            PauseCommands.Resume m => m with { QueueId = id },
            FindByIdempotencyKey m => m with { QueueId = id },
            OutcomeWaits.WaitForOutcome m => m with { QueueId = id },
            OutcomeWaits.StopWaiting m => m with { QueueId = id },
            GetStats m => m with { QueueId = id },
            GetPlacement m => m with { QueueId = id },
            DeadLetterCommands.ListDeadLetters m => m with { QueueId = id },
            DeadLetterCommands.GroupDeadLetters m => m with { QueueId = id },
            DeadLetterCommands.RedriveDeadLetters m => m with { QueueId = id },
            DeadLetterCommands.PurgeDeadLetters m => m with { QueueId = id },
            QueueLifecycle.Purge m => m with { QueueId = id },
            QueueLifecycle.RetirePartition m => m with { QueueId = id },
            RedriveJobs.ListRedriveJobs m => m with { QueueId = id },
            RedriveJobs.CancelRedriveJob m => m with { QueueId = id },
            ConsumerProtocol.Attach m => m with { QueueId = id, Prefetch = ConsumerProtocol.PartitionShare(m.Prefetch, _partitions[queue]) },
            ConsumerProtocol.Detach m => m with { QueueId = id },
            _ => throw new ArgumentException($"{message.GetType().Name} is not sent to one partition.", nameof(message)),
        };
        return (Target(id), addressed);
    }

    private IActorRef Target(string entityId) => _region ?? _hosts[entityId];

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

using Actors.Configuration;
using Akka.Actor;
using Akka.Cluster.Sharding;

namespace Actors.Schedules;

/// <summary>
/// Starts a node's schedules next to its queues (<see cref="DurableQueues.Start"/> calls it): the
/// <see cref="ScheduleManager"/> and, in a cluster, the schedules' shard region (entity type
/// <see cref="ShardTypeName"/> on the nodes with the queue role; a proxy elsewhere).
/// </summary>
public static class DurableSchedules
{
    /// <summary>The name of the schedule manager actor under <c>/user</c>.</summary>
    public const string ManagerName = "schedules";

    /// <summary>The sharding type name of the schedules.</summary>
    public const string ShardTypeName = "actors-schedule";

    /// <summary>
    /// Validates the schedules declared in <paramref name="options"/> into definitions; throws
    /// <see cref="ArgumentException"/> for a bad id, a bad definition or an undeclared queue.
    /// </summary>
    public static IReadOnlyDictionary<string, ScheduleDefinition> Declared(DurableQueuesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var declared = new Dictionary<string, ScheduleDefinition>(StringComparer.Ordinal);
        foreach (var (id, spec) in options.Schedules)
        {
            if (!Names.IsValidQueueName(id)) throw new ArgumentException($"Schedule id '{id}' is invalid: {Names.QueueNameRule}.");
            if (!ScheduleDefinition.TryCreate(spec, out var definition, out var problem)) throw new ArgumentException($"Actors:Schedules:{id}: {problem!.Message}");
            if (!options.Queues.ContainsKey(definition.Queue)) throw new ArgumentException($"Actors:Schedules:{id}: queue '{definition.Queue}' is not declared.");
            declared[id] = definition;
        }
        return declared;
    }

    /// <summary>Starts the schedule manager (and in a cluster the region) and returns the manager.</summary>
    /// <param name="system">The actor system the queues run in.</param>
    /// <param name="options">The node's options: queues, declared schedules, clock, timeouts, cluster.</param>
    /// <param name="queueManager">The node's queue manager: schedules send their enqueues and status queries to it.</param>
    internal static IActorRef Start(ActorSystem system, DurableQueuesOptions options, IActorRef queueManager)
    {
        var declared = Declared(options);
        Props ScheduleProps(string id) => ScheduleActor.Props(id, queueManager, options.Time, options.RequestTimeout);
        IActorRef? region = null;
        if (options.Cluster.Enabled)
        {
            var sharding = ClusterSharding.Get(system);
            var extractor = new ScheduleMessageExtractor(options.Cluster.Shards);
            if (!options.Cluster.HasRole(ClusterRoles.Queue)) region = sharding.StartProxy(ShardTypeName, ClusterRoles.Queue, extractor);
            else
            {
                var settings = ClusterShardingSettings.Create(system).WithRole(ClusterRoles.Queue);
                region = sharding.Start(ShardTypeName, ScheduleProps, settings, extractor, sharding.DefaultShardAllocationStrategy(settings), ScheduleCommands.StopSchedule.Instance);
            }
        }
        // Queues declared at run time count once this node's catalog has them.
        var configured = options.Queues.Keys.ToHashSet(StringComparer.Ordinal);
        Func<string, bool> queueExists = Queues.DeclaredQueues.Of(system) is { } known ? known.Contains : configured.Contains;
        return system.ActorOf(ScheduleManager.Props(queueExists, ScheduleProps, region, declared), ManagerName);
    }

    /// <summary>Entity id = schedule id; shard = a stable hash of it.</summary>
    private sealed class ScheduleMessageExtractor(int shards) : HashCodeMessageExtractor(shards)
    {
        public override string? EntityId(object message) => (message as IWithScheduleId)?.ScheduleId;
    }
}

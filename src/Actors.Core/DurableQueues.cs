using Akka.Event;
using Actors.Journal;
using Actors.Monitoring;
using Actors.Queues;
using Actors.Workers;
using Actors.Client;
using Actors.Schedules;
using Actors.Configuration;
using Actors.Protocol;
using Actors.Serialization;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.Singleton;
using Akka.Configuration;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using static Actors.Protocol.QueueCommands;

namespace Actors;

/// <summary>
/// Starts the durable queues of a node inside an <see cref="ActorSystem"/>. With Akka.Hosting use
/// <c>WithDurableQueues</c> instead; this is the plain Akka entry point it builds on.
/// </summary>
public static class DurableQueues
{
    /// <summary>The name of the queue manager actor under <c>/user</c>.</summary>
    public const string ManagerName = "queues";

    /// <summary>
    /// The HOCON an actor system needs for the queues: the SQL journal and snapshot store (the SQLite file or the
    /// PostgreSQL database of <paramref name="options"/>), our serializer for everything stored, and the
    /// <c>actors-handler-dispatcher</c> whose threads run message handlers. Use it as the
    /// system's configuration (or prepend it to yours); it already falls back to Akka.Persistence.Sql's defaults.
    /// </summary>
    public static Config Configuration(DurableQueuesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var persistence = options.Journal == JournalKind.PostgreSql
            ? PersistenceConfig(options.ConnectionString!, "PostgreSQL.15", TimeSpan.FromSeconds(30))
            // A journal call must be allowed to outlast SQLite's own wait for a lock, or the breaker trips first.
            : PersistenceConfig(SqliteConnectionString(options), "SQLite.MS", options.SqliteBusyTimeout + TimeSpan.FromSeconds(10));
        // The configuration holds the journal's connection string: it is never printed at start.
        var config = ConfigurationFactory.ParseString("akka.log-config-on-start = off").WithFallback(SerializationConfig())
            .WithFallback(HandlerScheduler.Config(options.HandlerThreads)).WithFallback(persistence);
        if (options.Cluster.Enabled) config = ClusterConfig(options).WithFallback(config);
        return config.WithFallback(Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration);
    }

    /// <summary>
    /// Cluster mode: Akka.Remote on the configured address, the seed nodes and roles, the split-brain resolver
    /// (keep-majority), and sharding of the queues over the queue nodes (coordinator state in distributed data,
    /// entities never passivated, a hand-over that waits for the queue to drain).
    /// </summary>
    public static Config ClusterConfig(DurableQueuesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var cluster = options.Cluster;
        // With Kubernetes discovery there are no seed nodes: Cluster Bootstrap joins the node.
        var seeds = cluster.Discovery == ClusterDiscovery.Kubernetes ? "" : string.Join(", ", cluster.SeedNodeList.Select(Quote));
        var roles = string.Join(", ", cluster.RoleSet.Select(Quote));
        var publicHost = string.IsNullOrWhiteSpace(cluster.PublicHostname) ? "" : $"public-hostname = {Quote(cluster.PublicHostname)}";
        var drain = (int)Math.Ceiling(options.DrainTimeout.TotalSeconds);
        var frame = MaximumFrameBytes(options);
        return ConfigurationFactory.ParseString($$"""
            akka {
              actor.provider = cluster
              remote.dot-netty.tcp {
                hostname = {{Quote(cluster.Hostname)}}
                {{publicHost}}
                port = {{cluster.Port}}
                maximum-frame-size = {{frame}}b
                # The certificate and the trust rule come from RemoteTls.Setup, not from here.
                enable-ssl = {{(cluster.Tls.Enabled ? "on" : "off")}}
              }
              cluster {
                seed-nodes = [{{seeds}}]
                roles = [{{roles}}]
                min-nr-of-members = {{cluster.MinMembers}}
                # Failover = detection (the pause plus 1-2 s) + stable-after + removal + the margin + the queue's recovery.
                failure-detector.acceptable-heartbeat-pause = {{Millis(cluster.FailureDetectorPause)}}ms
                unreachable-nodes-reaper-interval = 500ms
                leader-actions-interval = 500ms
                downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
                split-brain-resolver {
                  active-strategy = keep-majority
                  stable-after = {{Millis(cluster.StableAfter)}}ms
                }
                # Unset, the margin would be stable-after again, spent after the removal with the coordinator asking the dead node to hand over.
                down-removal-margin = {{Millis(cluster.DownRemovalMargin)}}ms
                run-coordinated-shutdown-when-down = on
                sharding {
                  role = "{{ClusterRoles.Queue}}"
                  state-store-mode = ddata
                  remember-entities = off
                  passivate-idle-entity-after = off
                  handoff-timeout = {{drain + 15}}s
                  # Regions register with the coordinator quickly after a start, so the first queues spread over them.
                  retry-interval = 500ms
                  # A new queue node takes its share of queues within one round, not one queue per round.
                  rebalance-interval = 5s
                  least-shard-allocation-strategy {
                    rebalance-absolute-limit = 10
                    rebalance-relative-limit = 1.0
                  }
                }
              }
              coordinated-shutdown.phases.cluster-sharding-shutdown-region.timeout = {{drain + 20}}s
            }
            """)
            .WithFallback(cluster.Discovery == ClusterDiscovery.Kubernetes ? KubernetesBootstrapConfig(cluster.Kubernetes) : Config.Empty)
            // Sharding's serializers must be known before the first sharding message arrives from another node.
            .WithFallback(ClusterSharding.DefaultConfig())
            .WithFallback(Akka.Cluster.Tools.Singleton.ClusterSingleton.DefaultConfig())
            .WithFallback(Akka.DistributedData.DistributedData.DefaultConfig());
    }

    /// <summary>
    /// With <see cref="ClusterDiscovery.Kubernetes"/>: the HOCON of Akka.Management (HTTP on the management port, all
    /// interfaces), Cluster Bootstrap and the Kubernetes API discovery method. Raw pod IPs are the contact points; each
    /// node's remoting address comes from its own answer, so it must be reachable at its
    /// <see cref="QueueClusterOptions.PublicHostname"/>. The node process starts Akka.Management and the bootstrap.
    /// </summary>
    public static Config KubernetesBootstrapConfig(KubernetesDiscoveryOptions kubernetes)
    {
        ArgumentNullException.ThrowIfNull(kubernetes);
        var hostname = string.IsNullOrWhiteSpace(kubernetes.ManagementHostname) ? "" : $"hostname = {Quote(kubernetes.ManagementHostname)}";
        var podNamespace = string.IsNullOrWhiteSpace(kubernetes.Namespace) ? "" : $"pod-namespace = {Quote(kubernetes.Namespace)}";
        return ConfigurationFactory.ParseString($$"""
            akka {
              management {
                http {
                  {{hostname}}
                  port = {{kubernetes.ManagementPort}}
                  bind-hostname = "0.0.0.0"
                  bind-port = {{kubernetes.ManagementPort}}
                }
                cluster.bootstrap.contact-point-discovery {
                  service-name = {{Quote(kubernetes.ServiceName)}}
                  discovery-method = kubernetes-api
                  port-name = "management"
                  required-contact-point-nr = {{kubernetes.RequiredContactPoints}}
                }
              }
              discovery {
                method = kubernetes-api
                kubernetes-api {
                  class = "Akka.Discovery.KubernetesApi.KubernetesApiServiceDiscovery, Akka.Discovery.KubernetesApi"
                  pod-label-selector = {{Quote(kubernetes.PodLabelSelector)}}
                  {{podNamespace}}
                }
              }
            }
            """);
    }

    private static long Millis(TimeSpan value) => (long)Math.Ceiling(value.TotalMilliseconds);

    /// <summary>
    /// The largest message Akka.Remote carries between nodes: a delivery carries its payload (up to the largest
    /// <see cref="QueueOptions.MaxPayloadBytes"/>) and a client's enqueue batch is sent in runs of at most 4 MiB, so the
    /// frame holds the larger of the two with room for the envelope, and never less than 16 MiB. A larger message
    /// would be dropped by the transport.
    /// </summary>
    public static long MaximumFrameBytes(DurableQueuesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const long envelope = FrameEnvelopeBytes;
        var largestPayload = options.Queues.Values.Append(options.DeclaredQueueDefaults).Select(q => (long)q.MaxPayloadBytes).DefaultIfEmpty(0).Max();
        return Math.Max(16 * 1024 * 1024, Math.Max(largestPayload, Client.BatchChunks.MaxRunBytes) + envelope);
    }

    /// <summary>Room in a remoting frame for what surrounds a payload.</summary>
    private const long FrameEnvelopeBytes = 1024 * 1024;

    /// <summary>The serializer bindings: every <see cref="IQueueMessage"/> goes through <see cref="QueueMessageSerializer"/>.</summary>
    public static Config SerializationConfig() => ConfigurationFactory.ParseString($$"""
        akka.actor {
          serializers.actors-queue = "{{typeof(QueueMessageSerializer).AssemblyQualifiedName}}"
          serialization-bindings {
            "{{typeof(IQueueMessage).AssemblyQualifiedName}}" = actors-queue
          }
          serialization-identifiers {
            "{{typeof(QueueMessageSerializer).AssemblyQualifiedName}}" = {{QueueMessageSerializer.SerializerId}}
          }
        }
        """);

    /// <summary>The journal, snapshot store and query journal settings for one SQL database.</summary>
    /// <param name="connectionString">The ADO.NET connection string.</param>
    /// <param name="providerName">The linq2db provider name: <c>SQLite.MS</c> or <c>PostgreSQL.15</c>.</param>
    /// <param name="callTimeout">How long one journal call may take before the circuit breaker counts it as failed.</param>
    /// <remarks>
    /// The circuit breakers reset after 2 s (Akka's default is 30 s), so a queue that stopped on a journal failure
    /// recovers within seconds of the database coming back.
    /// </remarks>
    public static Config PersistenceConfig(string connectionString, string providerName, TimeSpan callTimeout)
    {
        var cs = Quote(connectionString);
        var provider = Quote(providerName);
        var breaker = $"circuit-breaker {{ max-failures = 10, call-timeout = {(int)Math.Ceiling(callTimeout.TotalSeconds)}s, reset-timeout = 2s }}";
        // SQLite has one write lock, and Microsoft.Data.Sqlite waits 150 ms before retrying a connection that finds it
        // taken: parallel journal writers only queue behind each other with that sleep, and a read in an IMMEDIATE
        // transaction (its mapping of every isolation level but read-uncommitted) takes the lock too. So one writer,
        // and reads in deferred transactions, which in WAL mode see the last commit without blocking anyone.
        var sqlite = providerName.StartsWith("SQLite", StringComparison.Ordinal);
        var journalSqlite = sqlite ? "parallelism = 1\n                  read-isolation-level = read-uncommitted" : "";
        var readSqlite = sqlite ? "read-isolation-level = read-uncommitted" : "";
        return ConfigurationFactory.ParseString($$"""
            akka.persistence {
              journal {
                plugin = "akka.persistence.journal.sql"
                sql {
                  connection-string = {{cs}}
                  provider-name = {{provider}}
                  auto-initialize = on
                  # Without this, linq2db writes large events as hex literals inside the SQL text, at half the speed.
                  prefer-parameters-on-multirow-insert = true
                  {{journalSqlite}}
                  {{breaker}}
                }
              }
              snapshot-store {
                plugin = "akka.persistence.snapshot-store.sql"
                sql {
                  connection-string = {{cs}}
                  provider-name = {{provider}}
                  auto-initialize = on
                  {{readSqlite}}
                  {{breaker}}
                }
              }
              query.journal.sql {
                connection-string = {{cs}}
                provider-name = {{provider}}
                {{readSqlite}}
                # The read journal's sequence actor follows the global ordering of new events for EventsByTag and
                # AllEvents queries, which nothing here runs (payload reads are by persistence id). By default it reads
                # every new ordering id each second and searches them for gaps, which the deletes of compacted events
                # leave everywhere: at 100,000 msg/s that took ~40% of the CPU. It now looks once, at start.
                journal-sequence-retrieval {
                  query-delay = 1d
                  max-backoff-query-delay = 1d
                  max-tries = 1
                }
              }
            }
            """);
    }

    internal static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>
    /// For the SQLite journal: creates the data directory and the SQLite file if needed and switches the file to
    /// write-ahead logging (a persistent setting of the file). Durability: Microsoft.Data.Sqlite leaves
    /// <c>synchronous</c> at FULL, so every commit is fsynced before a producer is answered. For PostgreSQL there is
    /// nothing to prepare: the journal creates its tables on start.
    /// </summary>
    public static void PrepareStorage(DurableQueuesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Journal != JournalKind.Sqlite) return;
        var path = options.DatabasePath;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var connection = new SqliteConnection(SqliteConnectionString(options));
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        command.ExecuteNonQuery();
    }

    private static string SqliteConnectionString(DurableQueuesOptions options) =>
        new SqliteConnectionStringBuilder
        {
            DataSource = options.DatabasePath,
            Pooling = true,
            DefaultTimeout = (int)Math.Ceiling(options.SqliteBusyTimeout.TotalSeconds),
        }.ToString();

    /// <summary>
    /// Starts the queue manager (and through it every declared queue) in <paramref name="system"/> and returns a
    /// client for it. Registers a graceful drain with <see cref="CoordinatedShutdown"/>.
    /// </summary>
    /// <param name="system">A system created with <see cref="Configuration"/> in its config.</param>
    /// <param name="options">The queues and limits.</param>
    /// <param name="services">Where handlers are resolved from; null for an empty provider.</param>
    public static DurableQueuesHandle Start(ActorSystem system, DurableQueuesOptions options, IServiceProvider? services = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        services ??= new ServiceCollection().BuildServiceProvider();
        var catalog = new QueueCatalog(options.Queues);
        var handlers = options.Handlers;
        var cluster = options.Cluster;
        // Partitions above a queue's declared count must hold nothing (see PartitionCheck); it takes the SQL read journal.
        var checkPartitions = system.Settings.Config.GetString("akka.persistence.journal.plugin") == "akka.persistence.journal.sql";
        (Func<Props> Queue, Func<Props>? Check)? PropsFor(string name, int partition, QueueOptions queue)
        {
            if (partition >= queue.Partitions) return null;
            return (() => QueueActor.Props(name, partition, queue.WithBatchCredit(handlers), handlers, services, options.Time, options.DrainTimeout, cluster, options.Journal),
                checkPartitions ? () => PartitionCheck.Props(name, queue) : null);
        }
        var registry = StartRegistry(system, options);
        Props HostProps(string entityId)
        {
            var (name, partition) = Partitions.Parse(entityId);
            if (catalog.TryGet(name, out var queue))
            {
                return PropsFor(name, partition, queue) is { } props ? QueueHost.Props(entityId, props.Queue, props.Check) : QueueHost.Props(entityId, null);
            }
            // A sharding entity of a queue this node has not heard of yet: the host asks the registry.
            if (!cluster.Enabled) return QueueHost.Props(entityId, null);
            return QueueHost.Resolve(entityId, new QueueHost.Resolver(registry, found =>
            {
                catalog.Add(name, found);
                return catalog.TryGet(name, out var effective) ? PropsFor(name, partition, effective) : null;
            }, options.RequestTimeout));
        }

        WorkerServices.Register(system, handlers, services);
        DeclaredQueues.Register(system, catalog);
        system.ActorOf(DeadLetterMonitor.Props(), "dead-letter-monitor");
        if (options.Journal == JournalKind.Sqlite && File.Exists(options.DatabasePath)) system.ActorOf(WalCheckpointer.Props(SqliteConnectionString(options)), "wal-checkpointer");
        var region = cluster.Enabled ? StartShardRegion(system, cluster, HostProps) : null;
        var manager = system.ActorOf(QueueManager.Props(catalog, HostProps, region, registry, options.DeclaredQueueDefaults,
            cluster.Enabled ? MaximumFrameBytes(options) - FrameEnvelopeBytes : long.MaxValue, options.DrainTimeout, options.RequestTimeout), ManagerName);
        var client = new QueueClient(system, manager, options.RequestTimeout);
        var schedules = Schedules.DurableSchedules.Start(system, options, manager);

        var shutdown = CoordinatedShutdown.Get(system);
        var drainTimeout = options.DrainTimeout + TimeSpan.FromSeconds(2);
        shutdown.AddTask(CoordinatedShutdown.PhaseServiceRequestsDone, "drain-queues", async () =>
        {
            try
            {
                await manager.Ask<Drained>(Drain.Instance, drainTimeout).ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                system.Log.Warning("Queues did not drain within {0}; unfinished deliveries are redelivered after restart", drainTimeout);
            }
            return Akka.Done.Instance;
        });
        return new DurableQueuesHandle(manager, client) { ScheduleManager = schedules, Schedules = new ScheduleClient(schedules, options.RequestTimeout) };
    }

    /// <summary>The name of the queue registry (see <see cref="QueueRegistryProtocol"/>) under <c>/user</c>: the actor on a standalone node, the singleton manager in a cluster.</summary>
    public const string RegistryName = "queue-registry";

    /// <summary>
    /// Starts the queue registry and returns where to send to it: on a standalone node the registry itself; in a cluster a
    /// proxy to the singleton, which runs on the oldest node with the queue role (a node with that role also runs a
    /// singleton manager, so it can take the registry over).
    /// </summary>
    private static IActorRef StartRegistry(ActorSystem system, DurableQueuesOptions options)
    {
        var props = QueueRegistry.Props(options.Time);
        if (!options.Cluster.Enabled) return system.ActorOf(props, RegistryName);
        if (options.Cluster.HasRole(ClusterRoles.Queue))
        {
            system.ActorOf(ClusterSingletonManager.Props(props, PoisonPill.Instance,
                ClusterSingletonManagerSettings.Create(system).WithRole(ClusterRoles.Queue)), RegistryName);
        }
        return system.ActorOf(ClusterSingletonProxy.Props("/user/" + RegistryName,
            ClusterSingletonProxySettings.Create(system).WithRole(ClusterRoles.Queue)), RegistryName + "-proxy");
    }

    /// <summary>The sharding type name of the queues.</summary>
    public const string ShardTypeName = "actors-queue";

    /// <summary>
    /// Starts the queues' shard region on a node with the queue role, or a proxy to it on any other node. Each
    /// queue is one entity; sharding hands a queue over with <see cref="QueueHost.HandOff"/>, so it drains first.
    /// </summary>
    private static IActorRef StartShardRegion(ActorSystem system, QueueClusterOptions cluster, Func<string, Props> hostProps)
    {
        var sharding = ClusterSharding.Get(system);
        var extractor = new QueueMessageExtractor(cluster.Shards);
        if (!cluster.HasRole(ClusterRoles.Queue)) return sharding.StartProxy(ShardTypeName, ClusterRoles.Queue, extractor);
        var settings = ClusterShardingSettings.Create(system).WithRole(ClusterRoles.Queue);
        return sharding.Start(ShardTypeName, hostProps, settings, extractor, sharding.DefaultShardAllocationStrategy(settings), QueueHost.HandOff.Instance);
    }

    /// <summary>Entity id = queue name; shard = a stable hash of it.</summary>
    private sealed class QueueMessageExtractor(int shards) : HashCodeMessageExtractor(shards)
    {
        public override string? EntityId(object message) => (message as IWithQueueId)?.QueueId;
    }
}

/// <summary>What <see cref="DurableQueues.Start"/> returns: the manager to Tell commands to, and a client.</summary>
/// <param name="Manager">The queue manager: Tell it <see cref="Enqueue"/> and receive <see cref="Accepted"/> or <see cref="Rejected"/>.</param>
/// <param name="Client">The task-based client.</param>
public sealed record DurableQueuesHandle(IActorRef Manager, IQueueClient Client)
{
    /// <summary>The schedule manager: Tell it schedule commands (<see cref="Schedules.ScheduleCommands"/>).</summary>
    public IActorRef ScheduleManager { get; init; } = ActorRefs.Nobody;

    /// <summary>The task-based schedule client.</summary>
    public IScheduleClient Schedules { get; init; } = null!;
}

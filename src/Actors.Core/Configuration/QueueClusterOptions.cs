namespace Actors.Configuration;

/// <summary>The roles a cluster node can play; a node may have any of them.</summary>
public static class ClusterRoles
{
    /// <summary>Hosts queue actors (cluster sharding entities).</summary>
    public const string Queue = "queue";

    /// <summary>Hosts consumer pools: the queues' routers deploy workers on it.</summary>
    public const string Worker = "worker";

    /// <summary>Serves the HTTP API.</summary>
    public const string Api = "api";
}

/// <summary>
/// Cluster mode: the node joins an Akka.Cluster over Akka.Remote, queues are cluster sharding entities that live
/// on one <see cref="ClusterRoles.Queue"/> node at a time and move with their journal-backed state, and each
/// queue's consumer pool has workers on every <see cref="ClusterRoles.Worker"/> node. Bind from
/// <c>Actors:Cluster</c>. A cluster needs a journal every node reaches: PostgreSQL.
/// </summary>
public sealed class QueueClusterOptions
{
    /// <summary>Whether the node runs in cluster mode. Default false (a standalone node).</summary>
    public bool Enabled { get; set; }

    /// <summary>The address Akka.Remote binds to. Default <c>127.0.0.1</c>; <c>0.0.0.0</c> in containers.</summary>
    public string Hostname { get; set; } = "127.0.0.1";

    /// <summary>The address other nodes reach this one at, when it differs from <see cref="Hostname"/>. Default: none.</summary>
    public string? PublicHostname { get; set; }

    /// <summary>The Akka.Remote TCP port. Default 4053; 0 picks a free port (not for seed nodes).</summary>
    public int Port { get; set; } = 4053;

    /// <summary>
    /// Comma-separated seed node addresses, e.g. <c>akka.tcp://actors@10.0.0.1:4053,akka.tcp://actors@10.0.0.2:4053</c>
    /// (the actor system's name comes after <c>akka.tcp://</c>). A node listed first joins itself when it starts
    /// first. With <see cref="RemoteTlsOptions.Enabled"/> the addresses are <c>akka.ssl.tcp://</c>; either scheme may
    /// be written, the node uses its transport's. Default: none.
    /// </summary>
    public string SeedNodes { get; set; } = "";

    /// <summary>
    /// How the node finds the cluster: <see cref="ClusterDiscovery.SeedNodes"/> (default; local and compose runs) or
    /// <see cref="ClusterDiscovery.Kubernetes"/> (Cluster Bootstrap over the Kubernetes API; <see cref="SeedNodes"/>
    /// must then be empty).
    /// </summary>
    public ClusterDiscovery Discovery { get; set; } = ClusterDiscovery.SeedNodes;

    /// <summary>Cluster Bootstrap over the Kubernetes API (<c>Actors:Cluster:Kubernetes</c>), used when <see cref="Discovery"/> is <see cref="ClusterDiscovery.Kubernetes"/>.</summary>
    public KubernetesDiscoveryOptions Kubernetes { get; set; } = new();

    /// <summary>Comma-separated roles of this node (see <see cref="ClusterRoles"/>). Default <c>queue,worker,api</c>.</summary>
    public string Roles { get; set; } = "queue,worker,api";

    /// <summary>
    /// How long the cluster's membership must be stable before the split-brain resolver (keep-majority) downs
    /// unreachable nodes, after which their queues move and their deliveries are redelivered. With
    /// <see cref="FailureDetectorPause"/> it sets how long a node may stall (a long GC pause, CPU starvation) before it
    /// is downed: about the sum of the two plus a second. Default 2 s; range 1 s – 5 min.
    /// </summary>
    public TimeSpan StableAfter { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The failure detector's <c>acceptable-heartbeat-pause</c>: how long heartbeats from a node may be missing
    /// (heartbeats go every second) before the node is marked unreachable. A crashed node is unreachable about this
    /// long plus 1–2 s after its last heartbeat. Default 2 s; range 1 s – 1 min.
    /// </summary>
    public TimeSpan FailureDetectorPause { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Akka's <c>down-removal-margin</c>: how long after a downed node is removed the survivors wait before the
    /// sharding coordinator and the singletons move its queues. It gives the other side of a network partition time
    /// to stop its queues before they start here; the journal refuses a second writer's events in any case (its key
    /// is the persistence id and sequence number), so a short margin costs no acknowledged message. Default 500 ms;
    /// range 100 ms – 5 min.
    /// </summary>
    public TimeSpan DownRemovalMargin { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Members that must have joined before any becomes Up, so queues are spread over the first nodes instead of all
    /// landing on the first one to start. Default 1; range 1–1,000.
    /// </summary>
    public int MinMembers { get; set; } = 1;

    /// <summary>Shards the queues are spread over; more than ten per queue node. Default 50; range 1–10,000. Every node must agree.</summary>
    public int Shards { get; set; } = 50;

    /// <summary>How often a queue asks its cluster-aware pool for its workers, so workers on a joining node start receiving deliveries. Default 1 s.</summary>
    public TimeSpan WorkerRefresh { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>TLS between the nodes (<c>Actors:Cluster:Tls</c>). Default: off.</summary>
    public RemoteTlsOptions Tls { get; set; } = new();

    /// <summary>The roles as a set.</summary>
    public IReadOnlySet<string> RoleSet => Split(Roles).ToHashSet(StringComparer.Ordinal);

    /// <summary>The scheme of this node's addresses: <c>akka.ssl.tcp</c> with TLS, <c>akka.tcp</c> without.</summary>
    public string AddressScheme => Tls.Enabled ? TlsScheme : PlainScheme;

    /// <summary>The seed nodes as a list, each in <see cref="AddressScheme"/>.</summary>
    public IReadOnlyList<string> SeedNodeList => Split(SeedNodes).Select(WithAddressScheme).ToList();

    /// <summary>Whether this node has <paramref name="role"/> (always true for a standalone node).</summary>
    public bool HasRole(string role) => !Enabled || RoleSet.Contains(role);

    /// <summary>Throws <see cref="ArgumentException"/> when a value is out of range.</summary>
    public void Validate()
    {
        if (!Enabled) return;
        if (string.IsNullOrWhiteSpace(Hostname)) throw new ArgumentException("Actors:Cluster:Hostname must be set.");
        if (Port is < 0 or > 65535) throw new ArgumentException($"Actors:Cluster:Port must be 0–65535, was {Port}.");
        if (StableAfter < TimeSpan.FromSeconds(1) || StableAfter > TimeSpan.FromMinutes(5)) throw new ArgumentException("Actors:Cluster:StableAfter must be 1 s – 5 min.");
        if (FailureDetectorPause < TimeSpan.FromSeconds(1) || FailureDetectorPause > TimeSpan.FromMinutes(1)) throw new ArgumentException("Actors:Cluster:FailureDetectorPause must be 1 s – 1 min.");
        if (DownRemovalMargin < TimeSpan.FromMilliseconds(100) || DownRemovalMargin > TimeSpan.FromMinutes(5)) throw new ArgumentException("Actors:Cluster:DownRemovalMargin must be 100 ms – 5 min.");
        if (MinMembers is < 1 or > 1000) throw new ArgumentException($"Actors:Cluster:MinMembers must be 1–1,000, was {MinMembers}.");
        if (Shards is < 1 or > 10_000) throw new ArgumentException($"Actors:Cluster:Shards must be 1–10,000, was {Shards}.");
        if (WorkerRefresh < TimeSpan.FromMilliseconds(100) || WorkerRefresh > TimeSpan.FromMinutes(1)) throw new ArgumentException("Actors:Cluster:WorkerRefresh must be 100 ms – 1 min.");
        foreach (var role in RoleSet)
        {
            if (role is not (ClusterRoles.Queue or ClusterRoles.Worker or ClusterRoles.Api))
                throw new ArgumentException($"Actors:Cluster:Roles: unknown role '{role}' (known: queue, worker, api).");
        }
        foreach (var seed in SeedNodeList)
        {
            if (!seed.StartsWith(AddressScheme + "://", StringComparison.Ordinal)) throw new ArgumentException($"Actors:Cluster:SeedNodes: '{seed}' is not an akka.tcp:// address (nor akka.ssl.tcp://).");
        }
        if (Discovery == ClusterDiscovery.Kubernetes)
        {
            if (SeedNodeList.Count > 0) throw new ArgumentException("Actors:Cluster:SeedNodes must be empty with Actors:Cluster:Discovery = Kubernetes (Cluster Bootstrap finds the nodes).");
            Kubernetes.Validate();
        }
        Tls.Validate();
    }

    private const string PlainScheme = "akka.tcp", TlsScheme = "akka.ssl.tcp";

    private string WithAddressScheme(string address)
    {
        foreach (var scheme in new[] { TlsScheme, PlainScheme })
        {
            if (address.StartsWith(scheme + "://", StringComparison.Ordinal)) return AddressScheme + address[scheme.Length..];
        }
        return address;
    }

    private static string[] Split(string? list) =>
        (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

namespace Actors.Configuration;

/// <summary>How a cluster node finds the others.</summary>
public enum ClusterDiscovery
{
    /// <summary>Fixed seed node addresses (<see cref="QueueClusterOptions.SeedNodes"/>): local and compose runs.</summary>
    SeedNodes,

    /// <summary>
    /// Akka.Management's Cluster Bootstrap over the Kubernetes API: each node lists the pods that match
    /// <see cref="KubernetesDiscoveryOptions.PodLabelSelector"/>, probes their management endpoints, and the pod with
    /// the lowest address forms the cluster when none exists yet. The node process starts Akka.Management for it.
    /// </summary>
    Kubernetes,
}

/// <summary>
/// Cluster Bootstrap over the Kubernetes API (<c>Actors:Cluster:Kubernetes</c>), used when
/// <see cref="QueueClusterOptions.Discovery"/> is <see cref="ClusterDiscovery.Kubernetes"/>. The pods' service
/// account needs <c>get</c>, <c>watch</c> and <c>list</c> on pods in their namespace (deploy/k8s/rbac.yaml).
/// </summary>
public sealed class KubernetesDiscoveryOptions
{
    /// <summary>The name the pods are discovered by: <c>{0}</c> in <see cref="PodLabelSelector"/>. Default <c>actors</c>.</summary>
    public string ServiceName { get; set; } = "actors";

    /// <summary>The label selector that finds the cluster's pods; <c>{0}</c> is <see cref="ServiceName"/>. Default <c>app={0}</c>.</summary>
    public string PodLabelSelector { get; set; } = "app={0}";

    /// <summary>The namespace to look for pods in. Default: none, the pod's own (from its service account).</summary>
    public string? Namespace { get; set; }

    /// <summary>
    /// The HTTP port of Akka.Management, where nodes probe each other during bootstrap; the container port must be
    /// named <c>management</c>. Default 8558; range 1–65535.
    /// </summary>
    public int ManagementPort { get; set; } = 8558;

    /// <summary>The address other pods reach this pod's management endpoint at (the pod IP). Default: none, the host's name.</summary>
    public string? ManagementHostname { get; set; }

    /// <summary>
    /// Pods that must be discovered, and answer, before the lowest one forms a new cluster: set it to the replica
    /// count so a rolling start forms one cluster, not several. Default 2; range 1–100.
    /// </summary>
    public int RequiredContactPoints { get; set; } = 2;

    /// <summary>Throws <see cref="ArgumentException"/> when a value is out of range.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ServiceName)) throw new ArgumentException("Actors:Cluster:Kubernetes:ServiceName must be set.");
        if (string.IsNullOrWhiteSpace(PodLabelSelector)) throw new ArgumentException("Actors:Cluster:Kubernetes:PodLabelSelector must be set.");
        if (ManagementPort is < 1 or > 65535) throw new ArgumentException($"Actors:Cluster:Kubernetes:ManagementPort must be 1–65535, was {ManagementPort}.");
        if (RequiredContactPoints is < 1 or > 100) throw new ArgumentException($"Actors:Cluster:Kubernetes:RequiredContactPoints must be 1–100, was {RequiredContactPoints}.");
    }
}

using Actors.Configuration;
using Akka.Hosting;
using Akka.Management.Dsl;
using Akka.Management.Cluster.Bootstrap;

namespace Actors.Node;

/// <summary>
/// With <c>Actors:Cluster:Discovery = Kubernetes</c> the node has no seed nodes: it starts Akka.Management (the HTTP
/// endpoint the other pods probe) and Cluster Bootstrap, which finds the pods through the Kubernetes API and joins
/// them, or forms the cluster when it is the lowest of the pods that answered. The settings are in
/// <see cref="DurableQueues.KubernetesBootstrapConfig"/>.
/// </summary>
internal static class KubernetesBootstrap
{
    /// <summary>Starts Akka.Management and Cluster Bootstrap when the cluster is discovered through Kubernetes; otherwise nothing.</summary>
    public static AkkaConfigurationBuilder WithKubernetesBootstrap(this AkkaConfigurationBuilder builder, QueueClusterOptions cluster) =>
        !cluster.Enabled || cluster.Discovery != ClusterDiscovery.Kubernetes ? builder : builder.AddStartup(async (system, _) =>
        {
            await AkkaManagement.Get(system).Start().ConfigureAwait(false);
            await ClusterBootstrap.Get(system).Start().ConfigureAwait(false);
        });
}

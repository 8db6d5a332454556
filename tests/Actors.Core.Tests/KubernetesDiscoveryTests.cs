using Actors.Configuration;

namespace Actors.Core.Tests;

public sealed class KubernetesDiscoveryTests
{
    private static DurableQueuesOptions KubernetesOptions(Action<QueueClusterOptions>? configure = null)
    {
        var options = new DurableQueuesOptions { Journal = JournalKind.PostgreSql, ConnectionString = "Host=db;Database=actors" };
        options.Cluster.Enabled = true;
        options.Cluster.Discovery = ClusterDiscovery.Kubernetes;
        options.Cluster.Hostname = "0.0.0.0";
        options.Cluster.PublicHostname = "actors-0.actors";
        configure?.Invoke(options.Cluster);
        return options;
    }

    [Fact]
    public void Kubernetes_discovery_has_no_seed_nodes_and_bootstraps_over_the_kubernetes_api_on_the_management_port()
    {
        var options = KubernetesOptions(c =>
        {
            c.Kubernetes.ManagementPort = 8600;
            c.Kubernetes.ManagementHostname = "10.1.2.3";
            c.Kubernetes.RequiredContactPoints = 3;
            c.Kubernetes.Namespace = "queues";
        });
        options.Validate();
        var config = DurableQueues.Configuration(options);

        Assert.Empty(config.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal(8600, config.GetInt("akka.management.http.port"));
        Assert.Equal(8600, config.GetInt("akka.management.http.bind-port"));
        Assert.Equal("10.1.2.3", config.GetString("akka.management.http.hostname"));
        Assert.Equal("0.0.0.0", config.GetString("akka.management.http.bind-hostname"));
        var discovery = config.GetConfig("akka.management.cluster.bootstrap.contact-point-discovery");
        Assert.Equal("actors", discovery.GetString("service-name"));
        Assert.Equal("kubernetes-api", discovery.GetString("discovery-method"));
        Assert.Equal("management", discovery.GetString("port-name"));
        Assert.Equal(3, discovery.GetInt("required-contact-point-nr"));
        Assert.Equal("kubernetes-api", config.GetString("akka.discovery.method"));
        Assert.StartsWith("Akka.Discovery.KubernetesApi.KubernetesApiServiceDiscovery, Akka.Discovery.KubernetesApi", config.GetString("akka.discovery.kubernetes-api.class"), StringComparison.Ordinal);
        Assert.Equal("app={0}", config.GetString("akka.discovery.kubernetes-api.pod-label-selector"));
        Assert.Equal("queues", config.GetString("akka.discovery.kubernetes-api.pod-namespace"));
        // Remoting is as with seed nodes: the pod's name behind the headless service.
        Assert.Equal("actors-0.actors", config.GetString("akka.remote.dot-netty.tcp.public-hostname"));
    }

    [Fact]
    public void Seed_node_discovery_stays_the_default_and_brings_no_management_settings()
    {
        var options = new DurableQueuesOptions { Journal = JournalKind.PostgreSql, ConnectionString = "Host=db;Database=actors" };
        options.Cluster.Enabled = true;
        options.Cluster.SeedNodes = "akka.tcp://actors@10.0.0.1:4053";
        options.Validate();
        var config = DurableQueues.Configuration(options);

        Assert.Equal(ClusterDiscovery.SeedNodes, options.Cluster.Discovery);
        Assert.Equal(["akka.tcp://actors@10.0.0.1:4053"], config.GetStringList("akka.cluster.seed-nodes"));
        Assert.False(config.HasPath("akka.management.cluster.bootstrap.contact-point-discovery.discovery-method"));
    }

    [Fact]
    public void Kubernetes_discovery_refuses_seed_nodes_and_out_of_range_settings()
    {
        Assert.Contains("SeedNodes must be empty", Assert.Throws<ArgumentException>(
            KubernetesOptions(c => c.SeedNodes = "akka.tcp://actors@10.0.0.1:4053").Validate).Message, StringComparison.Ordinal);
        Assert.Contains("ManagementPort must be 1–65535", Assert.Throws<ArgumentException>(
            KubernetesOptions(c => c.Kubernetes.ManagementPort = 0).Validate).Message, StringComparison.Ordinal);
        Assert.Contains("RequiredContactPoints must be 1–100", Assert.Throws<ArgumentException>(
            KubernetesOptions(c => c.Kubernetes.RequiredContactPoints = 0).Validate).Message, StringComparison.Ordinal);
    }
}

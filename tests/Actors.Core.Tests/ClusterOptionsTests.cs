using Actors.Configuration;

namespace Actors.Core.Tests;

public sealed class ClusterOptionsTests
{
    private static DurableQueuesOptions ClusterOptions(Action<QueueClusterOptions> configure)
    {
        var options = new DurableQueuesOptions { Journal = JournalKind.PostgreSql, ConnectionString = "Host=db;Database=actors" };
        options.Cluster.Enabled = true;
        options.Cluster.SeedNodes = "akka.tcp://actors@10.0.0.1:4053, akka.tcp://actors@10.0.0.2:4053";
        configure(options.Cluster);
        return options;
    }

    [Fact]
    public void Cluster_configuration_turns_on_remoting_seeds_roles_the_split_brain_resolver_and_sharding_of_queues()
    {
        var options = ClusterOptions(c =>
        {
            c.Hostname = "0.0.0.0";
            c.PublicHostname = "actors-0.actors";
            c.Port = 4100;
            c.Roles = "queue, worker";
            c.MinMembers = 3;
        });
        options.Validate();
        var config = DurableQueues.Configuration(options);

        Assert.Equal("cluster", config.GetString("akka.actor.provider"));
        Assert.Equal("0.0.0.0", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal("actors-0.actors", config.GetString("akka.remote.dot-netty.tcp.public-hostname"));
        Assert.Equal(4100, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal(["akka.tcp://actors@10.0.0.1:4053", "akka.tcp://actors@10.0.0.2:4053"], config.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal(["queue", "worker"], config.GetStringList("akka.cluster.roles").Order());
        Assert.Equal(3, config.GetInt("akka.cluster.min-nr-of-members"));
        Assert.Equal("keep-majority", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Contains("SplitBrainResolverProvider", config.GetString("akka.cluster.downing-provider-class"), StringComparison.Ordinal);
        Assert.Equal("queue", config.GetString("akka.cluster.sharding.role"));
        Assert.Equal("ddata", config.GetString("akka.cluster.sharding.state-store-mode"));
        Assert.False(config.GetBoolean("akka.cluster.sharding.remember-entities"));
        // Failover: the shipped detector pause, stable-after and removal margin (an unset margin would be stable-after).
        Assert.Equal(TimeSpan.FromSeconds(2), config.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause"));
        Assert.Equal(TimeSpan.FromSeconds(2), config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        Assert.Equal(TimeSpan.FromMilliseconds(500), config.GetTimeSpan("akka.cluster.down-removal-margin"));
        // The journal is still ours: the SQL plugin on the configured database.
        Assert.Equal("akka.persistence.journal.sql", config.GetString("akka.persistence.journal.plugin"));
        Assert.Equal("PostgreSQL.15", config.GetString("akka.persistence.journal.sql.provider-name"));
    }

    [Fact]
    public void A_standalone_node_has_no_cluster_settings_and_every_role()
    {
        var options = new DurableQueuesOptions();
        Assert.NotEqual("cluster", DurableQueues.Configuration(options).GetString("akka.actor.provider", "local"));
        Assert.True(options.Cluster.HasRole(ClusterRoles.Api));
        Assert.True(options.Cluster.HasRole(ClusterRoles.Worker));
    }

    [Theory]
    [InlineData("Roles", "queue,scheduler", "unknown role 'scheduler'")]
    [InlineData("SeedNodes", "10.0.0.1:4053", "not an akka.tcp:// address")]
    [InlineData("Port", "70000", "Port must be 0–65535")]
    [InlineData("MinMembers", "0", "MinMembers must be 1–1,000")]
    [InlineData("FailureDetectorPause", "00:00:00.500", "FailureDetectorPause must be 1 s – 1 min")]
    [InlineData("DownRemovalMargin", "00:00:00", "DownRemovalMargin must be 100 ms – 5 min")]
    [InlineData("StableAfter", "00:10:00", "StableAfter must be 1 s – 5 min")]
    public void Bad_cluster_options_are_refused_with_the_key_that_is_wrong(string property, string value, string expected)
    {
        var options = ClusterOptions(c =>
        {
            var info = typeof(QueueClusterOptions).GetProperty(property)!;
            object parsed = info.PropertyType == typeof(int) ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture)
                : info.PropertyType == typeof(TimeSpan) ? TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : value;
            info.SetValue(c, parsed);
        });
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}

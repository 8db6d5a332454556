using System.Collections.Concurrent;
using System.Text;
using Actors.Configuration;
using Actors.Core.Tests;
using Akka.Actor;
using Akka.Configuration;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Actors.Amqp.Tests;

/// <summary>
/// AMQP in a two-node cluster over a real PostgreSQL journal: node A (an actor system in this process, roles queue and
/// worker) hosts the queue; node B (the web node, role api only) takes AMQP connections and reaches it across the nodes.
/// </summary>
public sealed class ClusterConsumeTests(PostgresServer postgres) : IClassFixture<PostgresServer>, IAsyncLifetime
{
    private ActorSystem? _systemA;
    private AmqpNode? _nodeB;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_nodeB is not null) await ((IAsyncLifetime)_nodeB).DisposeAsync();
        if (_systemA is not null) await _systemA.Terminate();
    }

    [Fact]
    public async Task A_consumer_on_the_api_node_takes_and_acks_the_messages_of_a_queue_on_the_other_node()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        var (portA, portB) = (PostgresServer.FreePort(), PostgresServer.FreePort());
        var seed = $"akka.tcp://actors@127.0.0.1:{portA}";

        var options = new DurableQueuesOptions { Journal = JournalKind.PostgreSql, ConnectionString = connectionString, DrainTimeout = TimeSpan.FromSeconds(2), RequestTimeout = TimeSpan.FromSeconds(20) };
        options.Cluster.Enabled = true;
        options.Cluster.Port = portA;
        options.Cluster.SeedNodes = seed;
        options.Cluster.Roles = "queue,worker";
        options.Cluster.MinMembers = 2;
        options.AddQueue("remote", q => q.Workers = 0);
        var config = ConfigurationFactory.ParseString("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off").WithFallback(DurableQueues.Configuration(options));
        _systemA = ActorSystem.Create("actors", config);
        var a = DurableQueues.Start(_systemA, options);

        _nodeB = new AmqpNode(new Dictionary<string, string?>
        {
            ["Actors:Journal"] = "PostgreSql",
            ["Actors:ConnectionString"] = connectionString,
            ["Actors:Cluster:Enabled"] = "true",
            ["Actors:Cluster:Port"] = portB.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Actors:Cluster:SeedNodes"] = seed,
            ["Actors:Cluster:Roles"] = "api",
            ["Actors:Cluster:MinMembers"] = "2",
            ["Actors:Queues:remote:Workers"] = "0",
        }) { PauseTestQueues = false };
        await _nodeB.InitializeAsync();
        await Poll.Until(async () =>
        {
            try
            {
                return (await _nodeB.Queues.GetStatsAsync("remote")).QueueId == "remote";
            }
            catch (Exception e) when (e is Actors.Client.QueueException or TimeoutException or OperationCanceledException)
            {
                return false;
            }
        }, "node B reaches the queue on node A", TimeSpan.FromSeconds(60));

        await using var connection = await _nodeB.Factory().CreateConnectionAsync();
        await using (var publisher = await connection.CreateChannelAsync(new CreateChannelOptions(true, true)))
        {
            for (var i = 0; i < 20; i++)
                await publisher.BasicPublishAsync("", "remote", mandatory: true, new RabbitMQ.Client.BasicProperties { MessageId = $"m-{i}" }, Encoding.UTF8.GetBytes($"m-{i}"));
        }
        // The queue is A's: B holds no partition of it.
        var placement = Assert.Single((await a.Client.GetClusterStatusAsync()).Queues, q => q.QueueId == "remote");
        Assert.Equal(seed, placement.Node);

        await using var channel = await connection.CreateChannelAsync();
        var got = await channel.BasicGetAsync("remote", autoAck: false);
        Assert.NotNull(got);
        await channel.BasicAckAsync(got.DeliveryTag, multiple: false);

        await channel.BasicQosAsync(0, 5, false);
        var received = new ConcurrentQueue<string>();
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, d) =>
        {
            received.Enqueue(d.BasicProperties.MessageId!);
            await channel.BasicAckAsync(d.DeliveryTag, multiple: false);
        };
        await channel.BasicConsumeAsync("remote", autoAck: false, consumer);
        await Poll.Until(async () => (await a.Client.GetStatsAsync("remote")).TotalSucceeded == 20, "every message acked on node A", TimeSpan.FromSeconds(60));
        Assert.Equal(19, received.Distinct().Count());
        Assert.DoesNotContain(got.BasicProperties.MessageId, received);
    }
}

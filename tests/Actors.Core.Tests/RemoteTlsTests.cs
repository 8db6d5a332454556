using System.Collections.Concurrent;
using Actors.Configuration;
using Akka.Actor;
using Akka.Configuration;
using Actors.Hosting;
using Akka.Hosting;
using Akka.Remote;
using Akka.Remote.Transport.DotNetty;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace Actors.Core.Tests;

/// <summary>
/// Cluster nodes as actor systems in one process over loopback, with Akka.Remote over mutual TLS on self-signed
/// certificates trusted by thumbprint, and a real PostgreSQL journal.
/// </summary>
public sealed class RemoteTlsTests(PostgresServer postgres, ITestOutputHelper output) : IClassFixture<PostgresServer>, IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "actors-tls-tests", Guid.NewGuid().ToString("N"));
    private readonly List<ActorSystem> _systems = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var system in _systems) await system.Terminate();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private static DurableQueuesOptions Options(string connection, int port, string seed, string roles, Action<RemoteTlsOptions> tls)
    {
        var options = new DurableQueuesOptions { Journal = JournalKind.PostgreSql, ConnectionString = connection, DrainTimeout = TimeSpan.FromSeconds(5), RequestTimeout = TimeSpan.FromSeconds(20) };
        options.Cluster.Enabled = true;
        options.Cluster.Port = port;
        options.Cluster.SeedNodes = seed;
        options.Cluster.Roles = roles;
        tls(options.Cluster.Tls);
        options.AddQueue("jobs", q => q.Workers = 2);
        options.Handlers.Add<ReadOnlyMemory<byte>>("job", (_, _, _) => ValueTask.FromResult<object?>(null));
        return options;
    }

    private (ActorSystem System, DurableQueuesHandle Queues) StartNode(DurableQueuesOptions options)
    {
        var config = ConfigurationFactory.ParseString("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off").WithFallback(DurableQueues.Configuration(options));
        var system = ActorSystem.Create("actors", RemoteTls.SystemSetup(config, options.Cluster));
        _systems.Add(system);
        return (system, DurableQueues.Start(system, options));
    }

    private static Action<RemoteTlsOptions> Tls(TestCertificate certificate, params TestCertificate[] trusted) => tls =>
    {
        tls.Enabled = true;
        tls.CertificatePath = certificate.Path;
        tls.CertificatePassword = certificate.Password;
        tls.TrustedThumbprints = string.Join(",", trusted.Select(c => c.Thumbprint.ToLowerInvariant()));
    };

    private static int UpMembers(ActorSystem system) => Akka.Cluster.Cluster.Get(system).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up);

    [Fact]
    public async Task Two_nodes_with_trusted_certificates_form_a_cluster_and_messages_cross_it()
    {
        var connection = await postgres.CreateDatabaseAsync();
        // One certificate per node; each trusts both.
        var (certA, certB) = (TestCertificate.Create(_directory, "node-a"), TestCertificate.Create(_directory, "node-b"));
        var (portA, portB) = (PostgresServer.FreePort(), PostgresServer.FreePort());
        var seed = $"akka.tcp://actors@127.0.0.1:{portA}";
        var (systemA, a) = StartNode(Options(connection, portA, seed, "queue,api", Tls(certA, certA, certB)));
        var (systemB, b) = StartNode(Options(connection, portB, seed, "worker,api", Tls(certB, certA, certB)));

        await Poll.Until(() => UpMembers(systemA) == 2 && UpMembers(systemB) == 2, "both nodes Up in both views", TimeSpan.FromSeconds(60));
        // B has no queue role: the enqueue crosses to the queue on A, and A's pool runs the handler on B, the only worker node.
        var ids = new List<long>();
        for (var i = 0; i < 20; i++) ids.Add(await b.Client.EnqueueAsync("jobs", "job", new byte[] { 1 }));
        Assert.Equal(20, ids.Distinct().Count());
        await TestQueues.Until(async () => (await a.Client.GetStatsAsync("jobs")).TotalSucceeded == 20, "every message handled on the worker node");
        var placement = Assert.Single((await b.Client.GetClusterStatusAsync()).Queues);
        Assert.Equal($"akka.ssl.tcp://actors@127.0.0.1:{portA}", placement.Node);
        Assert.True(placement.WorkersByNode[$"akka.ssl.tcp://actors@127.0.0.1:{portB}"] > 0);
    }

    [Fact]
    public async Task A_node_without_TLS_or_with_an_untrusted_certificate_cannot_join()
    {
        var connection = await postgres.CreateDatabaseAsync();
        var (trusted, stranger) = (TestCertificate.Create(_directory, "member"), TestCertificate.Create(_directory, "stranger"));
        var (portA, portPlain, portStranger) = (PostgresServer.FreePort(), PostgresServer.FreePort(), PostgresServer.FreePort());
        var seed = $"akka.tcp://actors@127.0.0.1:{portA}";
        var (systemA, _) = StartNode(Options(connection, portA, seed, "queue,worker,api", Tls(trusted, trusted)));
        await Poll.Until(() => UpMembers(systemA) == 1, "the seed node Up", TimeSpan.FromSeconds(60));

        var (plain, _) = StartNode(Options(connection, portPlain, seed, "worker", _ => { }));
        // The stranger trusts the cluster's certificate, but the cluster does not trust the stranger's.
        var (untrusted, _) = StartNode(Options(connection, portStranger, seed, "worker", Tls(stranger, trusted, stranger)));
        var plainErrors = AssociationErrors(plain);
        var strangerErrors = AssociationErrors(untrusted);

        // Each keeps trying to reach the seed and fails; until then, and after, the cluster is the seed alone.
        await Poll.Until(() => plainErrors.Count >= 2 && strangerErrors.Count >= 2, "repeated failed associations with the seed", TimeSpan.FromSeconds(90));
        var members = Akka.Cluster.Cluster.Get(systemA).State.Members.Select(m => m.Address.Port).ToArray();
        Assert.Equal([portA], members);
        Assert.Equal(0, UpMembers(plain));
        Assert.Equal(0, UpMembers(untrusted));
        foreach (var (name, errors) in new[] { ("plain", plainErrors), ("stranger", strangerErrors) })
            output.WriteLine($"{name}: {errors.First().Cause?.GetBaseException().Message}");
    }

    [Fact]
    public async Task A_node_hosted_with_Akka_Hosting_takes_its_TLS_settings_from_configuration()
    {
        var connection = await postgres.CreateDatabaseAsync();
        var certificate = TestCertificate.Create(_directory);
        var port = PostgresServer.FreePort();
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Actors:Journal"] = "PostgreSql",
            ["Actors:ConnectionString"] = connection,
            ["Actors:DrainTimeout"] = "00:00:02",
            ["Actors:Cluster:Enabled"] = "true",
            ["Actors:Cluster:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Actors:Cluster:SeedNodes"] = $"akka.tcp://actors@127.0.0.1:{port}",
            ["Actors:Cluster:Tls:Enabled"] = "true",
            ["Actors:Cluster:Tls:CertificatePath"] = certificate.Path,
            ["Actors:Cluster:Tls:CertificatePassword"] = certificate.Password,
            ["Actors:Cluster:Tls:TrustedThumbprints"] = certificate.Thumbprint,
        });
        var queues = builder.Configuration.GetDurableQueuesOptions();
        builder.Services.AddAkka("actors", akka => akka
            .AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend)
            .WithDurableQueues(queues));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var system = host.Services.GetRequiredService<ActorSystem>();
            Assert.Equal(certificate.Thumbprint, system.Settings.Setup.Get<DotNettySslSetup>().Value.Certificate.Thumbprint);
            Assert.Equal("akka.ssl.tcp", ((ExtendedActorSystem)system).Provider.DefaultAddress.Protocol);
            await Poll.Until(() => UpMembers(system) == 1, "the node Up in a cluster of its own", TimeSpan.FromSeconds(60));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    /// <summary>Collects the association errors <paramref name="system"/> publishes from now on.</summary>
    private static ConcurrentQueue<AssociationErrorEvent> AssociationErrors(ActorSystem system)
    {
        var errors = new ConcurrentQueue<AssociationErrorEvent>();
        var listener = system.ActorOf(Props.Create(() => new Collector(errors)));
        system.EventStream.Subscribe(listener, typeof(AssociationErrorEvent));
        return errors;
    }

    private sealed class Collector : ReceiveActor
    {
        public Collector(ConcurrentQueue<AssociationErrorEvent> errors) => Receive<AssociationErrorEvent>(errors.Enqueue);
    }
}

using System.Globalization;
using Actors.Core.Tests;
using Xunit.Abstractions;

namespace Actors.Cluster.Tests;

/// <summary>
/// Real processes on loopback over a real PostgreSQL journal: the cluster sample's producer node (roles queue, api)
/// and worker nodes (queue, worker) with a custom C# handler. A worker node is killed with SIGKILL while messages
/// flow, a fourth node joins under load, a third leaves gracefully, and every accepted message must be completed.
/// </summary>
public sealed class ClusterProcessTests(PostgresServer postgres, ITestOutputHelper output) : IClassFixture<PostgresServer>, IDisposable
{
    private const int Messages = 50_000;
    private const int Queues = 6;
    private const int WorkersPerNode = 4;
    private const int Prefetch = 4;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "actors-cluster-tests", Guid.NewGuid().ToString("N"));
    private readonly List<SampleNode> _nodes = new();

    [Fact]
    public async Task A_killed_node_loses_nothing_a_joining_node_gets_work_and_a_leaving_node_hands_over()
    {
        Directory.CreateDirectory(_directory);
        var connection = await postgres.CreateDatabaseAsync();
        var ports = Enumerable.Range(0, 4).Select(_ => PostgresServer.FreePort()).ToArray();
        var seeds = $"akka.tcp://actors@127.0.0.1:{ports[0]},akka.tcp://actors@127.0.0.1:{ports[1]}";
        string[] Settings(string name) =>
        [
            "--Actors:Journal=PostgreSql", $"--Actors:ConnectionString={connection}",
            "--Actors:Cluster:Enabled=true", $"--Actors:Cluster:SeedNodes={seeds}", "--Actors:Cluster:MinMembers=3",
            "--Actors:Cluster:StableAfter=00:00:05", "--Actors:RequestTimeout=00:00:05", "--Actors:DrainTimeout=00:00:10",
            $"--Sample:Queues={Queues}", $"--Sample:WorkersPerNode={WorkersPerNode}", $"--Sample:Prefetch={Prefetch}",
            $"--Sample:CompletionsFile={Path.Combine(_directory, "completions-" + name + ".log")}",
            $"--Sample:AcceptedFile={Path.Combine(_directory, "accepted.log")}",
            "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Akka.Actor.ActorSystem=Information",
        ];
        SampleNode Start(string name, int port, string roles, params string[] extra)
        {
            var node = new SampleNode(name, port, roles, [.. Settings(name), .. extra], output);
            _nodes.Add(node);
            return node;
        }

        // A, the first seed, is listening before the others start, as in any rolling start.
        // The producer offers at least 50,000 messages and goes on until the test has seen the join and the leave.
        var stopProducing = Path.Combine(_directory, "stop-producing");
        var a = Start("A", ports[0], "queue,api", $"--Sample:Produce={Messages}", "--Sample:Rate=1500", "--Sample:WaitForMembers=3", "--Sample:SpreadOver=3",
            $"--Sample:ProduceUntilFile={stopProducing}");
        await Until(() => a.Listening, "A listens", 60);
        var b = Start("B", ports[1], "queue,worker");
        var c = Start("C", ports[2], "queue,worker");
        await Until(() => a.Values("placement").Count() == Queues, "every queue placed", 90);
        var onB = a.Values("placement").Select(l => l.Split(' ')).Where(p => p[1] == b.Address).Select(p => p[0]).ToHashSet();
        output.WriteLine($"queues on B: {string.Join(", ", onB)}");
        Assert.NotEmpty(onB);

        // SIGKILL B mid-run.
        await Until(() => Accepted().Count >= 10_000, "10,000 accepted", 120);
        b.Kill();
        var killedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        // Failover: until every queue that lived on B accepts again on its new node.
        await Until(() => onB.All(q => Accepted().Any(m => m.Queue == q && m.At > killedAt)), "B's queues accept again", 120);
        var failover = onB.Max(q => Accepted().Where(m => m.Queue == q && m.At > killedAt).Min(m => m.At)) - killedAt;

        // A fourth node joins under load and starts receiving deliveries.
        var d = Start("D", ports[3], "worker");
        // From the first moment any member saw D Up (the leader moves it to Up and the routers on every queue node deploy to it).
        long? DUp() => _nodes.SelectMany(n => n.Values("up")).Select(v => v.Split(' ')).Where(p => p[0] == d.Address)
            .Select(p => (long?)long.Parse(p[1], CultureInfo.InvariantCulture)).Min();
        await Until(() => d.Time("first-delivery") is not null && DUp() is not null, "D up and delivering", 120);
        var joinToFirstDelivery = d.Time("first-delivery")!.Value - DUp()!.Value;

        // C leaves gracefully (SIGTERM): its queues are handed over after draining, and it exits 0.
        var completedBeforeLeave = Completions().Count;
        c.Terminate();
        var leftAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(90))) await c.WaitForExitAsync(exit.Token);
        Assert.Equal(0, c.ExitCode);
        await Until(() => Completions().Any(m => m.At > leftAt), "completions after the leave", 60);
        await File.WriteAllTextAsync(stopProducing, "");

        await Until(() => a.Value("produce-done") is not null, "the producer finished", 300);
        var accepted = Accepted().Select(m => (m.Queue, m.Id)).ToHashSet();
        await Until(() => accepted.IsSubsetOf(Completions().Select(m => (m.Queue, m.Id))), "every accepted message completed", 180);

        var completions = Completions();
        var duplicates = completions.Count - completions.Select(m => (m.Queue, m.Id)).Distinct().Count();
        var duplicatesAfterLeave = completions.Where(m => m.At > leftAt).GroupBy(m => (m.Queue, m.Id))
            .Count(g => completions.Count(m => (m.Queue, m.Id) == g.Key) > 1);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"CLUSTER accepted={accepted.Count} completed={completions.Count} lost=0 duplicates={duplicates} duplicates_after_leave={duplicatesAfterLeave} failover_ms={failover} join_to_first_delivery_ms={joinToFirstDelivery} completed_before_leave={completedBeforeLeave}"));

        Assert.True(accepted.Count >= Messages, $"accepted {accepted.Count} of {Messages}");
        // Redeliveries are bounded by what was in flight: at most prefetch × workers per node × worker nodes per queue, per disruption.
        var inFlightBound = Queues * WorkersPerNode * Prefetch * 3;
        Assert.InRange(duplicates, 0, 2 * inFlightBound);
        Assert.InRange(duplicatesAfterLeave, 0, inFlightBound);
        Assert.False(a.HasExited, "the producer node stayed up");
        Assert.False(d.HasExited, "the joining node stayed up");
    }

    private List<(string Queue, long Id, long At)> Accepted() => SampleNode.ReadLines(Path.Combine(_directory, "accepted.log"))
        .Select(p => (p[0], long.Parse(p[1], CultureInfo.InvariantCulture), long.Parse(p[2], CultureInfo.InvariantCulture))).ToList();

    private List<(string Queue, long Id, long At)> Completions() => Directory.GetFiles(_directory, "completions-*.log").SelectMany(SampleNode.ReadLines)
        .Select(p => (p[0], long.Parse(p[1], CultureInfo.InvariantCulture), long.Parse(p[3], CultureInfo.InvariantCulture))).ToList();

    /// <summary>Polls <paramref name="condition"/>, failing at once when a node that must stay up has exited.</summary>
    private Task Until(Func<bool> condition, string what, int seconds) => Poll.Until(() =>
    {
        foreach (var node in _nodes.Where(n => n.HasExited && n.Name is "A" or "D")) throw new InvalidOperationException($"Node {node.Name} exited ({node.ExitCode}) while waiting for: {what}.");
        return condition();
    }, what, TimeSpan.FromSeconds(seconds), TimeSpan.FromMilliseconds(100));

    public void Dispose()
    {
        foreach (var node in _nodes) node.Dispose();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}

using System.Collections.Concurrent;
using Actors.Configuration;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.Core.Tests;

/// <summary>Two cluster nodes as two actor systems in one process, over loopback and a real PostgreSQL journal.</summary>
public sealed class InProcessClusterTests(PostgresServer postgres) : IClassFixture<PostgresServer>, IAsyncLifetime
{
    private readonly List<ActorSystem> _systems = new();
    private readonly TaskCompletionSource<string> _blockStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _blockCancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _gate.Set();
        foreach (var system in _systems) await system.Terminate();
    }

    private readonly ManualResetEventSlim _gate = new();

    private (ActorSystem System, DurableQueuesHandle Queues) StartNode(string connection, int port, string seed, string roles, ConcurrentBag<string> ranOn, string name, Action<DurableQueuesOptions>? more = null)
    {
        var options = new DurableQueuesOptions { Journal = JournalKind.PostgreSql, ConnectionString = connection, DrainTimeout = TimeSpan.FromSeconds(5), RequestTimeout = TimeSpan.FromSeconds(20) };
        options.Cluster.Enabled = true;
        options.Cluster.Port = port;
        options.Cluster.SeedNodes = seed;
        options.Cluster.Roles = roles;
        options.Cluster.MinMembers = 2;
        options.AddQueue("jobs", q => { q.Workers = 3; q.Partitions = 2; });
        options.Handlers.Add<ReadOnlyMemory<byte>>("job", (_, _, _) =>
        {
            ranOn.Add(name);
            return ValueTask.FromResult<object?>(null);
        });
        options.Handlers.Add<ReadOnlyMemory<byte>>("block", async (_, _, ct) =>
        {
            _blockStarted.TrySetResult(name);
            try { await Task.Delay(Timeout.Infinite, ct); }
            catch (OperationCanceledException) { _blockCancelled.TrySetResult(name); throw; }
            return null;
        });
        more?.Invoke(options);
        var config = ConfigurationFactory.ParseString("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off").WithFallback(DurableQueues.Configuration(options));
        var system = ActorSystem.Create("actors", config);
        _systems.Add(system);
        return (system, DurableQueues.Start(system, options));
    }

    /// <summary>Node A (the seed) and node B with the given roles, over a new database; where each handler ran goes to ranOn.</summary>
    private async Task<(ActorSystem SystemA, DurableQueuesHandle A, DurableQueuesHandle B, ConcurrentBag<string> RanOn, int PortA, int PortB)> StartPairAsync(string rolesA, string rolesB)
    {
        var connection = await postgres.CreateDatabaseAsync();
        var ranOn = new ConcurrentBag<string>();
        var (portA, portB) = (PostgresServer.FreePort(), PostgresServer.FreePort());
        var seed = $"akka.tcp://actors@127.0.0.1:{portA}";
        var (systemA, a) = StartNode(connection, portA, seed, rolesA, ranOn, "A");
        var (_, b) = StartNode(connection, portB, seed, rolesB, ranOn, "B");
        return (systemA, a, b, ranOn, portA, portB);
    }

    [Fact]
    public async Task A_queue_node_deploys_its_pool_on_the_worker_node_which_runs_its_own_handlers()
    {
        var (systemA, a, b, ranOn, portA, portB) = await StartPairAsync("queue,api", "worker");

        // B has no queue role: its client reaches the queue on A through the shard region proxy.
        var ids = new List<long>();
        for (var i = 0; i < 50; i++) ids.Add(await b.Client.EnqueueAsync("jobs", "job", new byte[] { 1 }));
        for (var i = 0; i < 50; i++) ids.Add(await a.Client.EnqueueAsync("jobs", "job", new byte[] { 2 }));
        Assert.Equal(100, ids.Distinct().Count());

        await TestQueues.Until(async () => (await a.Client.GetStatsAsync("jobs")).TotalSucceeded == 100, "every message handled");
        // Only B has the worker role, so every message ran in B's handler, deployed there by A's cluster-aware pool.
        Assert.Equal(100, ranOn.Count);
        Assert.All(ranOn, node => Assert.Equal("B", node));

        var status = await b.Client.GetClusterStatusAsync();
        Assert.Equal("cluster", status.Mode);
        Assert.Equal(2, status.Members.Count(m => m.Status == "Up"));
        var placement = Assert.Single(status.Queues);
        Assert.Equal($"akka.tcp://actors@127.0.0.1:{portA}", placement.Node);
        // Two partitions, both on the only queue node, each with a pool of 3 workers on the only worker node.
        Assert.Equal([0, 1], placement.PartitionNodes!.Keys);
        Assert.All(placement.PartitionNodes.Values, node => Assert.Equal(placement.Node, node));
        Assert.Equal(6, placement.WorkersByNode[$"akka.tcp://actors@127.0.0.1:{portB}"]);
        Assert.False(placement.WorkersByNode.ContainsKey(placement.Node));

        // Cancelling a message in flight on the other node fires its handler's token there, and it is not retried.
        var blocking = await a.Client.EnqueueAsync("jobs", "block", new byte[] { 3 });
        Assert.Equal("B", await _blockStarted.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        // B (no queue role) waits for the outcome: the wait and its answer cross the nodes.
        var awaitedOnB = b.Client.WaitAsync("jobs", blocking, TimeSpan.FromSeconds(20));
        var cancel = await a.Client.CancelAsync("jobs", blocking);
        Assert.Equal((Protocol.CancelOutcome.Cancelled, Protocol.MessageStatus.InFlight), (cancel.Outcome, cancel.PreviousStatus));
        Assert.Equal("B", await _blockCancelled.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(Protocol.MessageStatus.Cancelled, (await b.Client.GetMessageAsync("jobs", blocking))!.Status);
        Assert.Equal(Protocol.MessageStatus.Cancelled, (await awaitedOnB)!.Status);
    }

    [Fact]
    public async Task A_32_MiB_batch_through_a_node_without_the_queue_role_is_stored_whole()
    {
        var (systemA, a, b, ranOn, portA, portB) = await StartPairAsync("queue,worker", "api");

        // 40 payloads of 800 KiB: twice the 16 MiB frame as one message, so B's client must send it in runs.
        var batch = Enumerable.Range(0, 40).Select(i => new Protocol.QueueCommands.NewMessage("job", Enumerable.Repeat((byte)i, 800 * 1024).ToArray())).ToList();
        var outcomes = await b.Client.EnqueueBatchAsync("jobs", batch);

        Assert.All(outcomes, o => Assert.True(o.IsAccepted, o.Reason));
        var ids = outcomes.Select(o => o.MessageId!.Value).ToList();
        Assert.Equal(40, ids.Distinct().Count());
        await TestQueues.Until(async () => (await a.Client.GetStatsAsync("jobs")).TotalSucceeded == 40, "every message of the batch handled");
        for (var i = 0; i < ids.Count; i += 13)
        {
            var info = await b.Client.GetMessageAsync("jobs", ids[i]);
            Assert.Equal(Protocol.MessageStatus.Succeeded, info!.Status);
        }
    }

    [Fact]
    public async Task Readiness_is_per_node_so_a_node_stays_ready_while_queues_elsewhere_are_gone()
    {
        var (systemA, a, b, ranOn, portA, portB) = await StartPairAsync("queue,worker", "api");
        await a.Client.EnqueueAsync("jobs", "job", new byte[] { 1 });

        // A hosts both partitions of jobs once they have started; B, with only a proxy, hosts nothing and is ready.
        await TestQueues.Until(async () => (await a.Client.CheckLocalQueuesAsync()) is { IsReady: true, Hosted.Length: 2 }, "A to host both partitions");
        // B sees itself Up a moment after A does.
        Protocol.QueueQueries.LocalQueuesStatus onB = null!;
        await TestQueues.Until(async () => (onB = await b.Client.CheckLocalQueuesAsync()).IsReady, "B to be ready");
        Assert.Empty(onB.Hosted);
        Assert.Equal("Up", onB.MemberStatus);

        // The only queue node leaves: jobs cannot be reached from B, yet B itself stays ready.
        await systemA.Terminate();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b.Client.GetStatsAsync("jobs", new CancellationTokenSource(TimeSpan.FromSeconds(3)).Token));
        Assert.True((await b.Client.CheckLocalQueuesAsync()).IsReady);
    }

    [Fact]
    public async Task A_consumer_on_another_node_takes_deliveries_across_the_cluster_and_its_stop_detaches_it()
    {
        var connection = await postgres.CreateDatabaseAsync();
        var ranOn = new ConcurrentBag<string>();
        var (portA, portB) = (PostgresServer.FreePort(), PostgresServer.FreePort());
        var seed = $"akka.tcp://actors@127.0.0.1:{portA}";
        static void External(DurableQueuesOptions o) => o.AddQueue("ext", q => { q.Workers = 0; q.Partitions = 2; });
        var (systemA, a) = StartNode(connection, portA, seed, "queue", ranOn, "A", External);
        var (systemB, b) = StartNode(connection, portB, seed, "api", ranOn, "B", External);

        // The queue lives on A; the consumer on B attaches through B's manager (the shard region proxy).
        var seen = new ConcurrentQueue<(long Id, int Attempt)>();
        var queues = new ConcurrentDictionary<ActorPath, bool>();
        var consumer = systemB.ActorOf(Props.Create(() => new CompletingConsumer(seen, queues)), "consumer");
        var attached = await b.Client.AttachConsumerAsync("ext", consumer, prefetch: 4);
        Assert.Equal(("ext", 1), (attached.QueueId, attached.ConsumerCount));

        var ids = new List<long>();
        for (var i = 0; i < 20; i++) ids.Add(await b.Client.EnqueueAsync("ext", "job", new byte[] { 1 }));
        await TestQueues.Until(async () => (await a.Client.GetStatsAsync("ext")).TotalSucceeded == ids.Count, "every message to succeed on the remote consumer");
        Assert.Equal(ids.Order(), seen.Select(s => s.Id).Order());
        Assert.All(seen, s => Assert.Equal(1, s.Attempt));
        Assert.Empty(ranOn);

        // Both partitions' entities stop, as in a hand-over: their next incarnations know no consumer until B's manager
        // attaches it again at a wake-up.
        Assert.Equal(2, queues.Count);
        foreach (var queue in queues.Keys)
            await (await systemA.ActorSelection(queue.Parent).ResolveOne(TimeSpan.FromSeconds(30))).GracefulStop(TimeSpan.FromSeconds(30));
        for (var i = 0; i < 10; i++) ids.Add(await b.Client.EnqueueAsync("ext", "job", new byte[] { 2 }));
        await TestQueues.Until(async () => (await a.Client.GetStatsAsync("ext")).TotalSucceeded == ids.Count, "the later messages to succeed on the consumer attached again");
        Assert.Equal(ids.Order(), seen.Select(s => s.Id).Distinct().Order());
        Assert.Equal(1, (await a.Client.GetStatsAsync("ext")).Consumers);

        systemB.Stop(consumer);
        await TestQueues.Until(async () => (await a.Client.GetStatsAsync("ext")).Consumers == 0, "the stopped consumer to be detached");
    }

    [Fact]
    public async Task Queues_declared_on_one_node_take_messages_through_the_other_at_once()
    {
        var (_, a, b, ranOn, _, _) = await StartPairAsync("queue,worker,api", "queue,worker,api");
        // Several queues, so sharding places some of them on B, which hears of them from the registry.
        var names = Enumerable.Range(0, 6).Select(i => $"declared-{i}").ToList();
        foreach (var name in names)
        {
            var declared = await a.Client.DeclareQueueAsync(name, new QueueOptions { Workers = 1 });
            Assert.True(declared.Created, name);
            // Right after the declaration on A, B's manager and whichever node hosts the queue find it.
            await b.Client.EnqueueAsync(name, "job", new byte[] { 1 });
        }

        foreach (var name in names)
            await TestQueues.Until(async () => (await b.Client.GetStatsAsync(name)).TotalSucceeded == 1, $"the message of {name} to succeed");
        Assert.Equal(names.Count, ranOn.Count);
        var again = await b.Client.DeclareQueueAsync(names[0]);
        Assert.Equal((false, 1), (again.Created, again.Options.Workers));
        await TestQueues.Until(async () => names.All((await b.Client.ListQueuesAsync()).Select(s => s.QueueId).Contains), "B to list every declared queue");
        var unknown = await Assert.ThrowsAsync<Client.QueueException>(() => b.Client.EnqueueAsync("never-declared", "job", new byte[] { 1 }));
        Assert.Equal(Protocol.RejectionCode.UnknownQueue, unknown.Code);
        // A payload limit larger than the remoting frame carries is refused, and nothing is declared.
        var tooLarge = await Assert.ThrowsAsync<ArgumentException>(() => a.Client.DeclareQueueAsync("too-large", new QueueOptions { MaxPayloadBytes = 64 * 1024 * 1024 }));
        Assert.Contains("MaxPayloadBytes", tooLarge.Message, StringComparison.Ordinal);
        Assert.Equal(Protocol.RejectionCode.UnknownQueue, (await Assert.ThrowsAsync<Client.QueueException>(() => a.Client.GetStatsAsync("too-large"))).Code);
    }

    [Fact]
    public async Task A_declared_queue_deleted_through_one_node_is_gone_on_both_and_declared_again_starts_empty()
    {
        var (systemA, a, b, _, _, _) = await StartPairAsync("queue,worker,api", "queue,worker,api");
        // Several queues of two partitions, so sharding places entities on both nodes.
        var names = Enumerable.Range(0, 3).Select(i => $"doomed-{i}").ToList();
        foreach (var name in names)
        {
            await a.Client.DeclareQueueAsync(name, new QueueOptions { Workers = 0, Partitions = 2 });
            for (var i = 0; i < 4; i++) await b.Client.EnqueueAsync(name, "job", new byte[] { (byte)i });
        }
        // A consumer on A attached through A's manager to a queue whose entities may live on B.
        var told = new ConcurrentQueue<object>();
        var consumer = systemA.ActorOf(Props.Create(() => new RecordingConsumer(told)));
        await a.Client.AttachConsumerAsync(names[0], consumer, prefetch: 2);

        foreach (var name in names) Assert.Equal(4, await b.Client.DeleteQueueAsync(name));

        await TestQueues.Until(() => Task.FromResult(told.OfType<Protocol.ConsumerProtocol.ConsumerCancelled>().Any()), "the consumer to hear that its queue was deleted");
        foreach (var name in names)
        {
            foreach (var node in new[] { a, b })
                Assert.Equal(Protocol.RejectionCode.UnknownQueue, (await Assert.ThrowsAsync<Client.QueueException>(() => node.Client.GetStatsAsync(name))).Code);
        }

        // Declared again at once, through the other node: new entities, empty journals, the new options.
        foreach (var name in names)
        {
            Assert.True((await a.Client.DeclareQueueAsync(name, new QueueOptions { Workers = 0, Partitions = 1 })).Created);
            await b.Client.EnqueueAsync(name, "job", new byte[] { 9 });
            var stats = await b.Client.GetStatsAsync(name);
            Assert.Equal((1L, 1L), (stats.Depth, stats.TotalEnqueued));
        }
    }

    /// <summary>A consumer that keeps what it gets and notes every message.</summary>
    private sealed class RecordingConsumer : ReceiveActor
    {
        public RecordingConsumer(ConcurrentQueue<object> received) => ReceiveAny(received.Enqueue);
    }

    /// <summary>A consumer that completes every delivery at once and notes what it got, and from which queue partitions.</summary>
    private sealed class CompletingConsumer : ReceiveActor
    {
        public CompletingConsumer(ConcurrentQueue<(long Id, int Attempt)> seen, ConcurrentDictionary<ActorPath, bool> queues) =>
            Receive<Protocol.WorkerProtocol.Deliver>(d =>
            {
                seen.Enqueue((d.MessageId, d.Attempt));
                queues.TryAdd(Sender.Path, true);
                Sender.Tell(new Protocol.WorkerProtocol.Completed(d.QueueId, d.MessageId, d.Attempt, null, TimeSpan.Zero));
            });
    }

    [Fact]
    public async Task MaxConcurrency_holds_for_the_whole_cluster_with_workers_on_both_nodes()
    {
        var connection = await postgres.CreateDatabaseAsync();
        var ranOn = new ConcurrentBag<string>();
        var (portA, portB) = (PostgresServer.FreePort(), PostgresServer.FreePort());
        var seed = $"akka.tcp://actors@127.0.0.1:{portA}";
        var held = new HeldHandler();
        void Narrow(DurableQueuesOptions o)
        {
            o.AddQueue("narrow", q => { q.Workers = 3; q.MaxConcurrency = 2; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("hold", held.HandleAsync);
        }
        var (_, a) = StartNode(connection, portA, seed, "queue,worker", ranOn, "A", Narrow);
        StartNode(connection, portB, seed, "worker", ranOn, "B", Narrow);
        await TestQueues.Until(async () => (await a.Client.GetClusterStatusAsync()).Queues.FirstOrDefault(q => q.QueueId == "narrow")?.WorkersByNode.Count == 2,
            "the pool to have workers on both nodes");

        var ids = new List<long>();
        for (var i = 0; i < 8; i++) ids.Add(await a.Client.EnqueueAsync("narrow", "hold", new byte[] { 1 }));
        // Six workers on two nodes could take every message; the queue lets two out in all.
        await TestQueues.Until(() => Task.FromResult(held.Running == 2), "two handlers to run");
        var waiting = await a.Client.GetStatsAsync("narrow");
        Assert.Equal((2L, 6L), (waiting.InFlight, waiting.Depth));

        held.ReleaseAll(ids.Count);
        await TestQueues.Until(async () => (await a.Client.GetStatsAsync("narrow")).TotalSucceeded == ids.Count, "every message to succeed");
        Assert.Equal(2, held.Most);
        Assert.Equal(ids.Order(), held.Runs.Keys.Order());
        Assert.All(held.Runs.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task A_cluster_pool_replaces_a_worker_it_abandoned_on_another_node()
    {
        var connection = await postgres.CreateDatabaseAsync();
        var ranOn = new ConcurrentBag<string>();
        var (portA, portB) = (PostgresServer.FreePort(), PostgresServer.FreePort());
        var seed = $"akka.tcp://actors@127.0.0.1:{portA}";
        void Wedge(DurableQueuesOptions o)
        {
            o.AddQueue("wedge", q => { q.Workers = 2; q.Prefetch = 1; q.Lease = TimeSpan.FromSeconds(2); q.Retry.BaseDelay = TimeSpan.Zero; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("wedge", (_, ctx, _) =>
            {
                // The first attempt blocks its thread and ignores its token.
                if (ctx.Attempt == 1) _gate.Wait(CancellationToken.None);
                return ValueTask.FromResult<object?>(null);
            });
        }
        var (_, a) = StartNode(connection, portA, seed, "queue,api", ranOn, "A", Wedge);
        StartNode(connection, portB, seed, "worker", ranOn, "B", Wedge);
        var workerNode = $"akka.tcp://actors@127.0.0.1:{portB}";
        async Task<int> WorkersOnB() =>
            (await a.Client.GetClusterStatusAsync()).Queues.Single(q => q.QueueId == "wedge").WorkersByNode.GetValueOrDefault(workerNode);
        await TestQueues.Until(async () => await WorkersOnB() == 2, "the pool deployed on the worker node");

        var id = await a.Client.EnqueueAsync("wedge", "wedge", new byte[] { 1 });

        await TestQueues.Until(async () => (await a.Client.GetMessageAsync("wedge", id))!.Status == Protocol.MessageStatus.Succeeded, "the message retried on another worker");
        Assert.True((await a.Client.GetMessageAsync("wedge", id))!.Attempts >= 2);
        // The abandoned worker on B is stopped and the cluster-aware pool deploys a new one there.
        await TestQueues.Until(async () => await WorkersOnB() == 2, "the pool back at its size");
    }

    [Fact]
    public async Task An_autoscaled_pool_splits_its_active_workers_across_the_nodes_and_a_node_that_joins_gets_its_share()
    {
        var connection = await postgres.CreateDatabaseAsync();
        var ranOn = new ConcurrentBag<string>();
        var (portA, portB) = (PostgresServer.FreePort(), PostgresServer.FreePort());
        var seed = $"akka.tcp://actors@127.0.0.1:{portA}";
        var release = new SemaphoreSlim(0);
        var heldOn = new ConcurrentBag<string>();
        Action<DurableQueuesOptions> Elastic(string node) => o =>
        {
            o.Cluster.MinMembers = 1;
            // Four active workers, and no scale-down within the test: the set only moves between nodes.
            o.AddQueue("elastic", q =>
            {
                q.Workers = 4;
                q.Prefetch = 1;
                q.Autoscale = new AutoscaleOptions { MinWorkers = 1, MaxWorkers = 4, ScaleDownAfter = TimeSpan.FromMinutes(10) };
            });
            o.Handlers.Add<ReadOnlyMemory<byte>>("hold", async (_, _, ct) =>
            {
                heldOn.Add(node);
                await release.WaitAsync(ct);
                return null;
            });
        };
        var (_, a) = StartNode(connection, portA, seed, "queue,worker", ranOn, "A", Elastic("A"));
        await TestQueues.Until(async () => (await a.Client.GetStatsAsync("elastic")).Autoscale?.Active == 4, "four active workers on A alone");

        StartNode(connection, portB, seed, "worker", ranOn, "B", Elastic("B"));
        await TestQueues.Until(async () => (await a.Client.GetStatsAsync("elastic")).Autoscale?.Deployed == 8, "the pool deployed on B too");
        var stats = (await a.Client.GetStatsAsync("elastic")).Autoscale!;
        Assert.Equal((4, 4), (stats.Active, stats.Target));

        // One delivery per active worker (prefetch 1): the active set is two on each node.
        var ids = new List<long>();
        for (var i = 0; i < 4; i++) ids.Add(await a.Client.EnqueueAsync("elastic", "hold", new byte[] { 1 }));
        await TestQueues.Until(() => Task.FromResult(heldOn.Count == 4), "four handlers to run");
        Assert.Equal(new Dictionary<string, int> { ["A"] = 2, ["B"] = 2 }, heldOn.GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count()));

        release.Release(ids.Count);
        await TestQueues.Until(async () => (await a.Client.GetStatsAsync("elastic")).TotalSucceeded == ids.Count, "every message to succeed");
        Assert.Equal(0, (await a.Client.GetStatsAsync("elastic")).TotalFailedAttempts);
    }
}

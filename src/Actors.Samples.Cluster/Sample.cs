using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Actors.Client;
using Actors.Handlers;
using Actors.Protocol;
using Actors.Schedules;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Actors.Protocol.QueueCommands;

namespace Actors.Samples.Cluster;

/// <summary>The sample's own settings (section <c>Sample</c>).</summary>
public sealed class SampleOptions
{
    /// <summary>Queues <c>jobs-0</c> … declared on every node. Default 6.</summary>
    public int Queues { get; set; } = 6;

    /// <summary>Workers of each queue on each worker node. Default 4.</summary>
    public int WorkersPerNode { get; set; } = 4;

    /// <summary>Deliveries a worker may hold. Default 4.</summary>
    public int Prefetch { get; set; } = 4;

    /// <summary>Messages this node produces, spread evenly over the queues; 0 = a node that produces nothing. Default 0.</summary>
    public int Produce { get; set; }

    /// <summary>
    /// When set, the producer goes on past <see cref="Produce"/> messages, at the same rate, until this file exists:
    /// load lasts as long as a test needs it. Default: none.
    /// </summary>
    public string? ProduceUntilFile { get; set; }

    /// <summary>Messages per second this node offers in total. Default 1,500.</summary>
    public int Rate { get; set; } = 1500;

    /// <summary>Cluster members that must be up before producing starts. Default 1.</summary>
    public int WaitForMembers { get; set; } = 1;

    /// <summary>Nodes the queues should be spread over before producing starts (waits up to a minute for rebalancing). Default 1.</summary>
    public int SpreadOver { get; set; } = 1;

    /// <summary>
    /// Where the handler appends <c>queue id attempt unix-ms</c> for every message it completes, followed by the
    /// occurrence (the <c>schedule-occurrence</c> header, UTC ISO 8601) when a schedule enqueued the message.
    /// Default <c>completions.log</c>.
    /// </summary>
    public string CompletionsFile { get; set; } = "completions.log";

    /// <summary>
    /// A schedule id: each node with the queue role prints <c>SAMPLE schedule-here {id} {unix-ms}</c> when that
    /// schedule's actor (a sharding entity) starts running on it, so a test knows which node fires it. Default: none.
    /// </summary>
    public string? WatchSchedule { get; set; }

    /// <summary>Where the producer appends <c>queue id unix-ms</c> for every message a queue accepted. Default <c>accepted.log</c>.</summary>
    public string AcceptedFile { get; set; } = "accepted.log";

    /// <summary>The name of queue <paramref name="index"/>.</summary>
    public static string QueueName(int index) => "jobs-" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>Binds the <c>Sample</c> section.</summary>
    public static SampleOptions Bind(IConfiguration configuration)
    {
        var options = new SampleOptions();
        configuration.GetSection("Sample").Bind(options);
        return options;
    }

    /// <summary>Milliseconds since the Unix epoch, for the log lines.</summary>
    public static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}

/// <summary>The sample's task: "record this item".</summary>
/// <param name="Sequence">The producer's sequence number.</param>
public sealed record RecordTask(long Sequence)
{
    /// <summary>The message type name.</summary>
    public const string Type = "record";
}

/// <summary>A custom C# handler: records that the message ran (a stand-in for "sync this record").</summary>
public sealed class RecordHandler(CompletionLog log) : IMessageHandler<RecordTask>
{
    /// <inheritdoc />
    public ValueTask<object?> HandleAsync(RecordTask payload, MessageContext context, CancellationToken cancellationToken)
    {
        log.Record(context.QueueId, context.MessageId, context.Attempt, context.Headers.GetValueOrDefault(ScheduleHeaders.Occurrence));
        return ValueTask.FromResult<object?>(null);
    }
}

/// <summary>An append-only file of completed messages, flushed per line so a killed process keeps what it wrote.</summary>
public sealed class CompletionLog : IDisposable
{
    private readonly StreamWriter _writer;
    private readonly Lock _lock = new();
    private bool _first = true;

    /// <summary>Opens the log for appending.</summary>
    public CompletionLog(SampleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _writer = new StreamWriter(new FileStream(options.CompletionsFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite), new UTF8Encoding(false)) { AutoFlush = true };
    }

    /// <summary>Appends one completion; <paramref name="occurrence"/> is the schedule occurrence the message is for, if any.</summary>
    public void Record(string queue, long id, int attempt, string? occurrence = null)
    {
        var now = SampleOptions.NowMs();
        lock (_lock)
        {
            if (_first)
            {
                _first = false;
                Console.WriteLine($"SAMPLE first-delivery {now}");
            }
            _writer.WriteLine(occurrence is null ? $"{queue} {id} {attempt} {now}" : $"{queue} {id} {attempt} {now} {occurrence}");
        }
    }

    /// <inheritdoc />
    public void Dispose() => _writer.Dispose();
}

/// <summary>Prints membership milestones as <c>SAMPLE</c> lines.</summary>
public static class SampleEvents
{
    /// <summary>Prints <c>SAMPLE up {address} {unix-ms}</c> each time this node sees a member become Up.</summary>
    public static void WatchMembership(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        if (((ExtendedActorSystem)system).Provider is not Akka.Cluster.ClusterActorRefProvider) return;
        system.ActorOf(Props.Create<MembershipPrinter>(), "sample-membership");
    }

    private sealed class MembershipPrinter : ReceiveActor
    {
        public MembershipPrinter()
        {
            Receive<Akka.Cluster.ClusterEvent.MemberUp>(up => Console.WriteLine($"SAMPLE up {up.Member.Address} {SampleOptions.NowMs()}"));
            Receive<Akka.Cluster.ClusterEvent.CurrentClusterState>(_ => { });
        }

        protected override void PreStart() =>
            Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, Akka.Cluster.ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(Akka.Cluster.ClusterEvent.MemberUp));

        protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
    }
}

/// <summary>
/// Produces <see cref="SampleOptions.Produce"/> messages at <see cref="SampleOptions.Rate"/> per second, one loop
/// per queue, in batches; a message refused or unanswered is offered again, and only what a queue accepted is
/// written to the accepted file.
/// </summary>
public sealed class Producer(IServiceProvider services, SampleOptions options) : BackgroundService
{
    private const int BatchSize = 20;
    private readonly Lock _lock = new();
    private IQueueClient _client = null!;
    private ActorSystem _system = null!;
    private long _accepted;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Resolved once the host has started, so the actor system and the queues are up.
        _system = services.GetRequiredService<ActorSystem>();
        _client = services.GetRequiredService<IQueueClient>();
        await WaitForMembers(stoppingToken).ConfigureAwait(false);
        await PrintPlacement(stoppingToken).ConfigureAwait(false);
        await using var accepted = new StreamWriter(new FileStream(options.AcceptedFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite), new UTF8Encoding(false));
        var perQueue = options.Produce / options.Queues;
        var interval = TimeSpan.FromSeconds((double)BatchSize * options.Queues / options.Rate);
        Console.WriteLine($"SAMPLE produce-start {SampleOptions.NowMs()}");
        await Task.WhenAll(Enumerable.Range(0, options.Queues).Select(i =>
            ProduceQueue(SampleOptions.QueueName(i), perQueue + (i < options.Produce % options.Queues ? 1 : 0), interval, accepted, stoppingToken))).ConfigureAwait(false);
        Console.WriteLine($"SAMPLE produce-done {_accepted}");
    }

    private async Task ProduceQueue(string queue, int count, TimeSpan interval, StreamWriter accepted, CancellationToken stoppingToken)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(new RecordTask(0));
        var waiting = new Queue<long>(Enumerable.Range(0, count).Select(n => (long)n));
        var clock = Stopwatch.StartNew();
        var batches = 0L;
        var next = (long)count;
        while (!stoppingToken.IsCancellationRequested)
        {
            if (waiting.Count == 0)
            {
                if (options.ProduceUntilFile is not { } stop || File.Exists(stop)) break;
                for (var i = 0; i < BatchSize; i++) waiting.Enqueue(next++);
            }
            var due = interval * batches++;
            if (due > clock.Elapsed) await Task.Delay(due - clock.Elapsed, stoppingToken).ConfigureAwait(false);
            var batch = new List<long>();
            while (batch.Count < BatchSize && waiting.TryDequeue(out var sequence)) batch.Add(sequence);
            var messages = batch.Select(_ => new NewMessage(RecordTask.Type, payload)).ToList();
            ImmutableArray<EnqueueOutcome> outcomes;
            try
            {
                outcomes = await _client.EnqueueBatchAsync(queue, messages, stoppingToken).ConfigureAwait(false);
            }
            catch (QueueException)
            {
                // Unavailable (e.g. the queue is moving to another node) or unanswered: offer the batch again.
                foreach (var sequence in batch) waiting.Enqueue(sequence);
                await Task.Delay(100, stoppingToken).ConfigureAwait(false);
                continue;
            }
            var now = SampleOptions.NowMs();
            var lines = new StringBuilder();
            for (var i = 0; i < outcomes.Length; i++)
            {
                if (outcomes[i].MessageId is { } id) lines.Append(CultureInfo.InvariantCulture, $"{queue} {id} {now}\n");
                else waiting.Enqueue(batch[i]);
            }
            lock (_lock)
            {
                accepted.Write(lines.ToString());
                accepted.Flush();
                var before = _accepted;
                _accepted += outcomes.Count(o => o.MessageId is not null);
                if (_accepted / 5000 != before / 5000) Console.WriteLine($"SAMPLE accepted {_accepted} {now}");
            }
        }
    }

    private async Task WaitForMembers(CancellationToken stoppingToken)
    {
        if (((ExtendedActorSystem)_system).Provider is not Akka.Cluster.ClusterActorRefProvider) return;
        var cluster = Akka.Cluster.Cluster.Get(_system);
        while (cluster.State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) < options.WaitForMembers)
            await Task.Delay(100, stoppingToken).ConfigureAwait(false);
    }

    private async Task PrintPlacement(CancellationToken stoppingToken)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            var status = await _client.GetClusterStatusAsync(stoppingToken).ConfigureAwait(false);
            var spread = status.Queues.Select(q => q.Node).Distinct().Count() >= options.SpreadOver || DateTime.UtcNow > deadline;
            if (status.Unplaced.IsEmpty && status.Queues.Length == options.Queues && spread)
            {
                foreach (var queue in status.Queues) Console.WriteLine($"SAMPLE placement {queue.QueueId} {queue.Node}");
                return;
            }
            await Task.Delay(200, stoppingToken).ConfigureAwait(false);
        }
    }
}

/// <summary>
/// Prints <c>SAMPLE schedule-here {id} {unix-ms}</c> each time the watched schedule (<see cref="SampleOptions.WatchSchedule"/>)
/// starts running on this node: it asks the node's schedule shard region for its entities every 200 ms.
/// </summary>
public sealed class ScheduleWatcher(IServiceProvider services, SampleOptions options) : BackgroundService
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var id = options.WatchSchedule!;
        var system = services.GetRequiredService<ActorSystem>();
        var sharding = ClusterSharding.Get(system);
        var here = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(Poll, stoppingToken).ConfigureAwait(false);
            if (!sharding.ShardTypeNames.Contains(DurableSchedules.ShardTypeName)) continue;
            CurrentShardRegionState state;
            try
            {
                state = await sharding.ShardRegion(DurableSchedules.ShardTypeName)
                    .Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(2), stoppingToken).ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                continue;
            }
            var now = state.Shards.Any(s => s.EntityIds.Contains(id));
            if (now && !here) Console.WriteLine($"SAMPLE schedule-here {id} {SampleOptions.NowMs()}");
            here = now;
        }
    }
}

using System.Collections.Immutable;
using Actors.Client;
using Actors.Configuration;
using Actors.Protocol;
using static Actors.Protocol.QueueCommands;

namespace Actors.Core.Tests;

public sealed class PartitionTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "actors-tests", Guid.NewGuid().ToString("N"));
    private readonly List<Akka.Actor.ActorSystem> _systems = new();

    public void Dispose()
    {
        foreach (var system in _systems) system.Terminate().Wait(TimeSpan.FromSeconds(10));
        TestQueues.DeleteDirectory(_data);
    }

    [Fact]
    public void Entity_ids_message_ids_and_keys_map_to_partitions_stably()
    {
        Assert.Equal("orders", Partitions.EntityId("orders", 0));
        Assert.Equal("orders#3", Partitions.EntityId("orders", 3));
        Assert.Equal(("orders", 3), Partitions.Parse("orders#3"));
        Assert.Equal(("orders", 0), Partitions.Parse("orders"));
        Assert.Equal(0, Partitions.OfMessage(12345));
        Assert.Equal(7, Partitions.OfMessage(Partitions.IdBase(7) + 1));
        // The same key always lands in the same partition (a stable hash, not string.GetHashCode), spread over all of them.
        Assert.Equal(Partitions.OfKey("customer-42", 8), Partitions.OfKey("customer-42", 8));
        Assert.Equal(8, Enumerable.Range(0, 200).Select(i => Partitions.OfKey($"customer-{i}", 8)).Distinct().Count());
        Assert.Equal((int)(0xE40C292Cu % 1000), Partitions.OfKey("a", 1000)); // FNV-1a("a") = 0xE40C292C
    }

    private DurableQueuesHandle Start(int partitions = 4, int redrivePerSecond = 10_000)
    {
        var options = TestQueues.NewOptions(_data);
        // Keyed messages without a handler are dead-lettered one after another rather than parking their keys.
        options.AddQueue("hot", q => { q.Partitions = partitions; q.Workers = 2; q.RedrivePerSecond = redrivePerSecond; q.KeyFailure = KeyFailureAction.DeadLetterAndContinue; });
        options.Handlers.Add<ReadOnlyMemory<byte>>("job", (_, _, _) => ValueTask.FromResult<object?>(null));
        var (system, queues) = TestQueues.StartNode(options);
        _systems.Add(system);
        return queues;
    }

    private static NewMessage Message(string type, string? key) =>
        new(type, new byte[] { 1 }, key is null ? null : ImmutableDictionary<string, string>.Empty.Add(Partitions.KeyHeader, key));

    [Fact]
    public async Task A_partitioned_queue_spreads_keyless_work_keeps_keys_together_and_answers_as_one_queue()
    {
        var queues = Start();
        var client = queues.Client;

        var keyless = new List<long>();
        for (var i = 0; i < 40; i++) keyless.Add(await client.EnqueueAsync("hot", "job", new byte[] { 1 }));
        Assert.Equal([0, 1, 2, 3], keyless.Select(Partitions.OfMessage).Distinct().Order());

        var keyHeaders = ImmutableDictionary<string, string>.Empty.Add(Partitions.KeyHeader, "customer-7");
        var keyed = new List<long>();
        for (var i = 0; i < 10; i++) keyed.Add(await client.EnqueueAsync("hot", "job", new byte[] { 2 }, keyHeaders));
        Assert.All(keyed, id => Assert.Equal(Partitions.OfKey("customer-7", 4), Partitions.OfMessage(id)));

        // A batch with several keys is split over their partitions; the outcomes come back in the batch's order
        // (each message has its own type, which the queue keeps; with no handler for it, it is dead-lettered).
        var batch = Enumerable.Range(0, 20).Select(i => Message($"b{i}", $"k{i % 5}")).ToList();
        var outcomes = await client.EnqueueBatchAsync("hot", batch);
        Assert.Equal(20, outcomes.Length);
        for (var i = 0; i < 20; i++)
        {
            var id = outcomes[i].MessageId!.Value;
            Assert.Equal(Partitions.OfKey($"k{i % 5}", 4), Partitions.OfMessage(id));
            Assert.Equal($"b{i}", (await client.GetMessageAsync("hot", id))!.Type);
        }

        await TestQueues.Until(async () => await client.GetStatsAsync("hot") is { TotalSucceeded: 50, DeadLettered: 20 }, "every message handled");
        var stats = await client.GetStatsAsync("hot");
        Assert.Equal(("hot", 70L, 8), (stats.QueueId, stats.TotalEnqueued, stats.Workers));
        Assert.Equal(MessageStatus.Succeeded, (await client.GetMessageAsync("hot", keyless[^1]))!.Status);
        Assert.Null(await client.GetMessageAsync("hot", Partitions.IdBase(9) + 1));

        var placement = (await client.GetClusterStatusAsync()).Queues.Single();
        Assert.Equal([0, 1, 2, 3], placement.PartitionNodes!.Keys);
        Assert.Equal(8, placement.WorkersByNode.Values.Sum());
    }

    [Fact]
    public async Task Dead_letters_of_every_partition_are_listed_in_id_order_grouped_redriven_and_purged_together()
    {
        var client = Start().Client;
        var ids = new List<long>();
        for (var i = 0; i < 8; i++) ids.Add(await client.EnqueueAsync("hot", "no-handler", new byte[] { 1 }));
        await TestQueues.Until(async () => (await client.GetStatsAsync("hot")).DeadLettered == 8, "every message dead-lettered");

        var first = await client.ListDeadLettersAsync("hot", limit: 5);
        Assert.Equal(8, first.TotalMatching);
        Assert.Equal(ids.Order().Take(5), first.Items.Select(i => i.MessageId));
        var second = await client.ListDeadLettersAsync("hot", afterId: first.NextAfterId!.Value, limit: 5);
        Assert.Equal(ids.Order().Skip(5), second.Items.Select(i => i.MessageId));
        Assert.Null(second.NextAfterId);

        var group = Assert.Single(await client.GroupDeadLettersAsync("hot"));
        Assert.Equal(8, group.Count);

        Assert.Equal(8, await client.RedriveDeadLettersAsync("hot"));
        await TestQueues.Until(async () => (await client.GetStatsAsync("hot")).TotalDeadLettered == 16, "the redriven messages dead-lettered again");
        Assert.Equal(8, await client.PurgeDeadLettersAsync("hot"));
        Assert.Equal(0, (await client.GetStatsAsync("hot")).DeadLettered);
    }

    [Fact]
    public async Task A_redrive_job_runs_in_every_partition_under_one_id_and_is_cancelled_as_one()
    {
        // 10/s: one dead letter a chunk, so 6 in a partition is a job there.
        var client = Start(partitions: 2, redrivePerSecond: 10).Client;
        for (var i = 0; i < 12; i++) await client.EnqueueAsync("hot", "no-handler", new byte[] { 1 });
        await TestQueues.Until(async () => (await client.GetStatsAsync("hot")).DeadLettered == 12, "every message dead-lettered");

        var started = await client.StartRedriveAsync("hot");
        Assert.Equal(12, started.Selected);
        Assert.Equal([0, 1], started.Jobs!.Value.Select(j => j.Partition).Order());
        var jobId = Assert.Single(started.Jobs.Value.Select(j => j.JobId).Distinct());
        Assert.Equal([jobId], (await client.GetStatsAsync("hot")).RedriveJobs!.Value.Select(j => j.JobId).Distinct());

        var cancelled = await client.CancelRedriveJobAsync("hot", jobId);
        Assert.True(cancelled.Cancelled);
        Assert.Equal(12, cancelled.Job!.Total);
        Assert.Empty(await client.ListRedriveJobsAsync("hot"));
        Assert.False((await client.CancelRedriveJobAsync("hot", jobId)).Cancelled);
    }

    [Fact]
    public async Task Every_partition_recovers_its_own_journal_after_a_restart()
    {
        var first = Start().Client;
        var before = new List<long>();
        for (var i = 0; i < 12; i++) before.Add(await first.EnqueueAsync("hot", "job", new byte[] { 1 }));
        await TestQueues.Until(async () => (await first.GetStatsAsync("hot")).TotalSucceeded == 12, "the first messages handled");
        await _systems[0].Terminate();

        var second = Start().Client;
        Assert.Equal(12, (await second.GetStatsAsync("hot")).TotalSucceeded);
        var after = new List<long>();
        for (var i = 0; i < 12; i++) after.Add(await second.EnqueueAsync("hot", "job", new byte[] { 1 }));
        // Each partition continues its own sequence: no id is handed out twice.
        Assert.Empty(before.Intersect(after));
        Assert.All(after, id => Assert.True(id > before.Where(b => Partitions.OfMessage(b) == Partitions.OfMessage(id)).DefaultIfEmpty(0).Max()));
    }

    [Fact]
    public void Only_journal_streams_of_the_queue_at_or_above_the_declared_count_are_candidates()
    {
        string[] ids = ["queue-hot-0", "queue-hot-1", "queue-hot-3", "queue-hot-2", "queue-hot-x-5", "queue-hotter-4", "schedule-hot-9", "queue-hot-10"];
        Assert.Equal([2, 3, 10], Queues.PartitionCheck.StrandedCandidates(ids, "hot", 2).ToArray());
        Assert.Empty(Queues.PartitionCheck.StrandedCandidates(ids, "hot", 11));
        Assert.Equal([5], Queues.PartitionCheck.StrandedCandidates(ids, "hot-x", 1).ToArray());
        var refusal = Queues.PartitionCheck.Refusal("hot", 1, [(1, 4), (2, 7)]);
        Assert.Contains("partition 2: 7", refusal, StringComparison.Ordinal);
        Assert.Contains("Set Partitions back to at least 3", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lowering_partitions_while_higher_ones_hold_messages_refuses_the_queue_with_the_fix()
    {
        var first = Start(partitions: 3).Client;
        // Held for an hour: every partition keeps messages across the restart.
        var later = new MessageTiming(Delay: TimeSpan.FromHours(1));
        for (var i = 0; i < 9; i++) await first.EnqueueAsync("hot", new NewMessage("job", new byte[] { 1 }, Timing: later));
        Assert.Equal(9L, (await first.GetStatsAsync("hot")).Scheduled);
        await _systems[0].Terminate();

        var second = Start(partitions: 1).Client;
        var refused = await Assert.ThrowsAsync<QueueException>(() => second.EnqueueAsync("hot", "job", new byte[] { 1 }));
        Assert.Equal(RejectionCode.JournalUnavailable, refused.Code);
        Assert.Contains("declared with 1 partition(s)", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Set Partitions back to at least 3", refused.Message, StringComparison.Ordinal);
        var stats = await Assert.ThrowsAsync<QueueException>(() => second.GetStatsAsync("hot"));
        Assert.Contains("Set Partitions back", stats.Message, StringComparison.Ordinal);
        await _systems[1].Terminate();

        // Back at 3 partitions, nothing was lost.
        var third = Start(partitions: 3).Client;
        Assert.Equal(9L, (await third.GetStatsAsync("hot")).Scheduled);
    }

    [Fact]
    public async Task Lowering_partitions_after_the_higher_ones_drained_is_allowed()
    {
        var first = Start(partitions: 3).Client;
        for (var i = 0; i < 9; i++) await first.EnqueueAsync("hot", "job", new byte[] { 1 });
        await TestQueues.Until(async () => (await first.GetStatsAsync("hot")).TotalSucceeded == 9, "every message handled");
        await _systems[0].Terminate();

        var second = Start(partitions: 1).Client;
        var id = await second.EnqueueAsync("hot", "job", new byte[] { 1 });
        await TestQueues.Until(async () => (await second.GetMessageAsync("hot", id))?.Status == MessageStatus.Succeeded, "the new message handled");
    }
}

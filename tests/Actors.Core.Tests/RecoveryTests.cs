using System.Collections.Concurrent;
using System.Text;
using Actors.Configuration;
using Actors.Handlers;
using Actors.Protocol;
using Akka.Actor;
using Microsoft.Data.Sqlite;

namespace Actors.Core.Tests;

/// <summary>Restart and recovery over a real SQLite file: two actor systems, one after the other, on the same data.</summary>
public sealed class RecoveryTests : DataDirectoryTest
{
    [Fact]
    public async Task Unfinished_messages_are_delivered_after_a_restart_and_completed_ones_are_not()
    {
        const int total = 300;
        const int completeBeforeCrash = 120;
        var completedInFirst = new ConcurrentDictionary<long, bool>();
        var first = Options(o =>
        {
            o.AddQueue("jobs", q => { q.Workers = 4; q.Prefetch = 2; q.SnapshotEvery = 10; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", async (_, ctx, ct) =>
            {
                if (ctx.MessageId > completeBeforeCrash) await Task.Delay(Timeout.Infinite, ct);
                completedInFirst[ctx.MessageId] = true;
                return null;
            });
        });

        var (system1, queues1) = TestQueues.StartNode(first, "first");
        var ids = new List<long>();
        foreach (var chunk in Enumerable.Range(0, total).Chunk(50))
        {
            var outcomes = await queues1.Client.EnqueueBatchAsync("jobs", chunk.Select(i => new QueueCommands.NewMessage("job", Encoding.UTF8.GetBytes($"m{i}"))).ToList());
            ids.AddRange(outcomes.Select(o => o.MessageId!.Value));
        }
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), ids);
        await TestQueues.Until(async () => (await queues1.Client.GetStatsAsync("jobs")).TotalSucceeded == completeBeforeCrash, "the first messages to complete");
        Assert.Equal(8, (await queues1.Client.GetStatsAsync("jobs")).InFlight);
        await system1.Terminate();

        var delivered = new ConcurrentDictionary<long, int>();
        var second = Options(o =>
        {
            o.AddQueue("jobs", q => { q.Workers = 4; q.SnapshotEvery = 10; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", (_, ctx, _) =>
            {
                delivered.AddOrUpdate(ctx.MessageId, 1, (_, n) => n + 1);
                return ValueTask.FromResult<object?>(null);
            });
        });
        var (system2, queues2) = TestQueues.StartNode(second, "second");
        try
        {
            await TestQueues.Until(async () => (await queues2.Client.GetStatsAsync("jobs")).TotalSucceeded == total, "every message to complete");
            var stats = await queues2.Client.GetStatsAsync("jobs");

            Assert.Equal(total - completeBeforeCrash, delivered.Count);
            Assert.All(delivered.Values, count => Assert.Equal(1, count));
            Assert.Empty(delivered.Keys.Intersect(completedInFirst.Keys));
            Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), delivered.Keys.Concat(completedInFirst.Keys).Order());
            Assert.Equal((total, 0L, 0L), (stats.TotalEnqueued, stats.Depth, stats.InFlight));
            // New ids continue after the recovered ones.
            Assert.Equal(total + 1, await queues2.Client.EnqueueAsync("jobs", "job", Encoding.UTF8.GetBytes("after")));
        }
        finally
        {
            await system2.Terminate();
        }
    }

    [Fact]
    public async Task Snapshots_bound_the_journal_and_recovery_keeps_scheduled_and_dead_letters()
    {
        var options = Options(o =>
        {
            o.AddQueue("snap", q => { q.SnapshotEvery = 10; q.Retry.MaxAttempts = 2; q.Retry.BaseDelay = TimeSpan.FromHours(1); q.Retry.MaxDelay = TimeSpan.FromHours(1); q.Retry.Jitter = JitterMode.None; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("fail", (_, _, _) => throw new InvalidOperationException("always"));
            o.Handlers.Add<ReadOnlyMemory<byte>>("dead", (_, _, _) => throw new DeadLetterException("no"));
        });
        var (system1, queues1) = TestQueues.StartNode(options, "first");
        for (var i = 0; i < 200; i++) await queues1.Client.EnqueueAsync("snap", "noop", Encoding.UTF8.GetBytes($"{i}"));
        // The two messages that keep their payloads come after the rest has finished: events from the oldest event
        // holding a payload a snapshot refers to stay, so enqueued before late completions they would keep those too.
        await TestQueues.Until(async () => (await queues1.Client.GetStatsAsync("snap")).TotalSucceeded == 200, "the noops to finish");
        var retrying = await queues1.Client.EnqueueAsync("snap", "fail", Encoding.UTF8.GetBytes("r"));
        var dead = await queues1.Client.EnqueueAsync("snap", "dead", Encoding.UTF8.GetBytes("d"));
        await TestQueues.Until(async () =>
        {
            var s = await queues1.Client.GetStatsAsync("snap");
            return s.TotalSucceeded == 200 && s.Scheduled == 1 && s.DeadLettered == 1;
        }, "the work to settle");
        var scheduled = await queues1.Client.GetMessageAsync("snap", retrying);
        // Events covered by snapshots are deleted after each snapshot: of the 400+ events written, the journal keeps
        // the events after the previous snapshot (snapshots every 10 events here, and the two newest are kept).
        var bound = 4 * 10;
        await TestQueues.Until(() => Task.FromResult(CountLiveJournalRows(options.DatabasePath) <= bound), "events covered by snapshots to be deleted");
        await system1.Terminate();

        var (system2, queues2) = TestQueues.StartNode(options, "second");
        try
        {
            var stats = await queues2.Client.GetStatsAsync("snap");
            Assert.Equal((202L, 200L, 1L, 1L), (stats.TotalEnqueued, stats.TotalSucceeded, stats.Scheduled, stats.DeadLettered));
            var recovered = await queues2.Client.GetMessageAsync("snap", retrying);
            Assert.Equal((MessageStatus.FailedRetrying, 1, scheduled!.NextAttemptAt), (recovered!.Status, recovered.Attempts, recovered.NextAttemptAt));
            var deadInfo = await queues2.Client.GetMessageAsync("snap", dead);
            Assert.Equal(MessageStatus.DeadLettered, deadInfo!.Status);
            Assert.Equal("no", deadInfo.Errors.Single().Message);
        }
        finally
        {
            await system2.Terminate();
        }
    }

    [Fact]
    public async Task A_backlog_past_the_payload_budget_is_read_back_from_the_journal_in_order_across_snapshots_and_a_restart()
    {
        const int total = 600;
        const int completeBeforeCrash = 300;
        static byte[] PayloadOf(long id) => Encoding.UTF8.GetBytes($"m{id}:" + new string((char)('a' + id % 26), 1000));
        void Queue(DurableQueuesOptions o) => o.AddQueue("deep", q => { q.Workers = 1; q.Prefetch = 1; q.SnapshotEvery = 10; q.PayloadMemoryBytes = 64 * 1024; });
        var first = Options(o =>
        {
            Queue(o);
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", async (payload, ctx, ct) =>
            {
                Assert.Equal(PayloadOf(ctx.MessageId), payload.ToArray());
                if (ctx.MessageId > completeBeforeCrash) await Task.Delay(Timeout.Infinite, ct);
                return null;
            });
        });
        var (system1, queues1) = TestQueues.StartNode(first, "first");
        for (var i = 1; i <= total; i++) await queues1.Client.EnqueueAsync("deep", "job", PayloadOf(i));
        await TestQueues.Until(async () => (await queues1.Client.GetStatsAsync("deep")) is { TotalSucceeded: completeBeforeCrash, InFlight: 1 }, "the first half to complete");
        // Most of the backlog is held without its payload (64 KiB of ~1 KiB messages): a status query reads it back.
        var late = await queues1.Client.GetMessageAsync("deep", total - 10);
        Assert.Equal(PayloadOf(total - 10), late!.Payload!.Value.ToArray());
        // Snapshots let the journal delete old events, but none that still holds a waiting message's payload.
        Assert.True(CountLiveJournalRows(first.DatabasePath) < total, "events covered by snapshots are deleted");
        await system1.Terminate();

        var delivered = new ConcurrentQueue<long>();
        var second = Options(o =>
        {
            Queue(o);
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", (payload, ctx, _) =>
            {
                if (payload.Span.SequenceEqual(PayloadOf(ctx.MessageId))) delivered.Enqueue(ctx.MessageId);
                return ValueTask.FromResult<object?>(null);
            });
        });
        var (system2, queues2) = TestQueues.StartNode(second, "second");
        try
        {
            await TestQueues.Until(async () => (await queues2.Client.GetStatsAsync("deep")).TotalSucceeded == total, "every message to complete");
            Assert.Equal(Enumerable.Range(completeBeforeCrash + 1, total - completeBeforeCrash).Select(i => (long)i), delivered);
        }
        finally
        {
            await system2.Terminate();
        }
    }

    [Fact]
    public async Task Without_its_newest_snapshot_a_queue_recovers_completely_from_the_previous_one()
    {
        var options = Options(o =>
        {
            o.AddQueue("snap", q => { q.SnapshotEvery = 10; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("ok", (_, _, _) => ValueTask.FromResult<object?>(null));
            o.Handlers.Add<ReadOnlyMemory<byte>>("dead", (_, _, _) => throw new DeadLetterException("no"));
        });
        var (system1, queues1) = TestQueues.StartNode(options, "first");
        for (var i = 0; i < 150; i++) await queues1.Client.EnqueueAsync("snap", i % 50 == 0 ? "dead" : "ok", Encoding.UTF8.GetBytes($"{i}"));
        await TestQueues.Until(async () =>
        {
            var s = await queues1.Client.GetStatsAsync("snap");
            return s.TotalSucceeded == 147 && s.DeadLettered == 3;
        }, "the work to settle");
        await TestQueues.Until(() => Task.FromResult(SnapshotSequenceNrs(options.DatabasePath).Count == 2), "two snapshots to be kept");
        var before = await queues1.Client.GetStatsAsync("snap");
        await system1.Terminate();

        // The newest snapshot is lost (unreadable rows are removed by hand): the previous one and its events remain.
        var newest = SnapshotSequenceNrs(options.DatabasePath).Max();
        Execute(options.DatabasePath, $"DELETE FROM snapshot WHERE sequence_number = {newest}");

        var (system2, queues2) = TestQueues.StartNode(options, "second");
        try
        {
            var after = await queues2.Client.GetStatsAsync("snap");
            Assert.Equal((150L, 147L, 3L, 0L), (after.TotalEnqueued, after.TotalSucceeded, after.DeadLettered, after.Depth));
            Assert.Equal((before.TotalEnqueued, before.TotalSucceeded, before.DeadLettered), (after.TotalEnqueued, after.TotalSucceeded, after.DeadLettered));
            Assert.Equal(151, await queues2.Client.EnqueueAsync("snap", "ok", Encoding.UTF8.GetBytes("after")));
        }
        finally
        {
            await system2.Terminate();
        }
    }

    private static List<long> SnapshotSequenceNrs(string databasePath)
    {
        using var connection = new SqliteConnection($"Data Source={databasePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sequence_number FROM snapshot";
        using var reader = command.ExecuteReader();
        var sequenceNrs = new List<long>();
        while (reader.Read()) sequenceNrs.Add(reader.GetInt64(0));
        return sequenceNrs;
    }

    private static void Execute(string databasePath, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={databasePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long CountLiveJournalRows(string databasePath)
    {
        using var connection = new SqliteConnection($"Data Source={databasePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM journal WHERE deleted = 0";
        return (long)command.ExecuteScalar()!;
    }
}

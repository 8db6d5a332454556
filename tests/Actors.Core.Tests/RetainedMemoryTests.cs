using System.Collections.Concurrent;
using System.Text;
using Actors.Client;
using Actors.Configuration;
using Actors.Protocol;
using Microsoft.Data.Sqlite;

namespace Actors.Core.Tests;

/// <summary>
/// Results and dead letters past the queue's retained-memory budget move to its archive stream and are read back on
/// demand: status queries, dead-letter queries and redrives, across snapshots with compaction and a restart over a
/// real SQLite file.
/// </summary>
public sealed class RetainedMemoryTests : DataDirectoryTest
{
    private const int Succeeding = 120;
    private const int Dying = 40;

    private static byte[] PayloadOf(long id) => Encoding.UTF8.GetBytes($"m{id}:" + new string((char)('a' + id % 26), 4000));

    private static byte[] ResultOf(long id) => Encoding.UTF8.GetBytes($"r{id}:" + new string((char)('A' + id % 26), 4000));

    private static void Queue(DurableQueuesOptions o) => o.AddQueue("kept", q =>
    {
        q.Workers = 2;
        q.SnapshotEvery = 10;
        q.RetainedMemoryBytes = 32 * 1024;
        q.Retry.MaxAttempts = 1;
    });

    [Fact]
    public async Task Results_and_dead_letters_past_the_budget_are_archived_and_read_back_across_compaction_and_a_restart()
    {
        var first = Options(o =>
        {
            Queue(o);
            o.Handlers.Add<ReadOnlyMemory<byte>>("echo", (_, ctx, _) => ValueTask.FromResult<object?>(ResultOf(ctx.MessageId)));
            o.Handlers.Add<ReadOnlyMemory<byte>>("dead", (_, _, _) => throw new InvalidOperationException("broken"));
        });
        var (system1, queues1) = TestQueues.StartNode(first, "first");
        var succeeded = new List<long>();
        var dead = new List<long>();
        for (var i = 0; i < Succeeding + Dying; i++)
        {
            var type = i % 4 == 3 ? "dead" : "echo";
            var id = await queues1.Client.EnqueueAsync("kept", type, PayloadOf(i + 1));
            (type == "dead" ? dead : succeeded).Add(id);
        }
        await TestQueues.Until(async () => (await queues1.Client.GetStatsAsync("kept")) is { TotalSucceeded: Succeeding, DeadLettered: Dying }, "the work to settle");
        // ~660 KiB of results and payloads against a 32 KiB budget: most of it is in the archive, not in memory.
        await TestQueues.Until(() => Task.FromResult(CountArchived(first.DatabasePath, "kept") > 10), "the archive to take what is past the budget");
        await AssertEverythingReadsBack(queues1.Client, succeeded, dead);
        await system1.Terminate();

        var redriven = new ConcurrentDictionary<long, bool>();
        var second = Options(o =>
        {
            Queue(o);
            o.Handlers.Add<ReadOnlyMemory<byte>>("echo", (_, ctx, _) => ValueTask.FromResult<object?>(ResultOf(ctx.MessageId)));
            o.Handlers.Add<ReadOnlyMemory<byte>>("dead", (payload, ctx, _) =>
            {
                redriven[ctx.MessageId] = payload.Span.SequenceEqual(PayloadOf(ctx.MessageId));
                return ValueTask.FromResult<object?>(null);
            });
        });
        var (system2, queues2) = TestQueues.StartNode(second, "second");
        try
        {
            await AssertEverythingReadsBack(queues2.Client, succeeded, dead);
            var groups = await queues2.Client.GroupDeadLettersAsync("kept");
            Assert.Equal(Dying, Assert.Single(groups).Count);

            // A redrive brings archived payloads back for delivery.
            Assert.Equal(Dying, await queues2.Client.RedriveDeadLettersAsync("kept"));
            await TestQueues.Until(() => Task.FromResult(redriven.Count == Dying), "every redriven message to be delivered");
            Assert.Equal(dead.Order(), redriven.Keys.Order());
            Assert.All(redriven.Values, Assert.True);
            Assert.Empty(await queues2.Client.GroupDeadLettersAsync("kept"));
        }
        finally
        {
            await system2.Terminate();
        }
    }

    [Fact]
    public async Task Archive_events_no_snapshot_refers_to_are_deleted()
    {
        var options = Options(o =>
        {
            o.AddQueue("trim", q => { q.SnapshotEvery = 10; q.RetainedMemoryBytes = 0; q.Retry.MaxAttempts = 1; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("dead", (_, _, _) => throw new InvalidOperationException("broken"));
        });
        var (system, queues) = TestQueues.StartNode(options, "trim");
        try
        {
            for (var i = 1; i <= 20; i++) await queues.Client.EnqueueAsync("trim", "dead", PayloadOf(i));
            await TestQueues.Until(async () => (await queues.Client.GetStatsAsync("trim")).DeadLettered == 20, "every message to be dead-lettered");
            await TestQueues.Until(() => Task.FromResult(CountArchived(options.DatabasePath, "trim") > 0), "the payloads to be archived");

            Assert.Equal(20, await queues.Client.PurgeDeadLettersAsync("trim"));
            // Later work brings snapshots that refer to no archive event, after which the archive is emptied.
            for (var i = 0; i < 40; i++) await queues.Client.EnqueueAsync("trim", "noop", PayloadOf(i));
            await TestQueues.Until(() => Task.FromResult(CountArchived(options.DatabasePath, "trim") == 0), "the archive to be emptied");
        }
        finally
        {
            await system.Terminate();
        }
    }

    private static async Task AssertEverythingReadsBack(IQueueClient client, List<long> succeeded, List<long> dead)
    {
        foreach (var id in succeeded)
        {
            var info = await client.GetMessageAsync("kept", id);
            Assert.Equal(MessageStatus.Succeeded, info!.Status);
            Assert.Equal(ResultOf(id), info.Result!.Value.ToArray());
        }
        foreach (var id in dead)
        {
            var info = await client.GetMessageAsync("kept", id);
            Assert.Equal(MessageStatus.DeadLettered, info!.Status);
            Assert.Equal(PayloadOf(id), info.Payload!.Value.ToArray());
        }
        var page = await client.ListDeadLettersAsync("kept", limit: 1000);
        Assert.Equal(dead, page.Items.Select(d => d.MessageId));
    }

    private static long CountArchived(string databasePath, string queue)
    {
        using var connection = new SqliteConnection($"Data Source={databasePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM journal WHERE deleted = 0 AND persistence_id = $id";
        command.Parameters.AddWithValue("$id", $"queue-{queue}-0-archive");
        var events = (long)command.ExecuteScalar()!;
        return events;
    }
}

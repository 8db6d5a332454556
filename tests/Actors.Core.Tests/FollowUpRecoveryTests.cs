using System.Text;
using Actors.Client;
using Actors.Protocol;
using Microsoft.Data.Sqlite;
using static Actors.Protocol.QueueCommands;

namespace Actors.Core.Tests;

/// <summary>
/// Follow-ups owed when a node stops: they are in the queue's snapshots, so they survive a restart even after the
/// events that owed them were deleted, and the next incarnation sends each exactly once.
/// </summary>
public sealed class FollowUpRecoveryTests : DataDirectoryTest
{
    [Fact]
    public async Task Pending_follow_ups_survive_a_restart_after_compaction_and_are_sent_once()
    {
        const int total = 40;
        var first = Options(o =>
        {
            o.AddQueue("a", q => { q.Workers = 1; q.SnapshotEvery = 10; });
            // Full while its one message is held: every follow-up is refused for now and stays pending.
            o.AddQueue("b", q => q.MaxLength = 1);
            o.Handlers.Add<ReadOnlyMemory<byte>>("step", (_, _, _) => ValueTask.FromResult<object?>(new { ok = true }));
            o.Handlers.Add<ReadOnlyMemory<byte>>("hold", async (_, _, ct) =>
            {
                await Task.Delay(Timeout.Infinite, ct);
                return null;
            });
        });
        var (system1, queues1) = TestQueues.StartNode(first, "first");
        var ids = new List<long>();
        try
        {
            await queues1.Client.EnqueueAsync("b", "hold", Encoding.UTF8.GetBytes("{}"));
            await TestQueues.Until(async () => (await queues1.Client.GetStatsAsync("b")).InFlight == 1, "b to hold its one message");
            for (var i = 0; i < total; i++)
            {
                var message = new NewMessage("step", Encoding.UTF8.GetBytes($"{i}")).Then(Continuation.WithResult("b", "step"));
                ids.Add((await queues1.Client.EnqueueAsync("a", message)).MessageId);
            }
            await TestQueues.Until(async () => (await queues1.Client.GetStatsAsync("a")).TotalSucceeded == total, "a's messages to succeed");
            var owed = await queues1.Client.GetMessageAsync("a", ids[0]);
            Assert.Equal(new FollowUpRef(FollowUpKind.Then, "b", null), owed!.FollowUp);
            Assert.Equal(total, (await queues1.Client.GetStatsAsync("a")).PendingFollowUps);
            // The events that owed the follow-ups are deleted once snapshots cover them.
            await TestQueues.Until(() => Task.FromResult(LiveEvents(first.DatabasePath, "queue-a-0") < total), "a's covered events to be deleted");
            Assert.Equal(1, (await queues1.Client.GetStatsAsync("b")).TotalEnqueued);
        }
        finally
        {
            await system1.Terminate();
        }

        var second = Options(o =>
        {
            o.AddQueue("a", q => { q.Workers = 1; q.SnapshotEvery = 10; });
            o.AddQueue("b");
            o.Handlers.Add<ReadOnlyMemory<byte>>("step", (_, _, _) => ValueTask.FromResult<object?>(new { ok = true }));
            o.Handlers.Add<ReadOnlyMemory<byte>>("hold", (_, _, _) => ValueTask.FromResult<object?>(null));
        });
        var (system2, queues2) = TestQueues.StartNode(second, "second");
        try
        {
            await TestQueues.Until(async () => (await queues2.Client.GetStatsAsync("b")).TotalSucceeded == total + 1, "every follow-up to run");
            var followUps = new List<long>();
            foreach (var id in ids)
            {
                FollowUpRef? followUp = null;
                await TestQueues.Until(async () => (followUp = (await queues2.Client.GetMessageAsync("a", id))!.FollowUp) is { Id: not null }, $"message {id}'s follow-up to be recorded");
                followUps.Add(followUp!.Id!.Value);
            }
            Assert.Equal(total, followUps.Distinct().Count());
            Assert.Equal(total + 1, (await queues2.Client.GetStatsAsync("b")).TotalEnqueued);
            Assert.Equal(0, (await queues2.Client.GetStatsAsync("a")).PendingFollowUps);
        }
        finally
        {
            await system2.Terminate();
        }
    }

    private static long LiveEvents(string databasePath, string persistenceId)
    {
        using var connection = new SqliteConnection($"Data Source={databasePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM journal WHERE deleted = 0 AND persistence_id = $id";
        command.Parameters.AddWithValue("$id", persistenceId);
        return (long)command.ExecuteScalar()!;
    }
}

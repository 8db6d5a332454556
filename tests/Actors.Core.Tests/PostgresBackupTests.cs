using System.Collections.Concurrent;
using System.Text;
using Actors.Configuration;
using Actors.Protocol;

namespace Actors.Core.Tests;

/// <summary>
/// The PostgreSQL backup procedure of the README: <c>pg_dump -Fc</c> of a node's database while it runs,
/// <c>pg_restore</c> into a fresh database, a node started on it has every message acknowledged before the dump.
/// </summary>
public sealed class PostgresBackupTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task A_node_on_a_restored_pg_dump_has_every_message_acknowledged_before_the_dump()
    {
        var connection = await postgres.CreateDatabaseAsync();
        static byte[] PayloadOf(long id) => Encoding.UTF8.GetBytes($"job {id}");
        DurableQueuesOptions Options(string connectionString, Func<long, CancellationToken, ValueTask> handle)
        {
            var options = new DurableQueuesOptions { Journal = JournalKind.PostgreSql, ConnectionString = connectionString, DrainTimeout = TimeSpan.Zero };
            options.AddQueue("jobs", q => { q.Workers = 2; q.SnapshotEvery = 25; });
            options.Handlers.Add<ReadOnlyMemory<byte>>("job", async (_, ctx, ct) =>
            {
                await handle(ctx.MessageId, ct);
                return null;
            });
            return options;
        }

        // The first 40 complete; the rest wait, so the dump holds finished and unfinished messages.
        var (system1, queues1) = TestQueues.StartNode(Options(connection, (id, ct) => id > 40 ? new ValueTask(Task.Delay(Timeout.Infinite, ct)) : ValueTask.CompletedTask), "pgb1");
        long[] acknowledged;
        try
        {
            var outcomes = await queues1.Client.EnqueueBatchAsync("jobs", Enumerable.Range(1, 150).Select(i => new QueueCommands.NewMessage("job", PayloadOf(i))).ToList());
            Assert.All(outcomes, o => Assert.True(o.IsAccepted));
            acknowledged = outcomes.Select(o => o.MessageId!.Value).ToArray();
            await TestQueues.Until(async () => (await queues1.Client.GetStatsAsync("jobs")).TotalSucceeded == 40, "the first 40 to complete");
            var dump = await postgres.DumpAsync(connection);
            connection = await postgres.RestoreAsync(dump);
        }
        finally
        {
            await system1.Terminate();
        }

        var delivered = new ConcurrentDictionary<long, int>();
        var (system2, queues2) = TestQueues.StartNode(Options(connection, (id, _) =>
        {
            delivered.AddOrUpdate(id, 1, (_, n) => n + 1);
            return ValueTask.CompletedTask;
        }), "pgb2");
        try
        {
            await TestQueues.Until(async () => (await queues2.Client.GetStatsAsync("jobs")).TotalSucceeded == 150, "every restored message to complete");
            foreach (var id in acknowledged)
            {
                var message = await queues2.Client.GetMessageAsync("jobs", id);
                Assert.NotNull(message);
                Assert.Equal(MessageStatus.Succeeded, message.Status);
            }
            // The 40 finished before the dump do not run again; the other 110 run once each.
            Assert.Equal(acknowledged.Where(id => id > 40).Order(), delivered.Keys.Order());
            Assert.All(delivered.Values, n => Assert.Equal(1, n));
        }
        finally
        {
            await system2.Terminate();
        }
    }
}

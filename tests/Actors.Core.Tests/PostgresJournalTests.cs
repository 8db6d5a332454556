using System.Collections.Concurrent;
using System.Text;
using Actors.Configuration;
using Actors.Protocol;

namespace Actors.Core.Tests;

/// <summary>The same durability guarantees with the journal on a real PostgreSQL server the fixture starts.</summary>
public sealed class PostgresJournalTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task Unfinished_messages_survive_a_restart_on_PostgreSQL_and_completed_ones_do_not_run_again()
    {
        var connection = await postgres.CreateDatabaseAsync();
        DurableQueuesOptions Options(Action<DurableQueuesOptions> configure)
        {
            var options = new DurableQueuesOptions { Journal = JournalKind.PostgreSql, ConnectionString = connection, DrainTimeout = TimeSpan.Zero };
            configure(options);
            return options;
        }

        // ~1 KiB payloads past a 64 KiB payload budget: most are read back from the journal before dispatch.
        static byte[] PayloadOf(long id) => Encoding.UTF8.GetBytes($"{id}:" + new string('p', 1000));
        var first = Options(o =>
        {
            o.AddQueue("jobs", q => { q.Workers = 2; q.SnapshotEvery = 20; q.PayloadMemoryBytes = 64 * 1024; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", async (_, ctx, ct) =>
            {
                if (ctx.MessageId > 100) await Task.Delay(Timeout.Infinite, ct);
                return null;
            });
        });
        var (system1, queues1) = TestQueues.StartNode(first, "pg1");
        var outcomes = await queues1.Client.EnqueueBatchAsync("jobs", Enumerable.Range(1, 250).Select(i => new QueueCommands.NewMessage("job", PayloadOf(i))).ToList());
        Assert.All(outcomes, o => Assert.True(o.IsAccepted));
        await TestQueues.Until(async () => (await queues1.Client.GetStatsAsync("jobs")).TotalSucceeded == 100, "the first 100 to complete");
        await system1.Terminate();

        var delivered = new ConcurrentDictionary<long, int>();
        var second = Options(o =>
        {
            o.AddQueue("jobs", q => { q.Workers = 4; q.PayloadMemoryBytes = 64 * 1024; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", (payload, ctx, _) =>
            {
                if (payload.Span.SequenceEqual(PayloadOf(ctx.MessageId))) delivered.AddOrUpdate(ctx.MessageId, 1, (_, n) => n + 1);
                return ValueTask.FromResult<object?>(null);
            });
        });
        var (system2, queues2) = TestQueues.StartNode(second, "pg2");
        try
        {
            await TestQueues.Until(async () => (await queues2.Client.GetStatsAsync("jobs")).TotalSucceeded == 250, "every message to complete");
            Assert.Equal(Enumerable.Range(101, 150).Select(i => (long)i), delivered.Keys.Order());
            Assert.All(delivered.Values, n => Assert.Equal(1, n));
        }
        finally
        {
            await system2.Terminate();
        }
    }
}

using System.Text;
using Actors.Client;
using Actors.Protocol;
using static Actors.Protocol.QueueCommands;

namespace Actors.Core.Tests;

/// <summary>Purging real queues over SQLite: what waits goes, what runs and what is dead stays, and a restart agrees.</summary>
public sealed class PurgeQueueTests : DataDirectoryTest
{
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes("{}");

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task A_purge_drops_what_waits_keeps_what_runs_and_the_dead_letters_and_survives_a_restart(int partitions)
    {
        var held = new HeldHandler();
        var options = Options(o =>
        {
            o.AddQueue("work", q =>
            {
                q.Workers = 1;
                q.Partitions = partitions;
                q.SnapshotEvery = 10;
                q.Retry.MaxAttempts = 1;
            });
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", held.HandleAsync);
            o.Handlers.Add<ReadOnlyMemory<byte>>("bad", (_, _, _) => throw new InvalidOperationException("bad"));
        });
        var (system, queues) = TestQueues.StartNode(options);
        var client = queues.Client;
        QueueQueries.QueueStats before;
        try
        {
            var bad = await client.EnqueueAsync("work", "bad", Payload);
            await TestQueues.Until(async () => (await client.GetStatsAsync("work")).DeadLettered == 1, "the bad message to be dead-lettered");
            var running = await client.EnqueueAsync("work", "job", Payload);
            await TestQueues.Until(() => Task.FromResult(held.Running == 1), "one message to start");
            // The pool's one worker per partition is busy with the held one, or the rest wait behind a pause.
            await client.PauseAsync("work");
            var keyed = await client.EnqueueAsync("work", new NewMessage("job", Payload, IdempotencyKey: "order-42"));
            for (var i = 0; i < 6; i++) await client.EnqueueAsync("work", "job", Payload);
            for (var i = 0; i < 3; i++) await client.EnqueueAsync("work", new NewMessage("job", Payload, Timing: new MessageTiming(Delay: TimeSpan.FromHours(1))));

            Assert.Equal(10, await client.PurgeQueueAsync("work"));

            var stats = await client.GetStatsAsync("work");
            Assert.Equal((0L, 0L, 1L, 1L), (stats.Depth, stats.Scheduled, stats.InFlight, stats.DeadLettered));
            Assert.Equal(10, stats.TotalCancelled);
            Assert.Equal(MessageStatus.Cancelled, (await client.GetMessageAsync("work", keyed.MessageId))!.Status);
            // The key answers as for a cancelled message: the same id, nothing stored again.
            var again = await client.EnqueueAsync("work", new NewMessage("job", Payload, IdempotencyKey: "order-42"));
            Assert.Equal((keyed.MessageId, true), (again.MessageId, again.Replayed));
            Assert.Equal(0, await client.PurgeQueueAsync("work"));

            // The delivery in flight finishes as usual; more activity after the purge lets a snapshot cover it.
            await client.ResumeAsync("work");
            held.ReleaseAll(1);
            await TestQueues.Until(async () => (await client.GetStatsAsync("work")).TotalSucceeded == 1, "the running one to succeed");
            for (var i = 0; i < 12; i++) await client.EnqueueAsync("work", new NewMessage("job", Payload, Timing: new MessageTiming(Delay: TimeSpan.FromHours(2))));
            Assert.Equal(12, await client.PurgeQueueAsync("work"));
            before = await client.GetStatsAsync("work");
            Assert.Equal(MessageStatus.DeadLettered, (await client.GetMessageAsync("work", bad))!.Status);
            Assert.Equal(MessageStatus.Succeeded, (await client.GetMessageAsync("work", running))!.Status);
        }
        finally
        {
            held.ReleaseAll(100);
            await system.Terminate();
        }

        (system, queues) = TestQueues.StartNode(options, "restarted");
        try
        {
            var stats = await queues.Client.GetStatsAsync("work");
            Assert.Equal((0L, 0L, 0L, 1L), (stats.Depth, stats.Scheduled, stats.InFlight, stats.DeadLettered));
            Assert.Equal((before.TotalCancelled, before.TotalSucceeded, before.TotalEnqueued), (stats.TotalCancelled, stats.TotalSucceeded, stats.TotalEnqueued));
            Assert.Equal(22, stats.TotalCancelled);
            var found = await queues.Client.FindByIdempotencyKeyAsync("work", "order-42");
            Assert.Equal(MessageStatus.Cancelled, found!.Message!.Status);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task Purging_an_unknown_queue_is_refused()
    {
        var (system, queues) = TestQueues.StartNode(Options(o => o.AddQueue("work")));
        try
        {
            var refused = await Assert.ThrowsAsync<QueueException>(() => queues.Client.PurgeQueueAsync("nope"));
            Assert.Equal(RejectionCode.UnknownQueue, refused.Code);
        }
        finally
        {
            await system.Terminate();
        }
    }
}

using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text;
using Actors.Protocol;

namespace Actors.Core.Tests;

/// <summary>Pausing and resuming real queues over SQLite, looking messages up by idempotency key, and the trace parent of finished messages.</summary>
public sealed class PauseQueueTests : DataDirectoryTest
{
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes("{}");

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task A_paused_queue_accepts_delivers_nothing_lets_the_delivery_in_flight_finish_and_resume_delivers_all(int partitions)
    {
        var held = new HeldHandler();
        var options = Options(o =>
        {
            o.AddQueue("work", q =>
            {
                q.Workers = 2;
                q.Partitions = partitions;
            });
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", held.HandleAsync);
        });
        var (system, queues) = TestQueues.StartNode(options);
        try
        {
            var first = await queues.Client.EnqueueAsync("work", "job", Payload);
            await TestQueues.Until(() => Task.FromResult(held.Running == 1), "the first message to start");

            var paused = await queues.Client.PauseAsync("work", "deploy", "ops");
            Assert.True(paused.Paused);
            Assert.Equal(("ops", "deploy"), (paused.Pause!.By, paused.Pause.Reason));
            var later = new List<long>();
            for (var i = 0; i < 6; i++) later.Add(await queues.Client.EnqueueAsync("work", "job", Payload));
            await TestQueues.Until(async () => (await queues.Client.GetStatsAsync("work")).Depth == 6, "the six to wait");

            // The delivery in flight finishes; nothing new starts.
            held.ReleaseAll(1);
            await TestQueues.Until(async () => (await queues.Client.GetStatsAsync("work")).TotalSucceeded == 1, "the first to succeed");
            var stats = await queues.Client.GetStatsAsync("work");
            Assert.True(stats.Paused);
            Assert.Equal(("ops", "deploy"), (stats.Pause!.By, stats.Pause.Reason));
            Assert.Equal((6L, 0L), (stats.Depth, stats.InFlight));
            Assert.Equal([first], held.Runs.Keys);
            Assert.True(stats.AcceptingWork);

            var resumed = await queues.Client.ResumeAsync("work", "ops");
            Assert.False(resumed.Paused);
            held.ReleaseAll(later.Count);
            await TestQueues.Until(async () => (await queues.Client.GetStatsAsync("work")).TotalSucceeded == 7, "every message to succeed after the resume");
            Assert.Equal(later.Append(first).Order(), held.Runs.Keys.Order());
            Assert.False((await queues.Client.GetStatsAsync("work")).Paused);
        }
        finally
        {
            held.ReleaseAll(100);
            await system.Terminate();
        }
    }

    [Fact]
    public async Task The_pause_survives_a_restart_of_the_node()
    {
        var runs = new ConcurrentQueue<long>();
        var options = Options(o =>
        {
            o.AddQueue("work", q => q.SnapshotEvery = 10);
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", (_, ctx, _) =>
            {
                runs.Enqueue(ctx.MessageId);
                return ValueTask.FromResult<object?>(null);
            });
        });
        var (system, queues) = TestQueues.StartNode(options);
        try
        {
            await queues.Client.PauseAsync("work", "maintenance", "ops");
            for (var i = 0; i < 25; i++) await queues.Client.EnqueueAsync("work", "job", Payload);
        }
        finally
        {
            await system.Terminate();
        }

        (system, queues) = TestQueues.StartNode(options, "restarted");
        try
        {
            await TestQueues.Until(async () => (await queues.Client.GetStatsAsync("work")).Depth == 25, "the 25 to be recovered");
            var stats = await queues.Client.GetStatsAsync("work");
            Assert.Equal(("ops", "maintenance"), (stats.Pause?.By, stats.Pause?.Reason));
            Assert.Empty(runs);

            await queues.Client.ResumeAsync("work");
            await TestQueues.Until(async () => (await queues.Client.GetStatsAsync("work")).TotalSucceeded == 25, "every message to succeed after the resume");
            Assert.Equal(25, runs.Count);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task A_message_is_found_by_its_idempotency_key_while_the_queue_remembers_it(int partitions)
    {
        var options = Options(o =>
        {
            o.AddQueue("work", q => q.Partitions = partitions);
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", (_, _, _) => ValueTask.FromResult<object?>(null));
        });
        var (system, queues) = TestQueues.StartNode(options);
        try
        {
            await queues.Client.PauseAsync("work");
            var plain = await queues.Client.EnqueueAsync("work", new QueueCommands.NewMessage("job", Payload, IdempotencyKey: "order-17"));
            // A message with an ordering key goes to its ordering key's partition, not its idempotency key's.
            var keyed = await queues.Client.EnqueueAsync("work", new QueueCommands.NewMessage("job", Payload,
                ImmutableDictionary<string, string>.Empty.Add(MessageHeaders.Key, "customer-3"), IdempotencyKey: "order-18"));

            var found = await queues.Client.FindByIdempotencyKeyAsync("work", "order-17");
            Assert.Equal(plain.MessageId, found!.MessageId);
            Assert.Equal((MessageStatus.Queued, "{}"), (found.Message!.Status, Encoding.UTF8.GetString(found.Message.Payload!.Value.Span)));
            Assert.Equal(keyed.MessageId, (await queues.Client.FindByIdempotencyKeyAsync("work", "order-18"))!.MessageId);
            Assert.Null(await queues.Client.FindByIdempotencyKeyAsync("work", "order-99"));

            await queues.Client.ResumeAsync("work");
            await TestQueues.Until(async () => (await queues.Client.GetStatsAsync("work")).TotalSucceeded == 2, "both to succeed");
            Assert.Equal(MessageStatus.Succeeded, (await queues.Client.FindByIdempotencyKeyAsync("work", "order-17"))!.Message!.Status);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task A_succeeded_message_keeps_its_trace_parent()
    {
        const string traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        var options = Options(o =>
        {
            o.AddQueue("work");
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", (_, _, _) => ValueTask.FromResult<object?>(null));
        });
        var (system, queues) = TestQueues.StartNode(options);
        try
        {
            var id = await queues.Client.EnqueueAsync("work", "job", Payload, ImmutableDictionary<string, string>.Empty.Add(MessageHeaders.TraceParent, traceParent));

            var info = await queues.Client.WaitAsync("work", id, TimeSpan.FromSeconds(30));

            Assert.Equal(MessageStatus.Succeeded, info!.Status);
            Assert.Equal(traceParent, info.Headers[MessageHeaders.TraceParent]);
        }
        finally
        {
            await system.Terminate();
        }
    }
}

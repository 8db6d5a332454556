using System.Collections.Concurrent;
using System.Text;
using Actors.Client;
using Actors.Configuration;
using Actors.Protocol;
using static Actors.Protocol.QueueCommands;

namespace Actors.Core.Tests;

/// <summary>Delayed messages, idempotency keys, cancellation and expiry through real queues over SQLite, across restarts.</summary>
public sealed class TimeAndIdentityTests : DataDirectoryTest
{
    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task Delayed_messages_start_no_earlier_than_their_due_time_once_each_across_a_restart()
    {
        // Every start is checked against the due time; the first node's handler never finishes (should a message come
        // due before that node stops on a slow machine), so each message completes on the second node, once.
        var starts = new ConcurrentDictionary<long, (DateTime At, int Count)>();
        var completedOnSecond = new ConcurrentDictionary<long, int>();
        DurableQueuesOptions Node(bool second) => Options(o =>
        {
            o.AddQueue("later", q => q.SnapshotEvery = 10);
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", async (_, ctx, ct) =>
            {
                starts.AddOrUpdate(ctx.MessageId, _ => (DateTime.UtcNow, 1), (_, s) => (s.At < DateTime.UtcNow ? s.At : DateTime.UtcNow, s.Count + 1));
                if (!second) await Task.Delay(Timeout.Infinite, ct);
                completedOnSecond.AddOrUpdate(ctx.MessageId, 1, (_, n) => n + 1);
                return null;
            });
        });

        var (system1, queues1) = TestQueues.StartNode(Node(second: false), "first");
        var dueSoon = DateTime.UtcNow.AddSeconds(2);
        var soon = new List<long>();
        for (var i = 0; i < 5; i++)
            soon.Add((await queues1.Client.EnqueueAsync("later", new NewMessage("job", Bytes($"m{i}"), Timing: MessageTiming.At(dueSoon)))).MessageId);
        var farId = (await queues1.Client.EnqueueAsync("later", new NewMessage("job", Bytes("far"), Timing: MessageTiming.After(TimeSpan.FromHours(1))))).MessageId;
        var stats = await queues1.Client.GetStatsAsync("later");
        Assert.Equal(6, stats.Scheduled + stats.Depth + stats.InFlight);
        Assert.Equal(0, stats.TotalSucceeded);
        Assert.Equal(MessageStatus.Scheduled, (await queues1.Client.GetMessageAsync("later", farId))!.Status);
        await system1.Terminate();

        var (system2, queues2) = TestQueues.StartNode(Node(second: true), "second");
        try
        {
            await TestQueues.Until(() => Task.FromResult(soon.All(completedOnSecond.ContainsKey)), "the delayed messages to run after the restart");
            await TestQueues.Until(async () => (await queues2.Client.GetStatsAsync("later")).TotalSucceeded == soon.Count, "their acknowledgements");
            Assert.All(soon, id => Assert.True(starts[id].At >= dueSoon, $"message {id} started at {starts[id].At:O}, before its due time {dueSoon:O}"));
            Assert.All(soon, id => Assert.Equal(1, completedOnSecond[id]));
            Assert.False(starts.ContainsKey(farId));
            var far = (await queues2.Client.GetMessageAsync("later", farId))!;
            Assert.Equal(MessageStatus.Scheduled, far.Status);
            Assert.True(far.NextAttemptAt > DateTime.UtcNow.AddMinutes(59));
        }
        finally
        {
            await system2.Terminate();
        }
    }

    [Fact]
    public async Task An_idempotency_key_gets_the_first_answer_after_completion_and_a_restart_and_two_producers_racing_store_one_message()
    {
        var handled = new ConcurrentDictionary<long, int>();
        DurableQueuesOptions Node() => Options(o =>
        {
            o.AddQueue("orders", q => q.SnapshotEvery = 10);
            o.Handlers.Add<ReadOnlyMemory<byte>>("order", (_, ctx, _) =>
            {
                handled.AddOrUpdate(ctx.MessageId, 1, (_, n) => n + 1);
                return ValueTask.FromResult<object?>(null);
            });
        });
        var request = new NewMessage("order", Bytes("{\"sku\":1}"), IdempotencyKey: "order-17");

        var (system1, queues1) = TestQueues.StartNode(Node(), "first");
        var first = await queues1.Client.EnqueueAsync("orders", request);
        Assert.False(first.Replayed);
        await TestQueues.Until(async () => (await queues1.Client.GetStatsAsync("orders")).TotalSucceeded == 1, "the first message to complete");
        Assert.Equal(new EnqueueResult(first.MessageId, Replayed: true), await queues1.Client.EnqueueAsync("orders", request));
        await system1.Terminate();

        var (system2, queues2) = TestQueues.StartNode(Node(), "second");
        try
        {
            Assert.Equal(new EnqueueResult(first.MessageId, Replayed: true), await queues2.Client.EnqueueAsync("orders", request));
            var mismatch = await Assert.ThrowsAsync<QueueException>(() => queues2.Client.EnqueueAsync("orders", request with { Payload = Bytes("{\"sku\":2}") }));
            Assert.Equal(RejectionCode.IdempotencyKeyMismatch, mismatch.Code);

            // Eight producers send the same new request at once, each retrying while the first is being written.
            var raced = request with { IdempotencyKey = "order-18" };
            var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                while (true)
                {
                    try { return await queues2.Client.EnqueueAsync("orders", raced); }
                    catch (QueueException e) when (e.Code == RejectionCode.IdempotencyKeyInProgress) { await Task.Delay(5); }
                }
            })));
            Assert.Single(answers.Select(a => a.MessageId).Distinct());
            Assert.Single(answers, a => !a.Replayed);
            var stats = await queues2.Client.GetStatsAsync("orders");
            Assert.Equal(2, stats.TotalEnqueued);
            Assert.Equal(2, stats.IdempotencyKeys);
            await TestQueues.Until(async () => (await queues2.Client.GetStatsAsync("orders")).TotalSucceeded == 2, "the raced message to complete");
            Assert.All(handled.Values, n => Assert.Equal(1, n));
        }
        finally
        {
            await system2.Terminate();
        }
    }

    [Fact]
    public async Task Cancelling_a_running_a_waiting_and_a_scheduled_message_and_a_finished_or_unknown_one()
    {
        var tokenFired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var blockStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = new ConcurrentDictionary<long, int>();
        DurableQueuesOptions Node() => Options(o =>
        {
            o.AddQueue("jobs", q => { q.Workers = 1; q.Prefetch = 1; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("block", async (_, ctx, ct) =>
            {
                runs.AddOrUpdate(ctx.MessageId, 1, (_, n) => n + 1);
                blockStarted.TrySetResult();
                try { await Task.Delay(Timeout.Infinite, ct); }
                catch (OperationCanceledException) { tokenFired.TrySetResult(); throw; }
                return null;
            });
            o.Handlers.Add<ReadOnlyMemory<byte>>("quick", (_, ctx, _) =>
            {
                runs.AddOrUpdate(ctx.MessageId, 1, (_, n) => n + 1);
                return ValueTask.FromResult<object?>(null);
            });
        });

        var (system1, queues1) = TestQueues.StartNode(Node(), "first");
        var client = queues1.Client;
        var running = await client.EnqueueAsync("jobs", "block", Bytes("1"));
        await blockStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var waiting = await client.EnqueueAsync("jobs", "block", Bytes("2"));
        var scheduled = (await client.EnqueueAsync("jobs", new NewMessage("quick", Bytes("3"), Timing: MessageTiming.After(TimeSpan.FromHours(1))))).MessageId;

        Assert.Equal((CancelOutcome.Cancelled, MessageStatus.Queued), Outcome(await client.CancelAsync("jobs", waiting)));
        Assert.Equal((CancelOutcome.Cancelled, MessageStatus.Scheduled), Outcome(await client.CancelAsync("jobs", scheduled)));
        Assert.Equal((CancelOutcome.Cancelled, MessageStatus.InFlight), Outcome(await client.CancelAsync("jobs", running)));
        await tokenFired.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The worker is free again: a new message runs, and cancelling it after it finished changes nothing.
        var quick = await client.EnqueueAsync("jobs", "quick", Bytes("4"));
        await TestQueues.Until(async () => (await client.GetMessageAsync("jobs", quick))?.Status == MessageStatus.Succeeded, "the quick message to succeed");
        Assert.Equal((CancelOutcome.AlreadyFinished, MessageStatus.Succeeded), Outcome(await client.CancelAsync("jobs", quick)));
        Assert.Equal(CancelOutcome.AlreadyFinished, (await client.CancelAsync("jobs", running)).Outcome);
        Assert.Equal(CancelOutcome.NotFound, (await client.CancelAsync("jobs", 999)).Outcome);
        var stats = await client.GetStatsAsync("jobs");
        Assert.Equal((3L, 0L, 0L, 0L), (stats.TotalCancelled, stats.Depth, stats.Scheduled, stats.InFlight));
        await system1.Terminate();

        // After a restart the cancelled messages stay cancelled and never run.
        var (system2, queues2) = TestQueues.StartNode(Node(), "second");
        try
        {
            foreach (var id in new[] { running, waiting, scheduled })
                Assert.Equal(MessageStatus.Cancelled, (await queues2.Client.GetMessageAsync("jobs", id))!.Status);
            Assert.Equal(0, (await queues2.Client.GetStatsAsync("jobs")).Depth);
            Assert.Equal(1, runs[running]);
            Assert.False(runs.ContainsKey(waiting));
            Assert.False(runs.ContainsKey(scheduled));
        }
        finally
        {
            await system2.Terminate();
        }

        static (CancelOutcome, MessageStatus?) Outcome(CancelResult result) => (result.Outcome, result.PreviousStatus);
    }

    [Fact]
    public async Task A_message_that_expires_before_it_starts_is_dead_lettered_as_expired_and_never_runs()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var blockStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ran = new ConcurrentDictionary<long, bool>();
        var options = Options(o =>
        {
            o.AddQueue("jobs", q => { q.Workers = 1; q.Prefetch = 1; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", async (payload, ctx, _) =>
            {
                ran[ctx.MessageId] = true;
                if (payload.Span[0] == (byte)'b')
                {
                    blockStarted.TrySetResult();
                    await release.Task;
                }
                return null;
            });
        });
        var (system, queues) = TestQueues.StartNode(options);
        try
        {
            var client = queues.Client;
            await client.EnqueueAsync("jobs", "job", Bytes("block"));
            await blockStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
            var expiring = (await client.EnqueueAsync("jobs", new NewMessage("job", Bytes("x"), Timing: new MessageTiming(Ttl: TimeSpan.FromMilliseconds(300))))).MessageId;
            var lasting = (await client.EnqueueAsync("jobs", new NewMessage("job", Bytes("y"), Timing: new MessageTiming(Ttl: TimeSpan.FromHours(1))))).MessageId;

            await TestQueues.Until(async () => (await client.GetMessageAsync("jobs", expiring))?.Status == MessageStatus.DeadLettered, "the message to expire");
            var page = await client.ListDeadLettersAsync("jobs");
            var dead = Assert.Single(page.Items);
            Assert.Equal((expiring, "expired", "Expired"), (dead.MessageId, dead.Reason, dead.LastError!.Type));
            release.TrySetResult();
            await TestQueues.Until(async () => (await client.GetMessageAsync("jobs", lasting))?.Status == MessageStatus.Succeeded, "the lasting message to run");
            Assert.False(ran.ContainsKey(expiring));
            Assert.Equal(1, (await client.GetStatsAsync("jobs")).TotalExpired);
        }
        finally
        {
            release.TrySetResult();
            await system.Terminate();
        }
    }
}

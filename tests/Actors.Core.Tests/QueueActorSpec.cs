using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text;
using Actors.Client;
using Actors.Configuration;
using Actors.Protocol;
using Akka.Actor;
using Xunit.Abstractions;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.WorkerProtocol;

namespace Actors.Core.Tests;

/// <summary>The queue protocol end to end in one actor system, over a real SQLite file.</summary>
public class QueueActorSpec : QueueSpec
{
    public QueueActorSpec(ITestOutputHelper output) : base(output) { }

    private async Task<Protocol.QueueQueries.MessageInfo> AwaitStatus(string queue, long id, MessageStatus status)
    {
        Protocol.QueueQueries.MessageInfo? info = null;
        await AwaitAssertAsync(async () =>
        {
            info = await Client.GetMessageAsync(queue, id);
            Assert.Equal(status, info?.Status);
        }, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50));
        return info!;
    }

    [Fact]
    public async Task QueueActor_must_accept_after_commit_and_store_the_handlers_result()
    {
        Start(o => o.AddQueue("default"));
        var producer = CreateTestProbe();

        Manager.Tell(new Enqueue("default", "echo", Bytes("{\"hello\":1}"), null, CorrelationId: 7), producer);
        var accepted = await producer.ExpectMsgAsync<Accepted>();

        Assert.Equal(7, accepted.CorrelationId);
        var info = await AwaitStatus("default", accepted.MessageId, MessageStatus.Succeeded);
        Assert.Equal("{\"hello\":1}", Encoding.UTF8.GetString(info.Result!.Value.Span));
        Assert.Equal(1, info.Attempts);
        var stats = await Client.GetStatsAsync("default");
        Assert.Equal((1L, 1L, 0L), (stats.TotalEnqueued, stats.TotalSucceeded, stats.Depth));
    }

    [Fact]
    public async Task QueueActor_must_answer_bad_input_with_clear_errors_and_keep_what_it_accepted()
    {
        var gate = new TaskCompletionSource();
        Start(o =>
        {
            o.AddQueue("small", q => { q.MaxLength = 3; q.MaxPayloadBytes = 16; q.Workers = 1; q.Prefetch = 1; q.AllowedTypes = ["hold"]; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("hold", async (_, _, ct) => { await gate.Task.WaitAsync(ct); return null; });
        });

        var ids = new List<long>();
        for (var i = 0; i < 3; i++) ids.Add(await Client.EnqueueAsync("small", "hold", Bytes($"m{i}")));

        var full = await Assert.ThrowsAsync<QueueException>(() => Client.EnqueueAsync("small", "hold", Bytes("m3")));
        Assert.Equal(RejectionCode.QueueFull, full.Code);
        var tooLarge = await Assert.ThrowsAsync<QueueException>(() => Client.EnqueueAsync("small", "hold", new byte[17]));
        Assert.Equal(RejectionCode.PayloadTooLarge, tooLarge.Code);
        var unknownType = await Assert.ThrowsAsync<QueueException>(() => Client.EnqueueAsync("small", "other", Bytes("x")));
        Assert.Equal(RejectionCode.UnknownMessageType, unknownType.Code);
        var invalidType = await Assert.ThrowsAsync<QueueException>(() => Client.EnqueueAsync("small", "no spaces", Bytes("x")));
        Assert.Equal(RejectionCode.InvalidMessageType, invalidType.Code);
        var unknownQueue = await Assert.ThrowsAsync<QueueException>(() => Client.EnqueueAsync("nope", "hold", Bytes("x")));
        Assert.Equal(RejectionCode.UnknownQueue, unknownQueue.Code);
        var invalidName = await Assert.ThrowsAsync<QueueException>(() => Client.EnqueueAsync("bad/name", "hold", Bytes("x")));
        Assert.Equal(RejectionCode.InvalidQueueName, invalidName.Code);
        Assert.Contains("full", full.Message, StringComparison.Ordinal);

        foreach (var id in ids)
        {
            var info = await Client.GetMessageAsync("small", id);
            Assert.NotNull(info);
            Assert.Contains(info.Status, new[] { MessageStatus.Queued, MessageStatus.InFlight });
        }
        gate.SetResult();
        foreach (var id in ids) await AwaitStatus("small", id, MessageStatus.Succeeded);
    }

    [Fact]
    public async Task QueueActor_must_answer_a_batch_item_by_item()
    {
        Start(o => o.AddQueue("batch", q => q.MaxPayloadBytes = 4));
        var outcomes = await Client.EnqueueBatchAsync("batch",
        [
            new NewMessage("noop", Bytes("ok")),
            new NewMessage("noop", Bytes("too large")),
            new NewMessage("bad type", Bytes("x")),
            new NewMessage("echo", Bytes("ok2")),
        ]);

        Assert.Equal([true, false, false, true], outcomes.Select(o => o.IsAccepted));
        Assert.Equal([null, RejectionCode.PayloadTooLarge, RejectionCode.InvalidMessageType, null], outcomes.Select(o => o.Code));
        await AwaitStatus("batch", outcomes[3].MessageId!.Value, MessageStatus.Succeeded);
    }

    [Fact]
    public async Task QueueActor_must_redeliver_after_lease_expiry_and_ignore_the_stale_completion()
    {
        var attempts = new ConcurrentQueue<int>();
        var firstCancelled = new TaskCompletionSource();
        var secondStarted = new TaskCompletionSource();
        var releaseSecond = new TaskCompletionSource();
        Start(o =>
        {
            o.AddQueue("lease", q => { q.Lease = TimeSpan.FromSeconds(1); q.Workers = 2; q.Prefetch = 1; q.Retry.BaseDelay = TimeSpan.Zero; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("slow", async (_, ctx, ct) =>
            {
                attempts.Enqueue(ctx.Attempt);
                if (ctx.Attempt == 1)
                {
                    await using (ct.Register(() => firstCancelled.TrySetResult())) await firstCancelled.Task;
                    return "stale";
                }
                secondStarted.TrySetResult();
                await releaseSecond.Task;
                return "fresh";
            });
        });

        var id = await Client.EnqueueAsync("lease", "slow", Bytes("x"));
        await firstCancelled.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await secondStarted.Task.WaitAsync(TimeSpan.FromSeconds(60));

        // A late report for attempt 1 must not complete the message that a later attempt now holds. (Later attempts
        // wait for the test, so on a slow machine their 1 s lease may run out too: the test asserts the fencing, not
        // how many attempts it took.)
        Manager.Tell(new Completed("lease", id, 1, Bytes("\"forged\""), TimeSpan.Zero));
        var during = await Client.GetMessageAsync("lease", id);
        Assert.NotEqual(MessageStatus.Succeeded, during!.Status);
        Assert.True(during.Attempts >= 2);

        releaseSecond.SetResult();
        var info = await AwaitStatus("lease", id, MessageStatus.Succeeded);
        Assert.Equal("\"fresh\"", Encoding.UTF8.GetString(info.Result!.Value.Span));
        Assert.True(info.Attempts >= 2);
        Assert.Equal([1, 2], attempts.Take(2));
    }

    [Fact]
    public async Task QueueActor_must_redeliver_at_once_when_a_worker_crashes_or_stops()
    {
        var started = new ConcurrentQueue<(long Id, int Attempt)>();
        Start(o =>
        {
            o.AddQueue("crash", q => { q.Workers = 1; q.Prefetch = 1; q.Retry.BaseDelay = TimeSpan.FromMinutes(5); });
            o.Handlers.Add<ReadOnlyMemory<byte>>("wait", async (_, ctx, ct) =>
            {
                started.Enqueue((ctx.MessageId, ctx.Attempt));
                if (ctx.Attempt < 3) await Task.Delay(Timeout.Infinite, ct);
                return null;
            });
        });
        var id = await Client.EnqueueAsync("crash", "wait", Bytes("x"));
        await AwaitConditionAsync(() => Task.FromResult(started.Count == 1), TimeSpan.FromSeconds(60));

        // A crash (restart by the pool's supervisor) hands the delivery back at once, without waiting for the lease.
        Sys.ActorSelection("/user/queues/crash/queue/workers/*").Tell(Kill.Instance);
        await AwaitConditionAsync(() => Task.FromResult(started.Count == 2), TimeSpan.FromSeconds(60));

        // A stop (Terminated) does the same, and the pool gets a replacement worker.
        Sys.ActorSelection("/user/queues/crash/queue/workers/*").Tell(PoisonPill.Instance);
        var info = await AwaitStatus("crash", id, MessageStatus.Succeeded);

        Assert.Equal([(id, 1), (id, 2), (id, 3)], started.ToArray());
        Assert.Equal(3, info.Attempts);
    }

    [Fact]
    public async Task QueueActor_must_retry_with_the_policy_then_dead_letter_with_every_error()
    {
        Start(o =>
        {
            o.AddQueue("retry", q => { q.Retry.MaxAttempts = 3; q.Retry.BaseDelay = TimeSpan.FromMilliseconds(10); q.Retry.MaxDelay = TimeSpan.FromMilliseconds(50); });
            o.Handlers.Add<ReadOnlyMemory<byte>>("flaky", (_, ctx, _) =>
                ctx.Attempt < 2 ? throw new TimeoutException($"attempt {ctx.Attempt}") : ValueTask.FromResult<object?>("ok"));
            o.Handlers.Add<ReadOnlyMemory<byte>>("poison", (_, ctx, _) => throw new InvalidOperationException($"poison {ctx.Attempt}"));
        });

        var flaky = await Client.EnqueueAsync("retry", "flaky", Bytes("x"));
        var poison = await Client.EnqueueAsync("retry", "poison", Bytes("x"));
        var unknown = await Client.EnqueueAsync("retry", "no_such_handler", Bytes("x"));

        var ok = await AwaitStatus("retry", flaky, MessageStatus.Succeeded);
        Assert.Equal(2, ok.Attempts);
        var dead = await AwaitStatus("retry", poison, MessageStatus.DeadLettered);
        Assert.Equal(3, dead.Attempts);
        Assert.Equal(["poison 1", "poison 2", "poison 3"], dead.Errors.Select(e => e.Message));
        Assert.All(dead.Errors, e => Assert.Equal(typeof(InvalidOperationException).FullName, e.Type));
        Assert.Equal("x", Encoding.UTF8.GetString(dead.Payload!.Value.Span));
        var noHandler = await AwaitStatus("retry", unknown, MessageStatus.DeadLettered);
        Assert.Equal(1, noHandler.Attempts);
        Assert.Contains("no_such_handler", noHandler.Errors.Single().Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueueActor_must_dead_letter_a_poison_message_without_stalling_the_others()
    {
        var good = 0;
        Start(o =>
        {
            o.AddQueue("poison", q => { q.Workers = 2; q.Prefetch = 1; q.Lease = TimeSpan.FromSeconds(2); q.Retry.MaxAttempts = 3; q.Retry.BaseDelay = TimeSpan.Zero; });
            // One poison message hangs its worker until the lease takes it back, every time. (On a slow machine a good
            // message may outlive its lease too and run again: the test counts at least one run each.)
            o.Handlers.Add<ReadOnlyMemory<byte>>("hang", async (_, _, ct) => { await Task.Delay(Timeout.Infinite, ct); return null; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("good", (_, _, _) => { Interlocked.Increment(ref good); return ValueTask.FromResult<object?>(null); });
        });
        var poison = await Client.EnqueueAsync("poison", "hang", Bytes("p"));
        var others = new List<long>();
        for (var i = 0; i < 50; i++) others.Add(await Client.EnqueueAsync("poison", "good", Bytes($"{i}")));

        // The other worker keeps the good messages moving while the poison one holds its worker.
        foreach (var id in others) await AwaitStatus("poison", id, MessageStatus.Succeeded);
        var dead = await AwaitStatus("poison", poison, MessageStatus.DeadLettered);
        Assert.Equal(3, dead.Attempts);
        Assert.All(dead.Errors, e => Assert.Equal("LeaseExpired", e.Type));
        Assert.True(Volatile.Read(ref good) >= 50);
    }

    [Fact]
    public async Task QueueActor_must_drain_in_flight_work_on_shutdown_and_refuse_new_work()
    {
        var gate = new TaskCompletionSource();
        var running = new TaskCompletionSource();
        Start(o =>
        {
            o.AddQueue("drain", q => { q.Workers = 1; q.Prefetch = 1; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("hold", async (_, _, _) => { running.TrySetResult(); await gate.Task; return "done"; });
        });
        var id = await Client.EnqueueAsync("drain", "hold", Bytes("x"));
        await running.Task.WaitAsync(TimeSpan.FromSeconds(20));

        var probe = CreateTestProbe();
        Manager.Tell(Drain.Instance, probe);
        await AwaitAssertAsync(async () => Assert.False((await Client.GetStatsAsync("drain")).AcceptingWork));
        var refused = await Assert.ThrowsAsync<QueueException>(() => Client.EnqueueAsync("drain", "hold", Bytes("y")));
        Assert.Equal(RejectionCode.ShuttingDown, refused.Code);
        await probe.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));

        gate.SetResult();
        var drained = await probe.ExpectMsgAsync<Drained>(TimeSpan.FromSeconds(20));
        Assert.Equal(0, drained.Unfinished);
        var info = await Client.GetMessageAsync("drain", id);
        Assert.Equal(MessageStatus.Succeeded, info!.Status);
    }

    [Fact]
    public async Task QueueActor_must_report_stats_that_tie_together_with_littles_law()
    {
        var gate = new TaskCompletionSource();
        Start(o =>
        {
            o.AddQueue("stats", q => { q.Workers = 2; q.Prefetch = 1; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("hold", async (_, _, _) => { await gate.Task; return null; });
        });
        for (var i = 0; i < 5; i++) await Client.EnqueueAsync("stats", "hold", Bytes("x"));

        await AwaitAssertAsync(async () =>
        {
            var stats = await Client.GetStatsAsync("stats");
            Assert.Equal((3L, 2L, 5L), (stats.Depth, stats.InFlight, stats.TotalEnqueued));
        });
        var held = await Client.GetStatsAsync("stats");
        Assert.True(held.ArrivalRate > 0);
        Assert.Equal(2, held.Workers);
        Assert.Equal(held.ArrivalRate * held.MeanWait.TotalSeconds, held.LittlesLawWaiting, 6);

        gate.SetResult();
        await AwaitAssertAsync(async () => Assert.Equal(5L, (await Client.GetStatsAsync("stats")).TotalSucceeded));
        var done = await Client.GetStatsAsync("stats");
        Assert.True(done.CompletionRate > 0);
        Assert.True(done.MeanService > TimeSpan.Zero);
        var all = await Client.ListQueuesAsync();
        Assert.Equal(["stats"], all.Select(s => s.QueueId));
    }
}

using System.Text;
using Actors.Client;
using Actors.Configuration;
using Actors.Protocol;
using Akka.Actor;
using Akka.TestKit;
using Xunit.Abstractions;
using static Actors.Protocol.OutcomeWaits;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueQueries;

namespace Actors.Core.Tests;

/// <summary>
/// Waiting for outcomes through real queues over SQLite: a waiter is answered when the outcome is stored (success,
/// dead letter, cancel, expiry), at its deadline with the status then, at once when the message is final or unknown,
/// and refused beyond <c>MaxWaiters</c>. A probe's messages reach the queue in order, so a status query sent after a
/// wait and answered proves the wait is registered before the outcome is caused.
/// </summary>
public sealed class AwaitingResultsSpec : QueueSpec
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    public AwaitingResultsSpec(ITestOutputHelper output) : base(output) { }

    /// <summary>Registers a wait from <paramref name="waiter"/> and returns once the queue has handled it (and still waits).</summary>
    private async Task Wait(TestProbe waiter, string queue, long id, TimeSpan timeout, long correlation = 0)
    {
        Manager.Tell(new WaitForOutcome(queue, id, timeout, correlation), waiter);
        Manager.Tell(new GetMessage(queue, id), waiter);
        var now = await waiter.ExpectMsgAsync<MessageInfo>(Long);
        Assert.False(IsFinal(now.Status), $"message {id} is already {now.Status}");
    }

    [Fact]
    public async Task Waiters_are_answered_when_a_success_or_a_dead_letter_is_stored()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Start(o =>
        {
            o.AddQueue("jobs", q => { q.Workers = 1; q.Prefetch = 1; q.Retry.MaxAttempts = 1; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("gated", async (payload, _, ct) =>
            {
                await gate.Task.WaitAsync(ct);
                return Encoding.UTF8.GetString(payload.Span) == "fail" ? throw new InvalidOperationException("it failed") : new { ok = true };
            });
        });
        var succeeding = await Client.EnqueueAsync("jobs", "gated", Bytes("ok"));
        var failing = await Client.EnqueueAsync("jobs", "gated", Bytes("fail"));
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        await Wait(first, "jobs", succeeding, Long);
        await Wait(second, "jobs", failing, Long);
        // Two callers may wait for the same message.
        await Wait(second, "jobs", succeeding, Long);

        gate.SetResult();

        var succeeded = await first.ExpectMsgAsync<MessageInfo>(Long);
        Assert.Equal((succeeding, MessageStatus.Succeeded, "{\"ok\":true}"), (succeeded.MessageId, succeeded.Status, Encoding.UTF8.GetString(succeeded.Result!.Value.Span)));
        var answers = new[] { await second.ExpectMsgAsync<MessageInfo>(Long), await second.ExpectMsgAsync<MessageInfo>(Long) }.OrderBy(i => i.MessageId).ToList();
        Assert.Equal((succeeding, MessageStatus.Succeeded), (answers[0].MessageId, answers[0].Status));
        Assert.Equal((failing, MessageStatus.DeadLettered), (answers[1].MessageId, answers[1].Status));
        Assert.Equal("it failed", Assert.Single(answers[1].Errors).Message);
        Assert.Equal("fail", Encoding.UTF8.GetString(answers[1].Payload!.Value.Span));
    }

    [Fact]
    public async Task Waiters_are_answered_when_a_cancellation_or_an_expiry_is_stored()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Start(o =>
        {
            o.AddQueue("jobs", q => { q.Workers = 1; q.Prefetch = 1; q.ExpiredAction = ExpiredMessageAction.Discard; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("hold", async (_, _, ct) => { await gate.Task.WaitAsync(ct); return null; });
        });
        try
        {
            var later = (await Client.EnqueueAsync("jobs", new NewMessage("hold", Bytes("later"), Timing: MessageTiming.After(TimeSpan.FromHours(1))))).MessageId;
            var cancelWaiter = CreateTestProbe();
            await Wait(cancelWaiter, "jobs", later, Long);
            Assert.Equal(CancelOutcome.Cancelled, (await Client.CancelAsync("jobs", later)).Outcome);
            var cancelled = await cancelWaiter.ExpectMsgAsync<MessageInfo>(Long);
            Assert.Equal((later, MessageStatus.Cancelled), (cancelled.MessageId, cancelled.Status));

            // The only worker holds the first message, so the second is not started before its time to live ends.
            await Client.EnqueueAsync("jobs", "hold", Bytes("busy"));
            var expiring = (await Client.EnqueueAsync("jobs", new NewMessage("hold", Bytes("stale"), Timing: new MessageTiming(Ttl: TimeSpan.FromSeconds(1))))).MessageId;
            var expiryWaiter = CreateTestProbe();
            Manager.Tell(new WaitForOutcome("jobs", expiring, Long), expiryWaiter);
            var expired = await expiryWaiter.ExpectMsgAsync<MessageInfo>(Long);
            Assert.Equal((expiring, MessageStatus.Expired), (expired.MessageId, expired.Status));
        }
        finally
        {
            gate.TrySetResult();
        }
    }

    [Fact]
    public async Task A_wait_that_ends_first_gets_the_status_then_and_final_or_unknown_messages_are_answered_at_once()
    {
        Start(o => o.AddQueue("jobs"));
        var later = (await Client.EnqueueAsync("jobs", new NewMessage("noop", Bytes("1"), Timing: MessageTiming.After(TimeSpan.FromHours(1))))).MessageId;
        var waiter = CreateTestProbe();

        Manager.Tell(new WaitForOutcome("jobs", later, TimeSpan.FromMilliseconds(300)), waiter);
        Assert.Equal(MessageStatus.Scheduled, (await waiter.ExpectMsgAsync<MessageInfo>(Long)).Status);

        Manager.Tell(new WaitForOutcome("jobs", later + 1_000, Long), waiter);
        await waiter.ExpectMsgAsync<MessageNotFound>(Long);

        var done = await Client.EnqueueAsync("jobs", "echo", Bytes("{\"n\":1}"));
        var finished = await Client.WaitAsync("jobs", done, Long);
        Assert.Equal(MessageStatus.Succeeded, finished!.Status);
        Manager.Tell(new WaitForOutcome("jobs", done, Long), waiter);
        Assert.Equal(MessageStatus.Succeeded, (await waiter.ExpectMsgAsync<MessageInfo>(Long)).Status);

        // Through the client: the status then, capped by the request timeout; null for an unknown message.
        Assert.Equal(MessageStatus.Scheduled, (await Client.WaitAsync("jobs", later, TimeSpan.FromMilliseconds(200)))!.Status);
        Assert.Null(await Client.WaitAsync("jobs", later + 1_000, Long));
    }

    [Fact]
    public async Task Beyond_MaxWaiters_a_wait_is_refused_and_a_stopped_wait_frees_its_place()
    {
        Start(o => o.AddQueue("jobs", q => q.MaxWaiters = 1));
        var later = (await Client.EnqueueAsync("jobs", new NewMessage("noop", Bytes("1"), Timing: MessageTiming.After(TimeSpan.FromHours(1))))).MessageId;
        var holder = CreateTestProbe();
        var other = CreateTestProbe();
        await Wait(holder, "jobs", later, Long, correlation: 1);

        Manager.Tell(new WaitForOutcome("jobs", later, Long, 2), other);
        var refused = await other.ExpectMsgAsync<Rejected>(Long);
        Assert.Equal((RejectionCode.TooManyWaiters, 2L), (refused.Code, refused.CorrelationId));
        var thrown = await Assert.ThrowsAsync<QueueException>(() => Client.WaitAsync("jobs", later, Long));
        Assert.Equal(RejectionCode.TooManyWaiters, thrown.Code);

        Manager.Tell(new StopWaiting("jobs", later, 1), holder);
        await Wait(other, "jobs", later, TimeSpan.FromMilliseconds(200), correlation: 3);
        Assert.Equal(MessageStatus.Scheduled, (await other.ExpectMsgAsync<MessageInfo>(Long)).Status);
        await holder.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));

        // A client that gives up its wait (its token fires) frees the place too.
        using var giveUp = new CancellationTokenSource();
        var abandoned = Client.WaitAsync("jobs", later, Long, giveUp.Token);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        Assert.Equal(MessageStatus.Scheduled, (await Client.WaitAsync("jobs", later, TimeSpan.FromMilliseconds(200)))!.Status);
    }

    [Fact]
    public async Task EnqueueAndWait_returns_the_typed_result_or_throws_with_the_outcome_on_a_partitioned_queue_too()
    {
        Start(o =>
        {
            o.AddQueue("jobs", q => q.Retry.MaxAttempts = 1);
            o.AddQueue("parts", q => q.Partitions = 3);
            o.Handlers.Add<Numbers>("add", (n, _, _) => ValueTask.FromResult<object?>(new Sum(n.A + n.B)));
            o.Handlers.Add<ReadOnlyMemory<byte>>("poison", (_, _, _) => throw new InvalidOperationException("poisoned"));
        });

        Assert.Equal(42, (await Client.EnqueueAndWaitAsync<Sum>("jobs", "add", new Numbers(40, 2), Long))!.Total);
        for (var i = 0; i < 6; i++)
            Assert.Equal(i + 1, (await Client.EnqueueAndWaitAsync<Sum>("parts", "add", new Numbers(i, 1), Long))!.Total);

        var failed = await Assert.ThrowsAsync<MessageOutcomeException>(() => Client.EnqueueAndWaitAsync<Sum>("jobs", "poison", null, Long));
        Assert.Equal(MessageStatus.DeadLettered, failed.Info!.Status);
        Assert.Contains("poisoned", failed.Message, StringComparison.Ordinal);

        var info = await Client.EnqueueAndWaitAsync("jobs", new NewMessage("noop", Bytes("1"), Timing: MessageTiming.After(TimeSpan.FromHours(1))), TimeSpan.FromMilliseconds(200));
        Assert.Equal(MessageStatus.Scheduled, info!.Status);
    }

    private sealed record Numbers(int A, int B);

    private sealed record Sum(int Total);
}

using System.Text;
using Actors.Client;
using Actors.Configuration;
using Actors.Handlers;
using Actors.Protocol;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.TestKit;
using Xunit.Abstractions;

namespace Actors.Core.Tests;

/// <summary>Journal write failures and rejections, injected with Akka.Persistence.TestKit's journal.</summary>
public class JournalFailureSpec : Akka.TestKit.Xunit2.TestKit
{
    private static readonly Config TestJournalConfig = ConfigurationFactory.ParseString("""
        akka.persistence {
          journal {
            plugin = "akka.persistence.journal.test"
            test.class = "Akka.Persistence.TestKit.TestJournal, Akka.Persistence.TestKit"
          }
          snapshot-store {
            plugin = "akka.persistence.snapshot-store.test"
            test.class = "Akka.Persistence.TestKit.TestSnapshotStore, Akka.Persistence.TestKit"
          }
        }
        """).WithFallback(DurableQueues.SerializationConfig());

    private readonly TaskCompletionSource _gate = new();
    private readonly DurableQueuesHandle _queues;
    private readonly ITestJournal _journal;

    public JournalFailureSpec(ITestOutputHelper output) : base(TestJournalConfig, output: output)
    {
        var options = new DurableQueuesOptions { RequestTimeout = TimeSpan.FromSeconds(20) };
        options.AddQueue("jobs", q => { q.Workers = 1; q.Prefetch = 1; });
        // 10/s: one dead letter a redrive chunk, so a redrive of more than one is a job.
        options.AddQueue("slow", q => { q.Workers = 1; q.RedrivePerSecond = 10; });
        options.Handlers.Add<ReadOnlyMemory<byte>>("hold", async (_, _, _) => { await _gate.Task; return null; });
        options.Handlers.Add<ReadOnlyMemory<byte>>("doomed", (_, _, _) => throw new DeadLetterException("no retry can help"));
        _queues = DurableQueues.Start(Sys, options);
        _journal = TestJournal.FromRef(Persistence.Instance.Apply(Sys).JournalFor(null));
    }

    private IQueueClient Client => _queues.Client;

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task QueueActor_must_answer_a_failed_write_with_journal_unavailable_and_lose_nothing_accepted()
    {
        var accepted = new List<long>();
        for (var i = 0; i < 3; i++) accepted.Add(await Client.EnqueueAsync("jobs", "hold", Bytes($"m{i}")));

        await _journal.OnWrite.Fail();
        var failure = await Assert.ThrowsAsync<QueueException>(() => Client.EnqueueAsync("jobs", "hold", Bytes("lost?")));
        Assert.Equal(RejectionCode.JournalUnavailable, failure.Code);

        await _journal.OnWrite.Pass();
        // The queue stopped on the failed write; its manager restarts it with backoff and it recovers from the journal.
        long afterRecovery = 0;
        await AwaitAssertAsync(async () => afterRecovery = await Client.EnqueueAsync("jobs", "hold", Bytes("after")),
            TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(100));

        foreach (var id in accepted)
        {
            var info = await Client.GetMessageAsync("jobs", id);
            Assert.NotNull(info);
            Assert.Equal($"m{id - 1}", Encoding.UTF8.GetString(info.Payload!.Value.Span));
        }
        _gate.SetResult();
        await AwaitAssertAsync(async () =>
        {
            var stats = await Client.GetStatsAsync("jobs");
            Assert.Equal(4L, stats.TotalSucceeded);
        }, TimeSpan.FromSeconds(20));
        Assert.Equal(accepted.Count + 1, afterRecovery);
    }

    [Fact]
    public async Task QueueActor_must_tell_its_waiters_when_it_stops_and_a_client_wait_carries_on_to_the_outcome()
    {
        var held = await Client.EnqueueAsync("jobs", "hold", Bytes("held"));
        var waiter = CreateTestProbe();
        _queues.Manager.Tell(new OutcomeWaits.WaitForOutcome("jobs", held, TimeSpan.FromSeconds(20)), waiter);
        _queues.Manager.Tell(new QueueQueries.GetMessage("jobs", held), waiter);
        // Answered after the wait was registered: the message is not final (queued, or already with its worker).
        Assert.Contains((await waiter.ExpectMsgAsync<QueueQueries.MessageInfo>(TimeSpan.FromSeconds(20))).Status, new[] { MessageStatus.Queued, MessageStatus.InFlight });
        var clientWait = Client.WaitAsync("jobs", held, TimeSpan.FromSeconds(20));

        await _journal.OnWrite.Fail();
        await Assert.ThrowsAsync<QueueException>(() => Client.EnqueueAsync("jobs", "hold", Bytes("lost?")));
        await waiter.ExpectMsgAsync<QueueQueries.QueueUnavailable>(TimeSpan.FromSeconds(20));
        await _journal.OnWrite.Pass();

        // The restarted queue delivers the message again; the client's wait asks the new incarnation.
        _gate.SetResult();
        Assert.Equal(MessageStatus.Succeeded, (await clientWait)!.Status);
    }

    [Fact]
    public async Task QueueActor_must_answer_a_rejected_write_with_an_error_and_keep_running()
    {
        var first = await Client.EnqueueAsync("jobs", "hold", Bytes("first"));

        await _journal.OnWrite.Reject();
        var rejected = await Assert.ThrowsAsync<QueueException>(() => Client.EnqueueAsync("jobs", "hold", Bytes("rejected")));
        Assert.Equal(RejectionCode.JournalUnavailable, rejected.Code);
        await _journal.OnWrite.Pass();

        var second = await Client.EnqueueAsync("jobs", "hold", Bytes("second"));
        Assert.NotNull(await Client.GetMessageAsync("jobs", first));
        Assert.NotNull(await Client.GetMessageAsync("jobs", second));
        _gate.SetResult();
        await AwaitAssertAsync(async () => Assert.Equal(2L, (await Client.GetStatsAsync("jobs")).TotalSucceeded), TimeSpan.FromSeconds(20));
    }

    private async Task<long> DeadLetterOne()
    {
        var id = await Client.EnqueueAsync("jobs", "doomed", Bytes("doomed"));
        await AwaitAssertAsync(async () => Assert.Equal(MessageStatus.DeadLettered, (await Client.GetMessageAsync("jobs", id))!.Status),
            TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(50));
        return id;
    }

    [Fact]
    public async Task QueueActor_must_answer_a_rejected_redrive_or_purge_write_with_journal_unavailable()
    {
        var id = await DeadLetterOne();
        // No request timeout to fall back on: the answer must come from the rejected write itself.
        using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        await _journal.OnWrite.Reject();
        var redrive = await Assert.ThrowsAsync<QueueException>(() => Client.RedriveDeadLettersAsync("jobs", cancellationToken: patience.Token));
        Assert.Equal(RejectionCode.JournalUnavailable, redrive.Code);
        Assert.Contains("redrive", redrive.Message, StringComparison.Ordinal);
        var purge = await Assert.ThrowsAsync<QueueException>(() => Client.PurgeDeadLettersAsync("jobs", cancellationToken: patience.Token));
        Assert.Equal(RejectionCode.JournalUnavailable, purge.Code);
        Assert.Contains("purge", purge.Message, StringComparison.Ordinal);
        Assert.Equal(MessageStatus.DeadLettered, (await Client.GetMessageAsync("jobs", id))!.Status);

        await _journal.OnWrite.Pass();
        Assert.Equal(1, await Client.PurgeDeadLettersAsync("jobs", cancellationToken: patience.Token));
        Assert.Equal(0, (await Client.ListDeadLettersAsync("jobs")).TotalMatching);
        _gate.SetResult();
    }

    [Fact]
    public async Task QueueActor_must_answer_a_redrive_whose_write_fails_with_journal_unavailable()
    {
        await DeadLetterOne();
        using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        await _journal.OnWrite.Fail();
        var redrive = await Assert.ThrowsAsync<QueueException>(() => Client.RedriveDeadLettersAsync("jobs", cancellationToken: patience.Token));
        Assert.Equal(RejectionCode.JournalUnavailable, redrive.Code);
        await _journal.OnWrite.Pass();
        _gate.SetResult();
    }

    [Fact]
    public async Task A_redrive_job_whose_chunk_writes_are_rejected_retries_them_and_loses_nothing()
    {
        const int count = 4;
        for (var i = 0; i < count; i++) await Client.EnqueueAsync("slow", "doomed", Bytes($"d{i}"));
        await AwaitAssertAsync(async () => Assert.Equal(count, (await Client.GetStatsAsync("slow")).DeadLettered), TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(50));

        // The queue's first two redrive writes are rejected; the job's own events pass.
        var rejecting = new RejectRedriveWrites(times: 2);
        await _journal.OnWrite.SetInterceptorAsync(rejecting);
        var started = await Client.StartRedriveAsync("slow");
        Assert.Equal(count, Assert.Single(started.Jobs!.Value).Total);

        // Every dead letter is redriven once ("doomed" dead-letters it again): 4 + 4 dead-letterings, and the job ends.
        await AwaitAssertAsync(async () =>
        {
            Assert.Equal(2 * count, (await Client.GetStatsAsync("slow")).TotalDeadLettered);
            Assert.Empty(await Client.ListRedriveJobsAsync("slow"));
        }, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
        Assert.Equal(2, rejecting.Rejected);
        await _journal.OnWrite.Pass();
        _gate.SetResult();
    }

    /// <summary>Rejects the first <paramref name="times"/> writes of a redrive event to the queue's stream.</summary>
    private sealed class RejectRedriveWrites(int times) : IJournalInterceptor
    {
        private int _seen;

        public int Rejected => Math.Min(Volatile.Read(ref _seen), times);

        public Task InterceptAsync(IPersistentRepresentation message)
        {
            if (message.Payload is QueueEvents.DeadLettersRedrivenEvent && Interlocked.Increment(ref _seen) <= times)
                throw new TestJournalRejectionException("rejected for the test");
            return Task.CompletedTask;
        }
    }
}

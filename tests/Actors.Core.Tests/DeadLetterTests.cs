using System.Collections.Concurrent;
using System.Text;
using Actors.Configuration;
using Actors.Handlers;
using Actors.Protocol;
using Akka.Actor;
using static Actors.Protocol.DeadLetterCommands;

namespace Actors.Core.Tests;

/// <summary>Dead letters as a product: listing, grouping, redrive and purge, over real SQLite files.</summary>
public sealed class DeadLetterTests : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "actors-tests", Guid.NewGuid().ToString("N"));
    private readonly List<ActorSystem> _systems = new();

    public void Dispose()
    {
        foreach (var system in _systems) system.Terminate().Wait(TimeSpan.FromSeconds(10));
        TestQueues.DeleteDirectory(_dataDirectory);
    }

    private DurableQueuesHandle Start(Action<DurableQueuesOptions> configure, string name)
    {
        var options = TestQueues.NewOptions(_dataDirectory);
        options.DrainTimeout = TimeSpan.Zero;
        configure(options);
        var (system, queues) = TestQueues.StartNode(options, name);
        _systems.Add(system);
        return queues;
    }


    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Dead_letters_are_listed_with_filters_and_paging_grouped_by_fingerprint_redriven_and_purged()
    {
        var healed = false;
        var attempts = new ConcurrentDictionary<long, int>();
        var queues = Start(o =>
        {
            o.AddQueue("mail", q => q.Retry.MaxAttempts = 1);
            o.Handlers.Add<ReadOnlyMemory<byte>>("smtp", (_, ctx, _) =>
            {
                attempts.AddOrUpdate(ctx.MessageId, 1, (_, n) => n + 1);
                return healed ? ValueTask.FromResult<object?>("sent") : throw new TimeoutException($"Connection {ctx.MessageId} to smtp-{ctx.MessageId % 3}.example.com timed out after {100 + ctx.MessageId} ms");
            });
            o.Handlers.Add<ReadOnlyMemory<byte>>("parse", (_, ctx, _) => throw new ArgumentException($"Field 'to' of message {Guid.NewGuid()} is invalid"));
        }, "dlq");
        var client = queues.Client;
        for (var i = 0; i < 5; i++) await client.EnqueueAsync("mail", "smtp", Bytes($"{i}"));
        for (var i = 0; i < 3; i++) await client.EnqueueAsync("mail", "parse", Bytes($"{i}"));
        await TestQueues.Until(async () => (await client.GetStatsAsync("mail")).DeadLettered == 8, "eight dead letters");

        var groups = await client.GroupDeadLettersAsync("mail");
        Assert.Equal([5, 3], groups.Select(g => g.Count));
        Assert.Equal(typeof(TimeoutException).FullName, groups[0].ErrorType);
        Assert.Equal($"{typeof(TimeoutException).FullName}: Connection # to smtp-#.example.com timed out after # ms", groups[0].Fingerprint);
        Assert.Equal(new[] { "smtp" }, groups[0].Types.ToArray());
        Assert.Equal(new[] { "parse" }, groups[1].Types.ToArray());

        var first = await client.ListDeadLettersAsync("mail", limit: 3);
        Assert.Equal((8, 3), (first.TotalMatching, first.Items.Length));
        var second = await client.ListDeadLettersAsync("mail", afterId: first.NextAfterId!.Value, limit: 10);
        Assert.Null(second.NextAfterId);
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), first.Items.Concat(second.Items).Select(d => d.MessageId));
        var byType = await client.ListDeadLettersAsync("mail", new DeadLetterFilter(Type: "parse"));
        Assert.Equal([6L, 7L, 8L], byType.Items.Select(d => d.MessageId));
        var byError = await client.ListDeadLettersAsync("mail", new DeadLetterFilter(ErrorType: "ArgumentException"));
        Assert.Equal(3, byError.TotalMatching);
        var byFingerprint = await client.ListDeadLettersAsync("mail", new DeadLetterFilter(Fingerprint: groups[0].Fingerprint));
        Assert.Equal(5, byFingerprint.TotalMatching);
        Assert.Equal(0, (await client.ListDeadLettersAsync("mail", new DeadLetterFilter(Since: DateTime.UtcNow.AddMinutes(1)))).TotalMatching);

        // Redrive a selection, then all of a fingerprint: fresh attempt counts, and this time the handler succeeds.
        healed = true;
        Assert.Equal(2, await client.RedriveDeadLettersAsync("mail", new DeadLetterFilter(Ids: [1, 2])));
        Assert.Equal(3, await client.RedriveDeadLettersAsync("mail", new DeadLetterFilter(Fingerprint: groups[0].Fingerprint)));
        await TestQueues.Until(async () => (await client.GetStatsAsync("mail")).TotalSucceeded == 5, "the redriven messages to succeed");
        var redriven = await client.GetMessageAsync("mail", 1);
        Assert.Equal((MessageStatus.Succeeded, 1), (redriven!.Status, redriven.Attempts));
        Assert.All(Enumerable.Range(1, 5), id => Assert.Equal(2, attempts[id]));

        Assert.Equal(1, await client.PurgeDeadLettersAsync("mail", new DeadLetterFilter(Ids: [6])));
        Assert.Null(await client.GetMessageAsync("mail", 6));
        Assert.Equal(2, await client.PurgeDeadLettersAsync("mail"));
        Assert.Equal(0, (await client.GetStatsAsync("mail")).DeadLettered);
        Assert.Empty(await client.GroupDeadLettersAsync("mail"));
    }

    [Fact]
    public async Task A_redrive_job_of_10000_dead_letters_resumes_after_a_crash_and_puts_each_back_exactly_once()
    {
        const int total = 10_000;
        var redriving = false;
        var first = Start(o =>
        {
            o.AddQueue("jobs", q => { q.Retry.MaxAttempts = 1; q.RedrivePerSecond = 2_000; q.Workers = 2; q.Prefetch = 1; q.SnapshotEvery = 100; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", async (_, ctx, ct) =>
            {
                if (!Volatile.Read(ref redriving)) throw new InvalidOperationException("poison");
                await Task.Delay(Timeout.Infinite, ct); // redriven messages hang here until the crash

                return null;
            });
        }, "first");
        for (var start = 0; start < total; start += 1000)
        {
            var batch = Enumerable.Range(start, 1000).Select(i => new QueueCommands.NewMessage("job", Bytes($"{i}"))).ToList();
            Assert.All(await first.Client.EnqueueBatchAsync("jobs", batch), o => Assert.True(o.IsAccepted));
        }
        await TestQueues.Until(async () => (await first.Client.GetStatsAsync("jobs")).DeadLettered == total, "every message to be dead-lettered");

        // Start a redrive of all (a job: 2,000/s is 200 a chunk) and crash while it is part-way through.
        Volatile.Write(ref redriving, true);
        var started = await first.Client.StartRedriveAsync("jobs", requestedBy: "ops");
        Assert.Equal(0, started.Count);
        var job = Assert.Single(started.Jobs!.Value);
        Assert.Equal((total, "ops"), (job.Total, job.RequestedBy));
        await TestQueues.Until(async () => (await first.Client.GetStatsAsync("jobs")).DeadLettered is > 0 and < total - 1000, "the redrive to be part-way");
        var progress = Assert.Single((await first.Client.GetStatsAsync("jobs")).RedriveJobs!.Value);
        Assert.Equal(job.JobId, progress.JobId);
        await _systems[0].Terminate();

        // After the restart the job resumes from its stored position, with nobody asking again.
        var delivered = new ConcurrentDictionary<long, int>();
        var second = Start(o =>
        {
            o.AddQueue("jobs", q => { q.Retry.MaxAttempts = 1; q.RedrivePerSecond = 2_000; q.Workers = 4; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", (_, ctx, _) =>
            {
                delivered.AddOrUpdate(ctx.MessageId, 1, (_, n) => n + 1);
                return ValueTask.FromResult<object?>(null);
            });
        }, "second");
        var stats = await second.Client.GetStatsAsync("jobs");
        Assert.Equal(total, stats.Depth + stats.InFlight + stats.DeadLettered + stats.TotalSucceeded);
        await TestQueues.Until(async () => (await second.Client.GetStatsAsync("jobs")).TotalSucceeded == total, "every redriven message to run");

        Assert.Equal(total, delivered.Count);
        Assert.All(delivered.Values, n => Assert.Equal(1, n));
        await TestQueues.Until(async () => (await second.Client.ListRedriveJobsAsync("jobs")).IsEmpty, "the finished job to leave the list");
        var end = await second.Client.GetStatsAsync("jobs");
        Assert.Equal((0L, 0L, 0L), (end.DeadLettered, end.Depth, end.InFlight));
        Assert.Null(end.RedriveJobs);
    }

    [Fact]
    public async Task A_cancelled_redrive_job_stops_and_stays_cancelled_after_a_restart()
    {
        const int total = 200;
        var redriving = false;
        void Configure(DurableQueuesOptions o)
        {
            // 10/s: one dead letter a chunk, so the job is still running when it is cancelled.
            o.AddQueue("jobs", q => { q.Retry.MaxAttempts = 1; q.RedrivePerSecond = 10; q.Workers = 2; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", async (_, _, ct) =>
            {
                if (!Volatile.Read(ref redriving)) throw new InvalidOperationException("poison");
                await Task.Delay(Timeout.Infinite, ct); // redriven messages stay in flight: only the redrive moves the count
                return null;
            });
        }
        var first = Start(Configure, "first");
        Assert.All(await first.Client.EnqueueBatchAsync("jobs", Enumerable.Range(0, total).Select(i => new QueueCommands.NewMessage("job", Bytes($"{i}"))).ToList()),
            o => Assert.True(o.IsAccepted));
        await TestQueues.Until(async () => (await first.Client.GetStatsAsync("jobs")).DeadLettered == total, "every message to be dead-lettered");

        Volatile.Write(ref redriving, true);
        var job = Assert.Single((await first.Client.StartRedriveAsync("jobs")).Jobs!.Value);
        await TestQueues.Until(async () => (await first.Client.GetStatsAsync("jobs")).DeadLettered <= total - 3, "the job to redrive a few");

        var cancelled = await first.Client.CancelRedriveJobAsync("jobs", job.JobId, "ops");
        Assert.True(cancelled.Cancelled);
        Assert.InRange(cancelled.Job!.Redriven, 3, total - 1);
        Assert.Empty(await first.Client.ListRedriveJobsAsync("jobs"));
        Assert.False((await first.Client.CancelRedriveJobAsync("jobs", job.JobId)).Cancelled);
        // At most the chunk that was with the queue at the cancel is redriven after it.
        var left = total - cancelled.Job.Redriven;
        Assert.InRange((await first.Client.GetStatsAsync("jobs")).DeadLettered, left - 1, left);
        await _systems[0].Terminate();

        // The cancel is stored: after a restart the job does not come back and the rest stay dead-lettered.
        var second = Start(Configure, "second");
        Assert.Empty(await second.Client.ListRedriveJobsAsync("jobs"));
        Assert.InRange((await second.Client.GetStatsAsync("jobs")).DeadLettered, left - 1, left);
    }

    [Fact]
    public async Task A_scheduled_retry_survives_a_restart_and_does_not_run_early()
    {
        var failedAt = DateTime.MinValue;
        var first = Start(o =>
        {
            o.AddQueue("later", q => { q.Retry.BaseDelay = TimeSpan.FromSeconds(2); q.Retry.MaxDelay = TimeSpan.FromSeconds(2); q.Retry.Jitter = JitterMode.None; });
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", (_, _, _) =>
            {
                failedAt = DateTime.UtcNow;
                throw new TimeoutException("try later");
            });
        }, "first");
        var id = await first.Client.EnqueueAsync("later", "job", Bytes("x"));
        await TestQueues.Until(async () => (await first.Client.GetStatsAsync("later")).Scheduled == 1, "the retry to be scheduled");
        var due = (await first.Client.GetMessageAsync("later", id))!.NextAttemptAt!.Value;
        await _systems[0].Terminate();

        var secondAttemptAt = new TaskCompletionSource<DateTime>();
        var second = Start(o =>
        {
            o.AddQueue("later", q => { q.Retry.BaseDelay = TimeSpan.FromSeconds(2); q.Retry.MaxDelay = TimeSpan.FromSeconds(2); });
            o.Handlers.Add<ReadOnlyMemory<byte>>("job", (_, ctx, _) =>
            {
                secondAttemptAt.TrySetResult(DateTime.UtcNow);
                Assert.Equal(2, ctx.Attempt);
                return ValueTask.FromResult<object?>(null);
            });
        }, "second");
        var ranAt = await secondAttemptAt.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // Never early; late by at most the 100 ms tick plus scheduling (generous bound for a loaded machine).
        Assert.True(ranAt >= due, $"ran at {ranAt:O}, due {due:O}");
        Assert.True(ranAt - due < TimeSpan.FromSeconds(5), $"ran {ranAt - due} after its due time");
        Assert.True(due - failedAt >= TimeSpan.FromSeconds(1.9));
        await TestQueues.Until(async () => (await second.Client.GetMessageAsync("later", id))?.Status == MessageStatus.Succeeded, "the retry to succeed");
    }
}

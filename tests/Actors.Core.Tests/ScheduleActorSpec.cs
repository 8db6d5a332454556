using System.Collections.Immutable;
using Actors.Client;
using Actors.Configuration;
using Actors.Protocol;
using Actors.Schedules;
using Akka.Actor;
using Xunit.Abstractions;
using static Actors.Protocol.QueueCommands;
using static Actors.Schedules.ScheduleCommands;

namespace Actors.Core.Tests;

/// <summary>A clock that moves only when told: what a schedule thinks "now" is.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

/// <summary>The schedule actor's protocol (a probe plays the queue) and schedules end to end over real queues and a real SQLite journal.</summary>
public class ScheduleActorSpec : Akka.TestKit.Xunit2.TestKit
{
    private static readonly DateTimeOffset Start = new(2026, 5, 4, 12, 0, 0, TimeSpan.Zero);
    private readonly DurableQueuesOptions _options;
    private readonly ManualClock _clock = new(Start);

    public ScheduleActorSpec(ITestOutputHelper output) : this(TestQueues.NewOptions(), output) { }

    private ScheduleActorSpec(DurableQueuesOptions options, ITestOutputHelper output) : base(TestQueues.Config(options), output: output) => _options = options;

    protected override void AfterAll()
    {
        base.AfterAll();
        TestQueues.DeleteDirectory(_options.DataDirectory);
    }

    private static ScheduleDefinition Define(Action<ScheduleOptions> configure)
    {
        var spec = new ScheduleOptions { Queue = "jobs", Type = "job", Payload = "{\"n\":1}" };
        configure(spec);
        Assert.True(ScheduleDefinition.TryCreate(spec, out var definition, out var problem), problem?.Message);
        return definition;
    }

    private static async Task<ScheduleStatus> StatusOf(IActorRef schedule, string id) =>
        Assert.IsType<ScheduleStatus>(await schedule.Ask<object>(new GetSchedule(id), TimeSpan.FromSeconds(10)));

    [Fact]
    public async Task ScheduleActor_must_enqueue_each_occurrence_with_its_key_and_record_it_after_Accepted()
    {
        var queue = CreateTestProbe();
        var schedule = Sys.ActorOf(ScheduleActor.Props("tick", queue, _clock, TimeSpan.FromSeconds(30)));
        schedule.Tell(new DefineSchedule("tick", Define(s => { s.Every = "PT10S"; s.Headers = new() { ["tenant"] = "t1" }; })));
        Assert.True((await ExpectMsgAsync<ScheduleAccepted>()).Created);

        _clock.Advance(TimeSpan.FromSeconds(10));
        schedule.Tell(ScheduleActor.Tick.Instance);
        var enqueue = await queue.ExpectMsgAsync<Enqueue>();
        Assert.Equal("tick@2026-05-04T12:00:10.0000000Z", enqueue.IdempotencyKey);
        Assert.Equal(("jobs", "job", "{\"n\":1}"), (enqueue.QueueId, enqueue.Type, System.Text.Encoding.UTF8.GetString(enqueue.Payload.Span)));
        Assert.Equal("t1", enqueue.Headers!["tenant"]);
        Assert.Equal("tick", enqueue.Headers[ScheduleHeaders.Schedule]);

        // Until the queue answers, nothing is recorded as fired.
        var before = await StatusOf(schedule, "tick");
        Assert.Equal(0, before.Fired);
        Assert.Single(before.Pending);

        queue.Reply(new Accepted("jobs", 11, enqueue.CorrelationId));
        await AwaitAssertAsync(async () =>
        {
            var status = await StatusOf(schedule, "tick");
            Assert.Equal(1, status.Fired);
            Assert.Equal(11, status.LastFires[0].MessageId);
            Assert.Empty(status.Pending);
            Assert.Equal(new DateTime(2026, 5, 4, 12, 0, 20, DateTimeKind.Utc), status.Next[0]);
        });
    }

    [Fact]
    public async Task ScheduleActor_must_send_the_same_key_again_after_a_crash_between_enqueue_and_record()
    {
        var queue = CreateTestProbe();
        var first = Sys.ActorOf(ScheduleActor.Props("crashy", queue, _clock, TimeSpan.FromSeconds(30)));
        first.Tell(new DefineSchedule("crashy", Define(s => s.Every = "PT10S")));
        await ExpectMsgAsync<ScheduleAccepted>();
        _clock.Advance(TimeSpan.FromSeconds(10));
        first.Tell(ScheduleActor.Tick.Instance);
        var sent = await queue.ExpectMsgAsync<Enqueue>();

        // The node dies after the queue stored the message but before the schedule recorded the fire.
        Watch(first);
        Sys.Stop(first);
        await ExpectTerminatedAsync(first);
        _clock.Advance(TimeSpan.FromSeconds(3));

        var second = Sys.ActorOf(ScheduleActor.Props("crashy", queue, _clock, TimeSpan.FromSeconds(30)));
        var again = await queue.ExpectMsgAsync<Enqueue>();
        Assert.Equal(sent.IdempotencyKey, again.IdempotencyKey);
        queue.Reply(new Accepted("jobs", 5, again.CorrelationId, Replayed: true)); // the queue's de-duplication answers with the first message
        await AwaitAssertAsync(async () =>
        {
            var status = await StatusOf(second, "crashy");
            Assert.Equal(1, status.Fired);
            Assert.True(status.LastFires[0].Replayed);
            Assert.Equal(5, status.LastFires[0].MessageId);
        });

        // Recorded now: a further restart sends nothing for that occurrence.
        Watch(second);
        Sys.Stop(second);
        await ExpectTerminatedAsync(second);
        var third = Sys.ActorOf(ScheduleActor.Props("crashy", queue, _clock, TimeSpan.FromSeconds(30)));
        Assert.Equal(1, (await StatusOf(third, "crashy")).Fired);
        await queue.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task ScheduleActor_must_recover_from_its_snapshots()
    {
        var queue = CreateTestProbe();
        var first = Sys.ActorOf(ScheduleActor.Props("snappy", queue, _clock, TimeSpan.FromSeconds(30), snapshotEvery: 2));
        first.Tell(new DefineSchedule("snappy", Define(s => { s.Every = "PT10S"; s.Overlap = OverlapPolicy.Allow; })));
        await ExpectMsgAsync<ScheduleAccepted>();
        for (var i = 1; i <= 3; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(10));
            first.Tell(ScheduleActor.Tick.Instance);
            var enqueue = await queue.ExpectMsgAsync<Enqueue>();
            queue.Reply(new Accepted("jobs", i, enqueue.CorrelationId));
            await AwaitAssertAsync(async () => Assert.Equal(i, (await StatusOf(first, "snappy")).Fired));
        }
        Watch(first);
        Sys.Stop(first);
        await ExpectTerminatedAsync(first);

        var second = Sys.ActorOf(ScheduleActor.Props("snappy", queue, _clock, TimeSpan.FromSeconds(30), snapshotEvery: 2));
        var status = await StatusOf(second, "snappy");
        Assert.Equal(3, status.Fired);
        Assert.Equal([3L, 2L, 1L], status.LastFires.Select(f => f.MessageId));
        Assert.Equal(new DateTime(2026, 5, 4, 12, 0, 40, DateTimeKind.Utc), status.Next[0]);
        await queue.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task ScheduleActor_must_count_a_permanent_refusal_as_skipped_and_retry_a_passing_one_with_the_same_key()
    {
        var queue = CreateTestProbe();
        var schedule = Sys.ActorOf(ScheduleActor.Props("picky", queue, _clock, TimeSpan.FromSeconds(30)));
        schedule.Tell(new DefineSchedule("picky", Define(s => s.Every = "PT10S")));
        await ExpectMsgAsync<ScheduleAccepted>();

        _clock.Advance(TimeSpan.FromSeconds(10));
        schedule.Tell(ScheduleActor.Tick.Instance);
        var full = await queue.ExpectMsgAsync<Enqueue>();
        queue.Reply(new Rejected("jobs", RejectionCode.QueueFull, "full", full.CorrelationId));
        var retried = await queue.ExpectMsgAsync<Enqueue>(TimeSpan.FromSeconds(10)); // after the retry backoff (1 s)
        Assert.Equal(full.IdempotencyKey, retried.IdempotencyKey);
        queue.Reply(new Rejected("jobs", RejectionCode.UnknownMessageType, "type not allowed", retried.CorrelationId));

        await AwaitAssertAsync(async () =>
        {
            var status = await StatusOf(schedule, "picky");
            Assert.Equal(1, status.Skipped[SkipReasons.Rejected]);
            Assert.Empty(status.Pending);
            Assert.Contains("type not allowed", status.LastError, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Schedules_must_skip_overlapping_occurrences_while_a_slow_handler_runs()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = 0;
        _options.Time = _clock;
        _options.AddQueue("jobs", q => { q.Workers = 2; q.Lease = TimeSpan.FromHours(1); });
        _options.Handlers.Add<ReadOnlyMemory<byte>>("job", async (_, _, ct) =>
        {
            if (Interlocked.Increment(ref started) == 1) await gate.Task.WaitAsync(ct);
            return null;
        });
        var handle = DurableQueues.Start(Sys, _options);
        var schedules = handle.Schedules;
        await schedules.PutAsync("slow", new ScheduleOptions { Every = "PT10S", Queue = "jobs", Type = "job", Overlap = OverlapPolicy.Skip });

        async Task<ScheduleStatus> AfterTick(Func<ScheduleStatus, bool> until)
        {
            ScheduleStatus? status = null;
            await AwaitAssertAsync(async () =>
            {
                Sys.ActorSelection("/user/schedules/*").Tell(ScheduleActor.Tick.Instance);
                status = await schedules.GetAsync("slow");
                Assert.True(until(status!), $"status: fired {status!.Fired}, skipped {status.SkippedTotal}, pending {status.Pending.Length}");
            }, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(50));
            return status!;
        }

        _clock.Advance(TimeSpan.FromSeconds(10));
        var first = await AfterTick(s => s.Fired == 1);
        var firstId = first.LastFires[0].MessageId;
        await AwaitAssertAsync(async () => Assert.Equal(MessageStatus.InFlight, (await handle.Client.GetMessageAsync("jobs", firstId))!.Status));

        _clock.Advance(TimeSpan.FromSeconds(10));
        var skipped = await AfterTick(s => s.Skipped.GetValueOrDefault(SkipReasons.Overlap) == 1);
        Assert.Equal(1, skipped.Fired);

        gate.SetResult();
        await AwaitAssertAsync(async () => Assert.Equal(MessageStatus.Succeeded, (await handle.Client.GetMessageAsync("jobs", firstId))!.Status));
        _clock.Advance(TimeSpan.FromSeconds(10));
        var second = await AfterTick(s => s.Fired == 2);
        Assert.Equal(1, second.Skipped[SkipReasons.Overlap]);
        Assert.Equal(0, second.Missed);
        Assert.Equal(2, (await handle.Client.GetStatsAsync("jobs")).TotalEnqueued);
    }

    [Fact]
    public async Task Schedules_must_refuse_an_unknown_queue_and_keep_what_was_declared_before()
    {
        _options.Time = _clock;
        _options.AddQueue("jobs");
        var schedules = DurableQueues.Start(Sys, _options).Schedules;
        var created = await schedules.PutAsync("nightly", new ScheduleOptions { Cron = "0 2 * * *", TimeZone = "Europe/Berlin", Queue = "jobs", Type = "job" });
        Assert.True(created.Created);
        var again = await schedules.PutAsync("nightly", new ScheduleOptions { Cron = "0 2 * * *", TimeZone = "Europe/Berlin", Queue = "jobs", Type = "job" });
        Assert.False(again.Created || again.Changed);

        var unknown = await Assert.ThrowsAsync<ScheduleException>(() => schedules.PutAsync("nightly", new ScheduleOptions { Cron = "0 3 * * *", Queue = "nope", Type = "job" }));
        Assert.Equal(ScheduleErrorCode.UnknownQueue, unknown.Code);
        var badCron = await Assert.ThrowsAsync<ScheduleException>(() => schedules.PutAsync("nightly", new ScheduleOptions { Cron = "0 25 * * *", Queue = "jobs", Type = "job" }));
        Assert.Equal(ScheduleErrorCode.InvalidCron, badCron.Code);

        var status = await schedules.GetAsync("nightly");
        Assert.Equal("0 2 * * *", status!.Definition.Cron);
        Assert.Equal(new DateTime(2026, 5, 5, 0, 0, 0, DateTimeKind.Utc), status.Next[0]); // 02:00 CEST
        Assert.Equal(["nightly"], (await schedules.ListAsync()).Select(s => s.ScheduleId));

        Assert.True(await schedules.DeleteAsync("nightly"));
        Assert.Null(await schedules.GetAsync("nightly"));
        Assert.False(await schedules.DeleteAsync("nightly"));
        await AwaitAssertAsync(async () => Assert.Empty(await schedules.ListAsync()));
    }

    [Fact]
    public async Task Schedules_must_fire_once_for_a_3_hour_outage_when_the_node_comes_back()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "actors-tests", Guid.NewGuid().ToString("N"));
        try
        {
            DurableQueuesOptions Options()
            {
                var options = TestQueues.NewOptions(dataDirectory);
                options.Time = _clock;
                options.DrainTimeout = TimeSpan.Zero;
                options.AddQueue("jobs");
                options.Schedules["every10"] = new ScheduleOptions { Cron = "*/10 * * * *", Queue = "jobs", Type = "noop" };
                return options;
            }

            var (system1, node1) = TestQueues.StartNode(Options(), "before");
            await AwaitAssertAsync(async () => Assert.NotNull(await node1.Schedules.GetAsync("every10")));
            await system1.Terminate();

            _clock.Advance(TimeSpan.FromHours(3) + TimeSpan.FromMinutes(5)); // down from 12:00 to 15:05
            var (system2, node2) = TestQueues.StartNode(Options(), "after");
            try
            {
                ScheduleStatus? status = null;
                await AwaitAssertAsync(async () =>
                {
                    status = await node2.Schedules.GetAsync("every10");
                    Assert.Equal(1, status!.Fired);
                }, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50));
                Assert.Equal(new DateTime(2026, 5, 4, 15, 0, 0, DateTimeKind.Utc), status!.LastFires[0].Occurrence);
                Assert.Equal(17, status.Skipped[SkipReasons.Misfire]);
                Assert.Equal(18, status.Missed);
                var message = await node2.Client.GetMessageAsync("jobs", status.LastFires[0].MessageId);
                Assert.Equal("noop", message!.Type); // (a succeeded message keeps no headers to check the occurrence on)
                Assert.Equal(1, (await node2.Client.GetStatsAsync("jobs")).TotalEnqueued);
            }
            finally
            {
                await system2.Terminate();
            }
        }
        finally
        {
            TestQueues.DeleteDirectory(dataDirectory);
        }
    }
}

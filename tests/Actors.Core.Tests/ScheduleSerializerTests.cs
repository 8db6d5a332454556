using System.Collections.Immutable;
using System.Text;
using Actors.Protocol;
using Actors.Schedules;
using Actors.Serialization;
using static Actors.Schedules.ScheduleCommands;
using static Actors.Schedules.ScheduleEvents;

namespace Actors.Core.Tests;

/// <summary>Every schedule event, snapshot, command and reply goes through our serializer with a short SCH- manifest and comes back equal.</summary>
public class ScheduleSerializerTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly DateTime At = new(2026, 3, 29, 1, 0, 0, DateTimeKind.Utc);

    private static readonly ScheduleDefinition Definition = new(
        "reports", "nightly_report", Encoding.UTF8.GetBytes("{\"day\":\"monday\"}"),
        ImmutableDictionary<string, string>.Empty.Add("tenant", "t1"),
        "0 2 * * *", null, "Europe/Berlin", At, At.AddDays(30), true, MisfirePolicy.FireAll, 7, TimeSpan.FromHours(3), OverlapPolicy.BufferOne);

    private static readonly ScheduleStatus Status = new("nightly", Definition, true, [At, At.AddDays(1)],
        [new ScheduleFire(At, 42, At.AddSeconds(1), false, true)], 3, 2,
        ImmutableSortedDictionary.Create<string, long>(StringComparer.Ordinal).Add("overlap", 4), false, At, [At.AddDays(2)], "QueueFull: full");

    public ScheduleSerializerTests() : base(DurableQueues.SerializationConfig()) { }

    private object RoundTrip(object message)
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        Assert.IsType<QueueMessageSerializer>(serializer);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        Assert.StartsWith("SCH-", manifest, StringComparison.Ordinal);
        return Sys.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, manifest);
    }

    private static void AssertSameDefinition(ScheduleDefinition expected, ScheduleDefinition actual)
    {
        Assert.True(expected.SameAs(actual));
        Assert.Equal(expected.Paused, actual.Paused);
    }

    [Fact]
    public void Schedule_events_round_trip()
    {
        AssertSameDefinition(Definition, Assert.IsType<ScheduleDefined>(RoundTrip(new ScheduleDefined(Definition, At))).Definition);
        Assert.Equal(At, Assert.IsType<ScheduleDefined>(RoundTrip(new ScheduleDefined(Definition with { Cron = null, Every = TimeSpan.FromSeconds(10), Headers = null }, At))).At);
        foreach (IScheduleEvent e in new IScheduleEvent[]
                 {
                     new ScheduleDeleted(At), new SchedulePaused(At), new ScheduleResumed(At),
                     new OccurrencesSkipped(17, SkipReasons.Misfire, At, At.AddMinutes(5), Capped: true),
                     new OccurrenceBuffered(At, At), new OccurrenceFired(At, long.MaxValue, At, Manual: true, Replayed: true),
                     new OccurrenceRejected(At, RejectionCode.UnknownMessageType, "not allowed", At),
                 })
        {
            Assert.Equal(e, RoundTrip(e));
        }
        var due = Assert.IsType<OccurrencesDue>(RoundTrip(new OccurrencesDue([At, At.AddMinutes(10)], 2, false, At)));
        Assert.Equal([At, At.AddMinutes(10)], due.Occurrences.ToArray());
        Assert.Equal(DateTimeKind.Utc, due.Occurrences[0].Kind);
        Assert.Equal((2, false), (due.Late, due.Manual));
    }

    [Fact]
    public void Schedule_snapshots_round_trip_into_the_same_state()
    {
        var state = ScheduleState.Empty.Apply(new ScheduleDefined(Definition with { Paused = null }, At))
            .Apply(new OccurrencesDue([At.AddHours(1)], 1, false, At.AddHours(2)))
            .Apply(new OccurrenceFired(At.AddHours(1), 5, At.AddHours(2), false, false))
            .Apply(new OccurrencesSkipped(3, SkipReasons.Overlap, At.AddDays(1), At.AddDays(1)))
            .Apply(new OccurrenceBuffered(At.AddDays(2), At.AddDays(2)));
        var copy = ScheduleState.FromSnapshot(Assert.IsType<ScheduleSnapshot>(RoundTrip(state.ToSnapshot())));
        AssertSameDefinition(state.Definition!, copy.Definition!);
        Assert.Equal((state.Cursor, state.Buffered, state.LastMessageId, state.Fired, state.Missed), (copy.Cursor, copy.Buffered, copy.LastMessageId, copy.Fired, copy.Missed));
        Assert.Equal(state.Skipped.ToArray(), copy.Skipped.ToArray());
        Assert.Equal(state.LastFires.ToArray(), copy.LastFires.ToArray());
        Assert.Equal(state.NextDue(At.AddDays(3)), copy.NextDue(At.AddDays(3)));
    }

    [Fact]
    public void Schedule_commands_and_replies_round_trip()
    {
        AssertSameDefinition(Definition, Assert.IsType<DefineSchedule>(RoundTrip(new DefineSchedule("nightly", Definition))).Definition);
        foreach (object m in new object[]
                 {
                     new ScheduleRejected("nightly", ScheduleErrorCode.UnknownQueue, "no queue"), new DeleteSchedule("nightly"),
                     new ScheduleDeletedReply("nightly"), new PauseSchedule("nightly"), new ResumeSchedule("nightly"),
                     new TriggerSchedule("nightly"), new ScheduleTriggered("nightly", At, "reports", 9), new GetSchedule("nightly", 3),
                     new ScheduleNotFound("nightly"), new WakeSchedule("nightly"), new ScheduleGone("nightly"),
                 })
        {
            Assert.Equal(m, RoundTrip(m));
        }
        Assert.Equal(["a", "b"], Assert.IsType<ScheduleIds>(RoundTrip(new ScheduleIds(["a", "b"]))).Ids.ToArray());

        var status = Assert.IsType<ScheduleStatus>(RoundTrip(Status));
        AssertSameDefinition(Status.Definition, status.Definition);
        Assert.Equal(Status.Next.ToArray(), status.Next.ToArray());
        Assert.Equal(Status.LastFires.ToArray(), status.LastFires.ToArray());
        Assert.Equal((Status.Fired, Status.Missed, Status.SkippedTotal, Status.Buffered, Status.LastError), (status.Fired, status.Missed, status.SkippedTotal, status.Buffered, status.LastError));
        var accepted = Assert.IsType<ScheduleAccepted>(RoundTrip(new ScheduleAccepted("nightly", true, true, Status)));
        Assert.True(accepted.Created && accepted.Changed);
    }
}

using System.Collections.Immutable;
using Actors.Schedules;
using static Actors.Schedules.ScheduleEvents;

namespace Actors.Core.Tests;

/// <summary>The pure schedule state: occurrences (with Cronos's daylight-saving rules), misfire and overlap policies, counters.</summary>
public class ScheduleStateTests
{
    private static DateTime Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) => new(y, mo, d, h, mi, s, DateTimeKind.Utc);

    private static ScheduleDefinition Definition(Action<ScheduleOptions> configure)
    {
        var spec = new ScheduleOptions { Queue = "reports", Type = "nightly_report", Payload = "{\"a\":1}" };
        configure(spec);
        Assert.True(ScheduleDefinition.TryCreate(spec, out var definition, out var problem), problem?.Message);
        return definition;
    }

    private static ScheduleState Defined(ScheduleDefinition definition, DateTime at) => ScheduleState.Empty.Apply(new ScheduleDefined(definition, at));

    private static ScheduleState ApplyAll(ScheduleState state, IEnumerable<IScheduleEvent> events) => events.Aggregate(state, (s, e) => s.Apply(e));

    /// <summary>Accepts every pending fire as the queue would, with message ids counting up.</summary>
    private static ScheduleState AcceptPending(ScheduleState state, DateTime now, ref long nextId)
    {
        foreach (var pending in state.Pending) state = state.Apply(new OccurrenceFired(pending.Occurrence, ++nextId, now, pending.Manual, false));
        return state;
    }

    /// <summary>Runs the schedule as its actor would on a punctual node from <paramref name="from"/> to <paramref name="until"/>: wake at each due time, plan, fire.</summary>
    private static List<DateTime> RunPunctually(ScheduleDefinition definition, DateTime from, DateTime until)
    {
        var state = Defined(definition, from);
        var fired = new List<DateTime>();
        long id = 0;
        var steps = 0;
        while (state.NextDue(from) is { } due && due <= until)
        {
            Assert.True(++steps < 10_000, $"no progress at {due:O}, cursor {state.Cursor:O}");
            var plan = state.Plan(due, previousFinished: true);
            Assert.False(plan.NeedsPreviousStatus);
            state = ApplyAll(state, plan.Events);
            fired.AddRange(state.Pending.Select(p => p.Occurrence));
            state = AcceptPending(state, due, ref id);
        }
        Assert.Equal(0, state.Missed);
        Assert.Empty(state.Skipped);
        return fired;
    }

    [Fact]
    public void New_York_daily_schedules_follow_Cronos_across_both_transitions_of_2026()
    {
        // Spring forward, 8 March 2026: 02:00 EST becomes 03:00 EDT; a 02:30 job runs at 03:00 EDT that day (not skipped).
        var spring = RunPunctually(Definition(s => { s.Cron = "30 2 * * *"; s.TimeZone = "America/New_York"; }), Utc(2026, 3, 6), Utc(2026, 3, 10));
        Assert.Equal([Utc(2026, 3, 6, 7, 30), Utc(2026, 3, 7, 7, 30), Utc(2026, 3, 8, 7, 0), Utc(2026, 3, 9, 6, 30)], spring);

        // Fall back, 1 November 2026: 01:00–02:00 happens twice; a 01:30 job runs once, in the first (EDT) pass.
        var fall = RunPunctually(Definition(s => { s.Cron = "30 1 * * *"; s.TimeZone = "America/New_York"; }), Utc(2026, 10, 30, 12), Utc(2026, 11, 3));
        Assert.Equal([Utc(2026, 10, 31, 5, 30), Utc(2026, 11, 1, 5, 30), Utc(2026, 11, 2, 6, 30)], fall);

        // An interval expression keeps its rhythm through the repeated hour: both passes fire.
        var interval = RunPunctually(Definition(s => { s.Cron = "*/30 1 * * *"; s.TimeZone = "America/New_York"; }), Utc(2026, 11, 1, 4), Utc(2026, 11, 1, 8));
        Assert.Equal([Utc(2026, 11, 1, 5, 0), Utc(2026, 11, 1, 5, 30), Utc(2026, 11, 1, 6, 0), Utc(2026, 11, 1, 6, 30)], interval);
    }

    [Fact]
    public void Berlin_daily_schedules_follow_Cronos_across_both_transitions_of_2026()
    {
        // 29 March 2026: 02:00 CET becomes 03:00 CEST; 02:30 does not exist and fires at 03:00 CEST (01:00 UTC).
        var spring = RunPunctually(Definition(s => { s.Cron = "30 2 * * *"; s.TimeZone = "Europe/Berlin"; }), Utc(2026, 3, 27, 12), Utc(2026, 3, 31));
        Assert.Equal([Utc(2026, 3, 28, 1, 30), Utc(2026, 3, 29, 1, 0), Utc(2026, 3, 30, 0, 30)], spring);

        // 25 October 2026: 03:00 CEST becomes 02:00 CET; 02:30 happens twice and fires once, in CEST (00:30 UTC).
        var fall = RunPunctually(Definition(s => { s.Cron = "30 2 * * *"; s.TimeZone = "Europe/Berlin"; }), Utc(2026, 10, 23, 12), Utc(2026, 10, 27));
        Assert.Equal([Utc(2026, 10, 24, 0, 30), Utc(2026, 10, 25, 0, 30), Utc(2026, 10, 26, 1, 30)], fall);

        // Hourly (an interval expression) fires every real hour, the repeated 02:00 included.
        var hourly = RunPunctually(Definition(s => { s.Cron = "0 * * * *"; s.TimeZone = "Europe/Berlin"; }), Utc(2026, 10, 24, 23, 30), Utc(2026, 10, 25, 2, 30));
        Assert.Equal([Utc(2026, 10, 25, 0, 0), Utc(2026, 10, 25, 1, 0), Utc(2026, 10, 25, 2, 0)], hourly);

        // The status shows the same occurrences ahead of time.
        var status = Defined(Definition(s => { s.Cron = "30 2 * * *"; s.TimeZone = "Europe/Berlin"; }), Utc(2026, 3, 27, 12)).Status("nightly", Utc(2026, 3, 27, 12), 3);
        Assert.Equal([Utc(2026, 3, 28, 1, 30), Utc(2026, 3, 29, 1, 0), Utc(2026, 3, 30, 0, 30)], status.Next.ToArray());
    }

    [Fact]
    public void Six_field_cron_has_seconds_and_every_is_anchored_at_the_epoch_or_startAt()
    {
        var seconds = RunPunctually(Definition(s => s.Cron = "*/20 * * * * *"), Utc(2026, 1, 1, 12), Utc(2026, 1, 1, 12, 1));
        Assert.Equal([Utc(2026, 1, 1, 12, 0, 20), Utc(2026, 1, 1, 12, 0, 40), Utc(2026, 1, 1, 12, 1, 0)], seconds);

        var every = RunPunctually(Definition(s => s.Every = "PT10S"), Utc(2026, 1, 1, 12, 0, 3), Utc(2026, 1, 1, 12, 0, 30));
        Assert.Equal([Utc(2026, 1, 1, 12, 0, 10), Utc(2026, 1, 1, 12, 0, 20), Utc(2026, 1, 1, 12, 0, 30)], every);

        var anchored = RunPunctually(Definition(s => { s.Every = "PT1H"; s.StartAt = new DateTimeOffset(2026, 1, 1, 12, 15, 0, TimeSpan.Zero); s.EndAt = new DateTimeOffset(2026, 1, 1, 14, 15, 0, TimeSpan.Zero); }),
            Utc(2026, 1, 1), Utc(2026, 1, 2));
        Assert.Equal([Utc(2026, 1, 1, 12, 15), Utc(2026, 1, 1, 13, 15), Utc(2026, 1, 1, 14, 15)], anchored);

        var cronWindow = RunPunctually(Definition(s => { s.Cron = "0 * * * *"; s.StartAt = new DateTimeOffset(2026, 1, 1, 10, 0, 0, TimeSpan.Zero); s.EndAt = new DateTimeOffset(2026, 1, 1, 11, 30, 0, TimeSpan.Zero); }),
            Utc(2026, 1, 1), Utc(2026, 1, 2));
        Assert.Equal([Utc(2026, 1, 1, 10, 0), Utc(2026, 1, 1, 11, 0)], cronWindow);
    }

    // A schedule every 10 minutes, defined at 12:00; the node is down from just after 12:00 until 15:00 (+ lateness).
    private static readonly DateTime DefinedAt = Utc(2026, 5, 4, 12, 0, 0);

    private static (ScheduleState State, ImmutableArray<IScheduleEvent> Events) AfterOutage(Action<ScheduleOptions> configure, DateTime now)
    {
        var state = Defined(Definition(s => { s.Cron = "*/10 * * * *"; configure(s); }), DefinedAt);
        var plan = state.Plan(now, previousFinished: null);
        Assert.False(plan.NeedsPreviousStatus);
        return (ApplyAll(state, plan.Events), plan.Events);
    }

    [Fact]
    public void After_a_3_hour_outage_fireOnce_fires_one_run_and_counts_the_rest_as_skipped()
    {
        // Back at 15:05: 18 occurrences (12:10 … 15:00) were missed; 15:00 fires once, late; 17 are skipped.
        var (state, events) = AfterOutage(_ => { }, Utc(2026, 5, 4, 15, 5));
        var due = Assert.Single(events.OfType<OccurrencesDue>());
        Assert.Equal([Utc(2026, 5, 4, 15, 0)], due.Occurrences.ToArray());
        Assert.Equal(17, state.Skipped[SkipReasons.Misfire]);
        Assert.Equal(18, state.Missed);
        Assert.Equal(Utc(2026, 5, 4, 15, 0), state.Cursor);
        Assert.Equal(Utc(2026, 5, 4, 15, 10), state.Timeline!.Next(state.Cursor));

        // Back at 15:00:30: 15:00 is on time and is the one run; the 17 before it were missed.
        var (onTime, onTimeEvents) = AfterOutage(_ => { }, Utc(2026, 5, 4, 15, 0, 30));
        Assert.Equal([Utc(2026, 5, 4, 15, 0)], Assert.Single(onTimeEvents.OfType<OccurrencesDue>()).Occurrences.ToArray());
        Assert.Equal((17L, 17L), (onTime.Skipped[SkipReasons.Misfire], onTime.Missed));
    }

    [Fact]
    public void After_a_3_hour_outage_fireAll_fires_each_missed_occurrence_up_to_maxCatchup()
    {
        var (all, allEvents) = AfterOutage(s => s.Misfire = MisfirePolicy.FireAll, Utc(2026, 5, 4, 15, 5));
        var due = Assert.Single(allEvents.OfType<OccurrencesDue>());
        Assert.Equal(18, due.Occurrences.Length);
        Assert.Equal(Utc(2026, 5, 4, 12, 10), due.Occurrences[0]);
        Assert.Equal(Utc(2026, 5, 4, 15, 0), due.Occurrences[^1]);
        Assert.Equal((18, 18L), (due.Late, all.Missed));
        Assert.Empty(all.Skipped);
        Assert.Equal(18, all.Pending.Length);

        var (capped, cappedEvents) = AfterOutage(s => { s.Misfire = MisfirePolicy.FireAll; s.MaxCatchup = 5; }, Utc(2026, 5, 4, 15, 5));
        Assert.Equal([Utc(2026, 5, 4, 14, 20), Utc(2026, 5, 4, 14, 30), Utc(2026, 5, 4, 14, 40), Utc(2026, 5, 4, 14, 50), Utc(2026, 5, 4, 15, 0)],
            Assert.Single(cappedEvents.OfType<OccurrencesDue>()).Occurrences.ToArray());
        Assert.Equal(13, capped.Skipped[SkipReasons.MaxCatchup]);
        Assert.Equal(18, capped.Missed);
    }

    [Fact]
    public void After_a_3_hour_outage_skip_fires_nothing_missed_but_an_on_time_occurrence_still_fires()
    {
        var (late, lateEvents) = AfterOutage(s => s.Misfire = MisfirePolicy.Skip, Utc(2026, 5, 4, 15, 5));
        Assert.Empty(lateEvents.OfType<OccurrencesDue>());
        Assert.Equal((18L, 18L), (late.Skipped[SkipReasons.Misfire], late.Missed));
        Assert.Equal(Utc(2026, 5, 4, 15, 0), late.Cursor);

        var (onTime, onTimeEvents) = AfterOutage(s => s.Misfire = MisfirePolicy.Skip, Utc(2026, 5, 4, 15, 0, 10));
        Assert.Equal([Utc(2026, 5, 4, 15, 0)], Assert.Single(onTimeEvents.OfType<OccurrencesDue>()).Occurrences.ToArray());
        Assert.Equal(17, onTime.Skipped[SkipReasons.Misfire]);
    }

    [Fact]
    public void Misses_older_than_the_catchup_window_are_skipped_whatever_the_policy()
    {
        // Window 1 h at 15:05: 12:10 … 14:00 (12) are too old; 14:10 … 15:00 (6) are caught up by fireAll.
        var (state, events) = AfterOutage(s => { s.Misfire = MisfirePolicy.FireAll; s.CatchupWindow = "PT1H"; }, Utc(2026, 5, 4, 15, 5));
        Assert.Equal(12, state.Skipped[SkipReasons.CatchupWindow]);
        var due = Assert.Single(events.OfType<OccurrencesDue>());
        Assert.Equal(Utc(2026, 5, 4, 14, 10), due.Occurrences[0]);
        Assert.Equal(6, due.Occurrences.Length);
        Assert.Equal(18, state.Missed);
        Assert.IsType<OccurrencesSkipped>(events[0]); // skips come first: they move the cursor up to the first fire

        // A window of zero keeps only an on-time occurrence.
        var (none, noneEvents) = AfterOutage(s => s.CatchupWindow = "00:00:00", Utc(2026, 5, 4, 15, 5));
        Assert.Empty(noneEvents.OfType<OccurrencesDue>());
        Assert.Equal(18, none.Skipped[SkipReasons.CatchupWindow]);
    }

    /// <summary>A schedule every minute that fired at 12:01 (message 1), asked at 12:02.</summary>
    private static ScheduleState AfterOneFire(OverlapPolicy overlap)
    {
        var state = Defined(Definition(s => { s.Cron = "* * * * *"; s.Overlap = overlap; }), Utc(2026, 5, 4, 12, 0, 30));
        var plan = state.Plan(Utc(2026, 5, 4, 12, 1), null);
        state = ApplyAll(state, plan.Events);
        long id = 0;
        return AcceptPending(state, Utc(2026, 5, 4, 12, 1), ref id);
    }

    [Fact]
    public void Overlap_skip_asks_for_the_previous_message_and_skips_while_it_runs()
    {
        var state = AfterOneFire(OverlapPolicy.Skip);
        Assert.Equal(1, state.LastMessageId);
        var now = Utc(2026, 5, 4, 12, 2);
        Assert.True(state.Plan(now, null).NeedsPreviousStatus);

        state = ApplyAll(state, state.Plan(now, previousFinished: false).Events);
        Assert.Empty(state.Pending);
        Assert.Equal(1, state.Skipped[SkipReasons.Overlap]);
        Assert.Equal(now, state.Cursor);

        var later = Utc(2026, 5, 4, 12, 3);
        state = ApplyAll(state, state.Plan(later, previousFinished: true).Events);
        Assert.Equal([later], state.Pending.Select(p => p.Occurrence));
        Assert.Equal(0, state.Missed);
    }

    [Fact]
    public void Overlap_bufferOne_holds_one_occurrence_skips_further_ones_and_fires_it_when_the_previous_finishes()
    {
        var state = AfterOneFire(OverlapPolicy.BufferOne);
        state = ApplyAll(state, state.Plan(Utc(2026, 5, 4, 12, 2), false).Events);
        Assert.Equal(Utc(2026, 5, 4, 12, 2), state.Buffered);
        state = ApplyAll(state, state.Plan(Utc(2026, 5, 4, 12, 3), false).Events);
        Assert.Equal(Utc(2026, 5, 4, 12, 2), state.Buffered);
        Assert.Equal(1, state.Skipped[SkipReasons.Overlap]);

        // Nothing new is due at 12:03:30, but the previous message finished: the held occurrence fires.
        var now = Utc(2026, 5, 4, 12, 3, 30);
        Assert.True(state.Plan(now, null).NeedsPreviousStatus);
        state = ApplyAll(state, state.Plan(now, true).Events);
        Assert.Null(state.Buffered);
        Assert.Equal([Utc(2026, 5, 4, 12, 2)], state.Pending.Select(p => p.Occurrence));
        Assert.Equal(Utc(2026, 5, 4, 12, 3), state.Cursor);
    }

    [Fact]
    public void Overlap_allow_fires_without_asking()
    {
        var state = AfterOneFire(OverlapPolicy.Allow);
        var plan = state.Plan(Utc(2026, 5, 4, 12, 2), null);
        Assert.False(plan.NeedsPreviousStatus);
        Assert.Single(plan.Events.OfType<OccurrencesDue>());
    }

    [Fact]
    public void Pause_skips_and_counts_what_passes_while_paused_and_resume_carries_on()
    {
        var state = Defined(Definition(s => s.Cron = "*/10 * * * *"), DefinedAt);
        state = ApplyAll(state, state.Pause(Utc(2026, 5, 4, 12, 5)));
        Assert.True(state.Paused);
        Assert.Null(state.NextDue(Utc(2026, 5, 4, 13, 0)));
        Assert.Empty(state.Plan(Utc(2026, 5, 4, 13, 0), true).Events);

        var resumed = Utc(2026, 5, 4, 13, 5);
        state = ApplyAll(state, state.Resume(resumed));
        Assert.False(state.Paused);
        Assert.Equal(6, state.Skipped[SkipReasons.Paused]);
        Assert.Equal(0, state.Missed);
        Assert.Equal(Utc(2026, 5, 4, 13, 10), state.NextDue(resumed));
        Assert.Empty(state.Resume(resumed));
    }

    [Fact]
    public void Define_is_idempotent_and_a_change_restarts_the_timeline_from_now()
    {
        var definition = Definition(s => s.Cron = "0 2 * * *");
        var state = ScheduleState.Empty;
        var (events, created, changed) = state.Define(definition, DefinedAt);
        Assert.True(created && changed);
        state = ApplyAll(state, events);

        var same = Definition(s => s.Cron = "0 2 * * *");
        var again = state.Define(same, DefinedAt.AddHours(1));
        Assert.Empty(again.Events);
        Assert.False(again.Created || again.Changed);

        var pausedOnly = state.Define(same with { Paused = true }, DefinedAt.AddHours(1));
        Assert.IsType<SchedulePaused>(Assert.Single(pausedOnly.Events));

        var other = state.Define(Definition(s => { s.Cron = "0 2 * * *"; s.Payload = "{\"a\":2}"; }), DefinedAt.AddHours(1));
        Assert.True(other.Changed);
        Assert.Equal(DefinedAt.AddHours(1), ApplyAll(state, other.Events).Cursor);

        state = ApplyAll(state, state.Delete(DefinedAt.AddHours(2)));
        Assert.False(state.Exists);
        Assert.Null(state.NextDue(DefinedAt.AddHours(2)));
        var recreated = state.Define(definition, DefinedAt.AddHours(3));
        Assert.True(recreated.Created);
    }

    [Fact]
    public void Trigger_fires_now_without_moving_the_timeline_and_keys_are_deterministic()
    {
        var state = Defined(Definition(s => s.Cron = "0 2 * * *"), DefinedAt);
        var now = DefinedAt.AddMinutes(3);
        state = ApplyAll(state, state.Trigger(now));
        Assert.Equal([new PendingFire(now, true)], state.Pending.ToArray());
        Assert.Equal(DefinedAt, state.Cursor);
        Assert.Empty(state.Plan(now, true).Events); // nothing planned while a fire is pending
        state = state.Apply(new OccurrenceFired(now, 42, now, true, false));
        Assert.Equal(42, state.LastFires[0].MessageId);
        Assert.Equal(1, state.Fired);

        Assert.Equal("nightly@2026-03-29T01:00:00.0000000Z", ScheduleState.IdempotencyKey("nightly", Utc(2026, 3, 29, 1, 0)));
    }

    [Fact]
    public void A_rejected_fire_is_counted_and_released()
    {
        var state = Defined(Definition(s => s.Cron = "* * * * *"), DefinedAt);
        state = ApplyAll(state, state.Plan(DefinedAt.AddMinutes(1), null).Events);
        state = state.Apply(new OccurrenceRejected(DefinedAt.AddMinutes(1), Protocol.RejectionCode.UnknownMessageType, "not allowed", DefinedAt.AddMinutes(1)));
        Assert.Empty(state.Pending);
        Assert.Equal(1, state.Skipped[SkipReasons.Rejected]);
        Assert.Contains("UnknownMessageType", state.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public void Snapshots_hold_the_whole_state()
    {
        var state = AfterOneFire(OverlapPolicy.BufferOne);
        state = ApplyAll(state, state.Plan(Utc(2026, 5, 4, 12, 2), false).Events);
        var copy = ScheduleState.FromSnapshot(state.ToSnapshot());
        Assert.Equal(state.ToSnapshot(), copy.ToSnapshot());
        Assert.Equal(state.NextDue(Utc(2026, 5, 4, 12, 3)), copy.NextDue(Utc(2026, 5, 4, 12, 3)));
    }

    [Theory]
    [InlineData("61 * * * *", null, "UTC", ScheduleErrorCode.InvalidCron)]
    [InlineData("* * *", null, "UTC", ScheduleErrorCode.InvalidCron)]
    [InlineData("0 2 * * *", null, "Mars/Olympus_Mons", ScheduleErrorCode.UnknownTimeZone)]
    [InlineData(null, "PT0.5S", "UTC", ScheduleErrorCode.IntervalTooShort)]
    [InlineData(null, "ten seconds", "UTC", ScheduleErrorCode.InvalidSchedule)]
    [InlineData("0 2 * * *", "PT10S", "UTC", ScheduleErrorCode.CronOrEvery)]
    [InlineData(null, null, "UTC", ScheduleErrorCode.CronOrEvery)]
    public void Bad_definitions_are_refused_with_a_reason(string? cron, string? every, string zone, ScheduleErrorCode code)
    {
        var spec = new ScheduleOptions { Cron = cron, Every = every, TimeZone = zone, Queue = "reports", Type = "t" };
        Assert.False(ScheduleDefinition.TryCreate(spec, out _, out var problem));
        Assert.Equal(code, problem!.Code);
        Assert.False(string.IsNullOrWhiteSpace(problem.Message));
    }

    [Fact]
    public void An_invalid_cron_is_explained_with_Cronos_own_message()
    {
        var cronosMessage = Assert.Throws<Cronos.CronFormatException>(() => Cronos.CronExpression.Parse("61 * * * *")).Message;
        Assert.False(ScheduleDefinition.TryCreate(new ScheduleOptions { Cron = "61 * * * *", Queue = "q", Type = "t" }, out _, out var problem));
        Assert.Contains(cronosMessage, problem!.Message, StringComparison.Ordinal);
    }
}

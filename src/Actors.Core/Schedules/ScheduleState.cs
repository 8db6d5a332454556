using System.Collections.Immutable;
using static Actors.Schedules.ScheduleEvents;

namespace Actors.Schedules;

/// <summary>What <see cref="ScheduleState.Plan"/> decided: events to persist, or that it must first know whether the previous message finished.</summary>
/// <param name="Events">The events, oldest occurrence first; empty when nothing is due.</param>
/// <param name="NeedsPreviousStatus">True: ask the queue for the last fired message's status and plan again with the answer.</param>
public sealed record SchedulePlan(ImmutableArray<IScheduleEvent> Events, bool NeedsPreviousStatus)
{
    /// <summary>Nothing to do.</summary>
    public static readonly SchedulePlan None = new(ImmutableArray<IScheduleEvent>.Empty, false);

    /// <summary>Plan again once the previous message's status is known.</summary>
    public static readonly SchedulePlan NeedsStatus = new(ImmutableArray<IScheduleEvent>.Empty, true);
}

/// <summary>
/// The pure state of one schedule: its definition, the timeline cursor (every occurrence at or before it has been
/// fired, skipped or buffered), the fires decided but not yet accepted by the queue, and the counters. It decides
/// what is due at a given time under the misfire and overlap policies (<see cref="Plan"/>); the actor only
/// persists, applies and sends. No clock: every method takes <c>now</c>.
/// <para>Misfire: of the occurrences due since the cursor, the latest one is <em>on time</em> when it is at most
/// <see cref="OnTimeGrace"/> old; every other one was missed (the node was down, or the schedule was stuck).
/// Missed occurrences older than the catch-up window are skipped (<c>catchup-window</c>); the rest follow the
/// policy: <c>fireOnce</c> fires the latest due occurrence and skips the older ones (<c>misfire</c>), <c>fireAll</c>
/// fires the newest <c>maxCatchup</c> oldest first and skips the rest (<c>max-catchup</c>), <c>skip</c> skips every
/// missed one (<c>misfire</c>) and fires only an on-time one.</para>
/// <para>Overlap: before firing, the last fired message must be finished (the actor asks its queue). If it is not,
/// <c>skip</c> skips what would have fired (<c>overlap</c>); <c>bufferOne</c> holds the latest occurrence and fires
/// it when the message finishes, skipping further ones while one is held; <c>allow</c> does not ask. A
/// <c>fireAll</c> catch-up batch is one decision: it fires whole or is skipped (or buffered) whole.</para>
/// </summary>
public sealed record ScheduleState
{
    /// <summary>How late the latest due occurrence may be picked up and still count as on time (not missed): 1 min.</summary>
    public static readonly TimeSpan OnTimeGrace = TimeSpan.FromMinutes(1);

    /// <summary>How many fires <see cref="LastFires"/> keeps.</summary>
    public const int LastFiresKept = 10;

    /// <summary>Skip reasons that mean "missed while the schedule could not fire" (they count in <see cref="Missed"/>).</summary>
    public static readonly ImmutableHashSet<string> MissedReasons = ImmutableHashSet.Create(StringComparer.Ordinal, SkipReasons.Misfire, SkipReasons.MaxCatchup, SkipReasons.CatchupWindow);

    /// <summary>A schedule never defined.</summary>
    public static readonly ScheduleState Empty = new();

    private ScheduleDefinition? _definition;

    /// <summary>The definition; null when never defined.</summary>
    public ScheduleDefinition? Definition
    {
        get => _definition;
        init
        {
            _definition = value;
            Timeline = value is null ? null : new ScheduleTimeline(value);
        }
    }

    /// <summary>The occurrences of <see cref="Definition"/>.</summary>
    public ScheduleTimeline? Timeline { get; private init; }

    /// <summary>True after a delete (until defined again).</summary>
    public bool Deleted { get; init; }

    /// <summary>True while paused.</summary>
    public bool Paused { get; init; }

    /// <summary>Every occurrence at or before this instant has been fired, skipped or buffered.</summary>
    public DateTime Cursor { get; init; }

    /// <summary>An occurrence held until the previous message finishes.</summary>
    public DateTime? Buffered { get; init; }

    /// <summary>Fires decided (persisted) and not yet accepted by the queue, oldest first.</summary>
    public ImmutableArray<PendingFire> Pending { get; init; } = ImmutableArray<PendingFire>.Empty;

    /// <summary>The last fires, newest first.</summary>
    public ImmutableArray<ScheduleFire> LastFires { get; init; } = ImmutableArray<ScheduleFire>.Empty;

    /// <summary>The message id of the last fire: the "previous message" of the overlap rule.</summary>
    public long? LastMessageId { get; init; }

    /// <summary>Fires since created.</summary>
    public long Fired { get; init; }

    /// <summary>Occurrences missed: skipped for a <see cref="MissedReasons"/> reason, or fired late.</summary>
    public long Missed { get; init; }

    /// <summary>Skipped occurrences by reason (see <see cref="SkipReasons"/>).</summary>
    public ImmutableSortedDictionary<string, long> Skipped { get; init; } = ImmutableSortedDictionary.Create<string, long>(StringComparer.Ordinal);

    /// <summary>True when a count was capped (see <see cref="ScheduleTimeline.Count"/>).</summary>
    public bool CountsAreLowerBounds { get; init; }

    /// <summary>The last refusal of the target queue.</summary>
    public string? LastError { get; init; }

    /// <summary>True when the schedule is defined and not deleted.</summary>
    public bool Exists => Definition is not null && !Deleted;

    // ---- commands -------------------------------------------------------------------------------------------

    /// <summary>The events of an upsert: none when nothing changes; a pause or resume when only <c>Paused</c> asks for one.</summary>
    public (ImmutableArray<IScheduleEvent> Events, bool Created, bool Changed) Define(ScheduleDefinition definition, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (!Exists) return ([new ScheduleDefined(definition, now)], true, true);
        var events = ImmutableArray.CreateBuilder<IScheduleEvent>();
        if (definition.Paused == true) events.AddRange(Pause(now));
        if (definition.Paused == false) events.AddRange(Resume(now));
        var changed = !definition.SameAs(Definition!);
        if (changed) events.Add(new ScheduleDefined(definition with { Paused = null }, now));
        return (events.ToImmutable(), false, changed);
    }

    /// <summary>The events of a pause.</summary>
    public ImmutableArray<IScheduleEvent> Pause(DateTime now) => !Exists || Paused ? [] : [new SchedulePaused(now)];

    /// <summary>The events of a resume: the occurrences that passed while paused are skipped (<c>paused</c>), then it runs.</summary>
    public ImmutableArray<IScheduleEvent> Resume(DateTime now)
    {
        if (!Exists || !Paused) return [];
        var (count, capped) = Timeline!.Count(Cursor, now);
        return count == 0
            ? [new ScheduleResumed(now)]
            : [new OccurrencesSkipped(count, SkipReasons.Paused, Timeline.Previous(now.AddTicks(1))!.Value, now, capped), new ScheduleResumed(now)];
    }

    /// <summary>The events of a delete.</summary>
    public ImmutableArray<IScheduleEvent> Delete(DateTime now) => Exists ? [new ScheduleDeleted(now)] : [];

    /// <summary>The events of a trigger: one manual fire at <paramref name="now"/>.</summary>
    public ImmutableArray<IScheduleEvent> Trigger(DateTime now) => Exists ? [new OccurrencesDue([now], 0, Manual: true, now)] : [];

    /// <summary>
    /// What is due at <paramref name="now"/>. <paramref name="previousFinished"/>: whether the last fired message is
    /// finished (null: not asked yet). Nothing is planned while fires are pending, while paused, or when not defined.
    /// </summary>
    public SchedulePlan Plan(DateTime now, bool? previousFinished)
    {
        if (!Exists || Paused || !Pending.IsEmpty) return SchedulePlan.None;
        var definition = Definition!;
        var timeline = Timeline!;
        var mustAsk = definition.Overlap != OverlapPolicy.Allow && LastMessageId is not null && previousFinished is null;
        var anyDue = timeline.Next(Cursor) is { } first && first <= now;
        if (!anyDue && Buffered is null) return SchedulePlan.None;
        if (mustAsk) return SchedulePlan.NeedsStatus;
        var previousDone = definition.Overlap == OverlapPolicy.Allow || LastMessageId is null || previousFinished == true;

        var events = ImmutableArray.CreateBuilder<IScheduleEvent>();
        var buffered = Buffered;
        if (buffered is { } held && previousDone)
        {
            events.Add(new OccurrencesDue([held], 0, Manual: false, now));
            buffered = null;
            previousDone = definition.Overlap == OverlapPolicy.Allow; // the released message is the new "previous"
        }
        if (!anyDue) return new SchedulePlan(events.ToImmutable(), false);

        var cursor = Cursor;
        var windowStart = now - definition.CatchupWindow;
        if (timeline.Next(cursor) < windowStart && timeline.Previous(windowStart) is { } lastTooOld && lastTooOld > cursor)
        {
            var (old, capped) = timeline.Count(cursor, lastTooOld);
            events.Add(new OccurrencesSkipped(old, SkipReasons.CatchupWindow, lastTooOld, now, capped));
            cursor = lastTooOld;
        }
        if (timeline.Previous(now.AddTicks(1)) is not { } latest || latest <= cursor) return new SchedulePlan(events.ToImmutable(), false);

        var (recent, recentCapped) = timeline.Count(cursor, latest);
        var onTime = now - latest <= OnTimeGrace;
        var fires = new List<DateTime>();
        switch (definition.Misfire)
        {
            case MisfirePolicy.Skip:
                var missed = onTime ? recent - 1 : recent;
                if (missed > 0) events.Add(new OccurrencesSkipped(missed, SkipReasons.Misfire, onTime ? timeline.Previous(latest)!.Value : latest, now, recentCapped));
                if (onTime) fires.Add(latest);
                break;
            case MisfirePolicy.FireAll:
                var take = (int)Math.Min(recent, definition.MaxCatchup);
                var at = latest;
                fires.Add(at);
                while (fires.Count < take && timeline.Previous(at) is { } earlier && earlier > cursor) fires.Add(at = earlier);
                fires.Reverse();
                if (recent > fires.Count) events.Add(new OccurrencesSkipped(recent - fires.Count, SkipReasons.MaxCatchup, timeline.Previous(fires[0])!.Value, now, recentCapped));
                break;
            default:
                if (recent > 1) events.Add(new OccurrencesSkipped(recent - 1, SkipReasons.Misfire, timeline.Previous(latest)!.Value, now, recentCapped));
                fires.Add(latest);
                break;
        }
        if (fires.Count == 0) return new SchedulePlan(events.ToImmutable(), false);

        var late = fires.Count - (onTime ? 1 : 0);
        if (previousDone)
            events.Add(new OccurrencesDue([.. fires], late, Manual: false, now));
        else if (definition.Overlap == OverlapPolicy.BufferOne && buffered is null)
        {
            if (fires.Count > 1) events.Add(new OccurrencesSkipped(fires.Count - 1, SkipReasons.Overlap, fires[^2], now));
            events.Add(new OccurrenceBuffered(fires[^1], now));
        }
        else
            events.Add(new OccurrencesSkipped(fires.Count, SkipReasons.Overlap, fires[^1], now));
        return new SchedulePlan(events.ToImmutable(), false);
    }

    /// <summary>
    /// When the next occurrence is due (UTC): now while fires are pending; null when never (deleted, paused, past its
    /// end). A <see cref="Buffered"/> occurrence is not in it: the actor polls the previous message for it.
    /// </summary>
    public DateTime? NextDue(DateTime now)
    {
        if (!Exists) return null;
        if (!Pending.IsEmpty) return now;
        return Paused ? null : Timeline!.Next(Cursor);
    }

    /// <summary>The status report, with the next <paramref name="nextCount"/> occurrences after <paramref name="now"/>.</summary>
    public ScheduleStatus Status(string scheduleId, DateTime now, int nextCount = 5)
    {
        if (!Exists) throw new InvalidOperationException($"Schedule '{scheduleId}' does not exist.");
        var from = Cursor > now ? Cursor : now;
        var next = Timeline!.Between(from, DateTime.MaxValue, Math.Clamp(nextCount, 0, 100)).ToImmutableArray();
        return new ScheduleStatus(scheduleId, Definition!, Paused, next, LastFires, Fired, Missed, Skipped, CountsAreLowerBounds, Buffered,
            Pending.Select(p => p.Occurrence).ToImmutableArray(), LastError);
    }

    // ---- events ---------------------------------------------------------------------------------------------

    /// <summary>The state after <paramref name="event"/>.</summary>
    public ScheduleState Apply(IScheduleEvent @event) => @event switch
    {
        ScheduleDefined e when !Exists => new ScheduleState { Definition = e.Definition, Cursor = e.At, Paused = e.Definition.Paused ?? false },
        ScheduleDefined e => this with { Definition = e.Definition, Cursor = Max(Cursor, e.At), Paused = e.Definition.Paused ?? Paused },
        ScheduleDeleted => this with { Deleted = true, Pending = [], Buffered = null },
        SchedulePaused => this with { Paused = true },
        ScheduleResumed => this with { Paused = false },
        OccurrencesSkipped e => this with
        {
            Cursor = Max(Cursor, e.Through),
            Skipped = Skipped.SetItem(e.Reason, Skipped.GetValueOrDefault(e.Reason) + e.Count),
            Missed = Missed + (MissedReasons.Contains(e.Reason) ? e.Count : 0),
            CountsAreLowerBounds = CountsAreLowerBounds || e.Capped,
        },
        OccurrencesDue e => this with
        {
            Cursor = e.Manual || e.Occurrences.IsEmpty ? Cursor : Max(Cursor, e.Occurrences.Max()),
            Pending = Pending.AddRange(e.Occurrences.Select(o => new PendingFire(o, e.Manual))),
            Buffered = Buffered is { } b && !e.Manual && e.Occurrences.Contains(b) ? null : Buffered,
            Missed = Missed + e.Late,
        },
        OccurrenceBuffered e => this with { Buffered = e.Occurrence, Cursor = Max(Cursor, e.Occurrence) },
        OccurrenceFired e => this with
        {
            Pending = RemovePending(e.Occurrence, e.Manual),
            LastFires = LastFires.Insert(0, new ScheduleFire(e.Occurrence, e.MessageId, e.At, e.Manual, e.Replayed)).Take(LastFiresKept).ToImmutableArray(),
            LastMessageId = e.MessageId,
            Fired = Fired + 1,
        },
        OccurrenceRejected e => this with
        {
            Pending = RemovePending(e.Occurrence, null),
            Skipped = Skipped.SetItem(SkipReasons.Rejected, Skipped.GetValueOrDefault(SkipReasons.Rejected) + 1),
            LastError = $"{e.Code}: {e.Reason}",
        },
        _ => this,
    };

    private ImmutableArray<PendingFire> RemovePending(DateTime occurrence, bool? manual)
    {
        for (var i = 0; i < Pending.Length; i++)
        {
            if (Pending[i].Occurrence == occurrence && (manual is null || Pending[i].Manual == manual)) return Pending.RemoveAt(i);
        }
        return Pending;
    }

    /// <summary>The snapshot of this state.</summary>
    public ScheduleSnapshot ToSnapshot() =>
        new(Definition, Deleted, Paused, Cursor, Buffered, Pending, LastFires, LastMessageId, Fired, Missed, Skipped, CountsAreLowerBounds, LastError);

    /// <summary>The state a snapshot holds.</summary>
    public static ScheduleState FromSnapshot(ScheduleSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return new ScheduleState
        {
            Definition = snapshot.Definition,
            Deleted = snapshot.Deleted,
            Paused = snapshot.Paused,
            Cursor = snapshot.Cursor,
            Buffered = snapshot.Buffered,
            Pending = snapshot.Pending.IsDefault ? [] : snapshot.Pending,
            LastFires = snapshot.LastFires.IsDefault ? [] : snapshot.LastFires,
            LastMessageId = snapshot.LastMessageId,
            Fired = snapshot.Fired,
            Missed = snapshot.Missed,
            Skipped = snapshot.Skipped?.WithComparers(StringComparer.Ordinal) ?? ImmutableSortedDictionary.Create<string, long>(StringComparer.Ordinal),
            CountsAreLowerBounds = snapshot.CountsAreLowerBounds,
            LastError = snapshot.LastError,
        };
    }

    /// <summary>The idempotency key of an occurrence: <c>{schedule}@{occurrence UTC, ISO 8601}</c>.</summary>
    public static string IdempotencyKey(string scheduleId, DateTime occurrence) =>
        $"{scheduleId}@{DateTime.SpecifyKind(occurrence, DateTimeKind.Utc).ToString("O", System.Globalization.CultureInfo.InvariantCulture)}";

    private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;
}

/// <summary>Why occurrences were skipped: the keys of <see cref="ScheduleStatus.Skipped"/>.</summary>
public static class SkipReasons
{
    /// <summary>Missed while the schedule could not fire, and the misfire policy did not fire it.</summary>
    public const string Misfire = "misfire";

    /// <summary>Missed, and beyond <c>maxCatchup</c> of a <c>fireAll</c> catch-up.</summary>
    public const string MaxCatchup = "max-catchup";

    /// <summary>Missed longer ago than the catch-up window.</summary>
    public const string CatchupWindow = "catchup-window";

    /// <summary>The previous occurrence's message was not finished.</summary>
    public const string Overlap = "overlap";

    /// <summary>Came due while the schedule was paused.</summary>
    public const string Paused = "paused";

    /// <summary>The target queue refused the message for good (unknown queue, type not allowed, …).</summary>
    public const string Rejected = "rejected";
}

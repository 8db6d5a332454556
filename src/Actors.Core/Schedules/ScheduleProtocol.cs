using System.Collections.Immutable;
using Actors.Protocol;

namespace Actors.Schedules;

/// <summary>A message addressed to one schedule: all the schedule manager and the shard extractor need.</summary>
public interface IWithScheduleId
{
    /// <summary>The schedule's id.</summary>
    string ScheduleId { get; }
}

/// <summary>Commands and queries a schedule answers, and its replies. Every one is answered (see each).</summary>
public static class ScheduleCommands
{
    /// <summary>Create or replace a schedule (idempotent: the same definition changes nothing). Answered with <see cref="ScheduleAccepted"/> or <see cref="ScheduleRejected"/>.</summary>
    public sealed record DefineSchedule(string ScheduleId, ScheduleDefinition Definition) : IWithScheduleId, IQueueMessage;

    /// <summary>The definition is stored. <paramref name="Created"/>: there was none; <paramref name="Changed"/>: it differed from the stored one.</summary>
    public sealed record ScheduleAccepted(string ScheduleId, bool Created, bool Changed, ScheduleStatus Status) : IWithScheduleId, IQueueMessage;

    /// <summary>The request was refused; nothing changed.</summary>
    public sealed record ScheduleRejected(string ScheduleId, ScheduleErrorCode Code, string Reason) : IWithScheduleId, IQueueMessage;

    /// <summary>Delete a schedule; answered with <see cref="ScheduleDeletedReply"/> or <see cref="ScheduleNotFound"/>.</summary>
    public sealed record DeleteSchedule(string ScheduleId) : IWithScheduleId, IQueueMessage;

    /// <summary>The schedule is deleted; it fires no more.</summary>
    public sealed record ScheduleDeletedReply(string ScheduleId) : IWithScheduleId, IQueueMessage;

    /// <summary>Stop firing until resumed (occurrences meanwhile are skipped, reason <c>paused</c>); answered with the <see cref="ScheduleStatus"/>.</summary>
    public sealed record PauseSchedule(string ScheduleId) : IWithScheduleId, IQueueMessage;

    /// <summary>Fire again from the next occurrence; answered with the <see cref="ScheduleStatus"/>.</summary>
    public sealed record ResumeSchedule(string ScheduleId) : IWithScheduleId, IQueueMessage;

    /// <summary>Fire once now, outside the timeline (ignores pause and overlap); answered with <see cref="ScheduleTriggered"/> once the message is stored.</summary>
    public sealed record TriggerSchedule(string ScheduleId) : IWithScheduleId, IQueueMessage;

    /// <summary>A triggered fire was stored in <paramref name="Queue"/> as <paramref name="MessageId"/>.</summary>
    public sealed record ScheduleTriggered(string ScheduleId, DateTime At, string Queue, long MessageId) : IWithScheduleId, IQueueMessage;

    /// <summary>Ask for a schedule's status; answered with <see cref="ScheduleStatus"/> or <see cref="ScheduleNotFound"/>.</summary>
    public sealed record GetSchedule(string ScheduleId, int NextCount = 5) : IWithScheduleId, IQueueMessage;

    /// <summary>No schedule of that id exists (never defined, or deleted).</summary>
    public sealed record ScheduleNotFound(string ScheduleId) : IWithScheduleId, IQueueMessage;

    /// <summary>Start the schedule if it is not running (in a cluster: on its shard's node). Answered only by <see cref="ScheduleGone"/> when it does not exist.</summary>
    public sealed record WakeSchedule(string ScheduleId) : IWithScheduleId, IQueueMessage;

    /// <summary>
    /// Stops a schedule actor once the commands ahead of it are handled (passivation and shard hand-off). Unlike a
    /// PoisonPill it waits behind a write in progress, so a command that reached the actor is always answered.
    /// </summary>
    public sealed class StopSchedule
    {
        /// <summary>The single instance.</summary>
        public static readonly StopSchedule Instance = new();
        private StopSchedule() { }
    }

    /// <summary>The woken schedule does not exist (deleted): the manager stops waking it.</summary>
    public sealed record ScheduleGone(string ScheduleId) : IWithScheduleId, IQueueMessage;

    /// <summary>
    /// Ask the node's schedule manager for the ids of every stored schedule (deleted ones may be among them); answered
    /// with <see cref="ScheduleIds"/>. Local only: never sent between nodes.
    /// </summary>
    public sealed class ListSchedules
    {
        /// <summary>The single instance.</summary>
        public static readonly ListSchedules Instance = new();
        private ListSchedules() { }
    }

    /// <summary>Schedule ids, sorted.</summary>
    public sealed record ScheduleIds(ImmutableArray<string> Ids) : IQueueMessage;
}

/// <summary>One fire of a schedule: the occurrence and the message it became.</summary>
/// <param name="Occurrence">The occurrence (UTC); for a trigger, the time of the trigger.</param>
/// <param name="MessageId">The message id in the target queue.</param>
/// <param name="FiredAt">When the queue accepted it.</param>
/// <param name="Manual">True for a trigger.</param>
/// <param name="Replayed">True when the queue answered with an earlier message of the same idempotency key.</param>
public sealed record ScheduleFire(DateTime Occurrence, long MessageId, DateTime FiredAt, bool Manual, bool Replayed);

/// <summary>What a schedule reports about itself.</summary>
/// <param name="ScheduleId">The id.</param>
/// <param name="Definition">The current definition.</param>
/// <param name="Paused">Whether it is paused.</param>
/// <param name="Next">The next occurrences (UTC) after now, at most the number asked for.</param>
/// <param name="LastFires">The last fires, newest first (at most 10).</param>
/// <param name="Fired">Fires since the schedule was created (triggers included).</param>
/// <param name="Missed">Occurrences that came due while the schedule could not fire, whether caught up or skipped.</param>
/// <param name="Skipped">Occurrences skipped, by reason: <c>misfire</c>, <c>max-catchup</c>, <c>catchup-window</c>, <c>overlap</c>, <c>paused</c>, <c>rejected</c>.</param>
/// <param name="CountsAreLowerBounds">True when a gap held over a million cron occurrences and was counted only that far.</param>
/// <param name="Buffered">An occurrence held by <see cref="OverlapPolicy.BufferOne"/> until the previous message finishes.</param>
/// <param name="Pending">Occurrences decided and being enqueued.</param>
/// <param name="LastError">The last refusal of the target queue, if any.</param>
public sealed record ScheduleStatus(
    string ScheduleId,
    ScheduleDefinition Definition,
    bool Paused,
    ImmutableArray<DateTime> Next,
    ImmutableArray<ScheduleFire> LastFires,
    long Fired,
    long Missed,
    ImmutableSortedDictionary<string, long> Skipped,
    bool CountsAreLowerBounds,
    DateTime? Buffered,
    ImmutableArray<DateTime> Pending,
    string? LastError) : IWithScheduleId, IQueueMessage
{
    /// <summary>Every skipped occurrence, whatever the reason.</summary>
    public long SkippedTotal => Skipped.Values.Sum();
}

/// <summary>The events of a schedule's journal (persistence id <c>schedule-{id}</c>).</summary>
public static class ScheduleEvents
{
    /// <summary>Marker of a schedule event.</summary>
    public interface IScheduleEvent : IQueueMessage;

    /// <summary>The schedule was created or its definition changed at <paramref name="At"/> (occurrences count from then).</summary>
    public sealed record ScheduleDefined(ScheduleDefinition Definition, DateTime At) : IScheduleEvent;

    /// <summary>The schedule was deleted.</summary>
    public sealed record ScheduleDeleted(DateTime At) : IScheduleEvent;

    /// <summary>The schedule was paused.</summary>
    public sealed record SchedulePaused(DateTime At) : IScheduleEvent;

    /// <summary>The schedule was resumed (occurrences while paused were recorded as skipped just before).</summary>
    public sealed record ScheduleResumed(DateTime At) : IScheduleEvent;

    /// <summary>
    /// <paramref name="Count"/> occurrences up to <paramref name="Through"/> were not fired, for <paramref name="Reason"/>.
    /// <paramref name="Capped"/>: the count is a lower bound.
    /// </summary>
    public sealed record OccurrencesSkipped(long Count, string Reason, DateTime Through, DateTime At, bool Capped = false) : IScheduleEvent;

    /// <summary>
    /// These occurrences are to be enqueued (the intent, stored before the enqueue): after a crash they are sent
    /// again with the same idempotency keys. <paramref name="Late"/> of them are catch-ups of missed occurrences.
    /// A <paramref name="Manual"/> one is a trigger at <paramref name="At"/> and does not move the timeline.
    /// </summary>
    public sealed record OccurrencesDue(ImmutableArray<DateTime> Occurrences, int Late, bool Manual, DateTime At) : IScheduleEvent;

    /// <summary>An occurrence is held until the previous message finishes (<see cref="OverlapPolicy.BufferOne"/>).</summary>
    public sealed record OccurrenceBuffered(DateTime Occurrence, DateTime At) : IScheduleEvent;

    /// <summary>The target queue accepted the occurrence's message.</summary>
    public sealed record OccurrenceFired(DateTime Occurrence, long MessageId, DateTime At, bool Manual, bool Replayed) : IScheduleEvent;

    /// <summary>The target queue refused the occurrence's message for good (counted as skipped, reason <c>rejected</c>).</summary>
    public sealed record OccurrenceRejected(DateTime Occurrence, RejectionCode Code, string Reason, DateTime At) : IScheduleEvent;
}

/// <summary>A schedule's state at one journal position; recovery starts from the newest one.</summary>
public sealed record ScheduleSnapshot(
    ScheduleDefinition? Definition,
    bool Deleted,
    bool Paused,
    DateTime Cursor,
    DateTime? Buffered,
    ImmutableArray<PendingFire> Pending,
    ImmutableArray<ScheduleFire> LastFires,
    long? LastMessageId,
    long Fired,
    long Missed,
    ImmutableSortedDictionary<string, long> Skipped,
    bool CountsAreLowerBounds,
    string? LastError) : IQueueMessage;

/// <summary>An occurrence decided and not yet accepted by the queue.</summary>
public sealed record PendingFire(DateTime Occurrence, bool Manual);

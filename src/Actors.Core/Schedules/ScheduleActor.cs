using System.Collections.Immutable;
using Actors.Protocol;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueQueries;
using static Actors.Schedules.ScheduleCommands;
using static Actors.Schedules.ScheduleEvents;

namespace Actors.Schedules;

/// <summary>
/// One schedule (persistence id <c>schedule-{id}</c>): a child of the <see cref="ScheduleManager"/> on a standalone
/// node, a sharding entity in a cluster, so exactly one node fires it. The decisions are <see cref="ScheduleState"/>'s;
/// this actor persists them, enqueues and keeps a single timer to the next due time.
/// <para>A fire is two-phase: the decision (<see cref="OccurrencesDue"/>) is persisted first, then the message is
/// enqueued with the idempotency key <c>{schedule}@{occurrence UTC}</c>, and <see cref="OccurrenceFired"/> is
/// persisted when the queue answers <c>Accepted</c>. A crash or failover in between re-sends the same key after
/// recovery, and the target queue's de-duplication answers with the first message: an occurrence never becomes two
/// messages. Behaviours: <c>Idle</c>, <c>Checking</c> (asking the queue whether the previous message finished, for
/// the overlap rule) and <c>Sending</c> (one enqueue in flight); changes wait (stash) while checking or sending.</para>
/// <para>Time comes from the injected <see cref="TimeProvider"/>; the timer only wakes the actor (at most
/// <see cref="MaxSleep"/> ahead), so a test can move a fake clock and send <see cref="Tick"/>.</para>
/// </summary>
internal sealed class ScheduleActor : ReceivePersistentActor, IWithTimers
{
    /// <summary>Longest single timer: long sleeps are re-computed, so a clock change is noticed within it.</summary>
    public static readonly TimeSpan MaxSleep = TimeSpan.FromMinutes(1);

    /// <summary>How often a held (<see cref="OverlapPolicy.BufferOne"/>) occurrence polls the previous message.</summary>
    public static readonly TimeSpan BufferPoll = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan MinRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromSeconds(30);

    private readonly string _id;
    private readonly IActorRef _queues;
    private readonly TimeProvider _time;
    private readonly TimeSpan _requestTimeout;
    private readonly int _snapshotEvery;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<DateTime, IActorRef> _triggerRequesters = new();
    private ScheduleState _state = ScheduleState.Empty;
    private long _correlation;
    private long _lastSnapshotSeqNr;
    private int _failures;
    private PendingFire? _sending;

    public ScheduleActor(string scheduleId, IActorRef queues, TimeProvider time, TimeSpan requestTimeout, int snapshotEvery)
    {
        _id = scheduleId;
        _queues = queues;
        _time = time;
        _requestTimeout = requestTimeout;
        _snapshotEvery = snapshotEvery;
        PersistenceId = PersistenceIdFor(scheduleId);

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is not ScheduleSnapshot snapshot) return;
            _state = ScheduleState.FromSnapshot(snapshot);
            _lastSnapshotSeqNr = offer.Metadata.SequenceNr;
        });
        Recover<IScheduleEvent>(e => _state = _state.Apply(e));
        Recover<RecoveryCompleted>(_ =>
        {
            // Fires decided before a crash are sent again (same keys) and anything due meanwhile is planned.
            ScheduleWake();
            if (_state.Exists) Self.Tell(Tick.Instance);
        });
        Idle();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public override string PersistenceId { get; }

    /// <summary>The journal stream of a schedule.</summary>
    public static string PersistenceIdFor(string scheduleId) => PersistenceIdPrefix + scheduleId;

    /// <summary>What every schedule's persistence id starts with.</summary>
    public const string PersistenceIdPrefix = "schedule-";

    /// <summary>Props for one schedule.</summary>
    /// <param name="scheduleId">The schedule's id.</param>
    /// <param name="queues">Where to send <see cref="Enqueue"/> and <see cref="GetMessage"/>: the node's queue manager.</param>
    /// <param name="time">The clock.</param>
    /// <param name="requestTimeout">How long an enqueue or status query may go unanswered before it is sent again.</param>
    /// <param name="snapshotEvery">Events between snapshots (older events are then deleted).</param>
    public static Props Props(string scheduleId, IActorRef queues, TimeProvider time, TimeSpan requestTimeout, int snapshotEvery = 100) =>
        Akka.Actor.Props.Create(() => new ScheduleActor(scheduleId, queues, time, requestTimeout, snapshotEvery));

    private DateTime Now => _time.GetUtcNow().UtcDateTime;

    // ---- behaviours -----------------------------------------------------------------------------------------

    /// <summary>Waiting for the queue to say whether the last fired message finished.</summary>
    private void Checking(long correlation)
    {
        Command<GetSchedule>(OnGet);
        Command<MessageInfo>(m => m.MessageId == _state.LastMessageId, m => Checked(correlation, IsFinished(m.Status)));
        Command<MessageNotFound>(m => m.MessageId == _state.LastMessageId, _ => Checked(correlation, true));
        Command<QueueNotFound>(_ => Checked(correlation, true));
        Command<QueueUnavailable>(u => RetryLater($"queue unavailable: {u.Reason}"));
        Command<CheckTimedOut>(t => t.Correlation == correlation, _ => RetryLater("the queue did not answer a status query"));
        Command<WakeSchedule>(_ => { });
        Command<Tick>(_ => { });
        Command<IWithScheduleId>(_ => Stash.Stash());
        CommandAny(Housekeeping);
    }

    /// <summary>One enqueue in flight.</summary>
    private void Sending(long correlation)
    {
        Command<GetSchedule>(OnGet);
        Command<Accepted>(a => a.CorrelationId == correlation, OnAccepted);
        Command<Rejected>(r => r.CorrelationId == correlation, OnRejected);
        Command<SendTimedOut>(t => t.Correlation == correlation, _ => RetryLater("the queue did not answer an enqueue; sending it again with the same key"));
        Command<WakeSchedule>(_ => { });
        Command<Tick>(_ => { });
        Command<IWithScheduleId>(_ => Stash.Stash());
        CommandAny(Housekeeping);
    }

    private void Commands()
    {
        Command<DefineSchedule>(OnDefine);
        Command<DeleteSchedule>(_ => Change(_state.Delete(Now), () =>
        {
            Sender.Tell(new ScheduleDeletedReply(_id));
            Passivate();
        }));
        Command<PauseSchedule>(_ => Change(_state.Pause(Now), () => Sender.Tell(_state.Status(_id, Now))));
        Command<ResumeSchedule>(_ => Change(_state.Resume(Now), () => Sender.Tell(_state.Status(_id, Now))));
        Command<TriggerSchedule>(_ =>
        {
            var events = _state.Trigger(Now);
            var requester = Sender;
            Change(events, () =>
            {
                _triggerRequesters[((OccurrencesDue)events[0]).Occurrences[0]] = requester;
                OnTick();
            });
        });
        Command<GetSchedule>(OnGet);
    }

    // ---- commands -------------------------------------------------------------------------------------------

    private void OnDefine(DefineSchedule define)
    {
        var (events, created, changed) = _state.Define(define.Definition, Now);
        var requester = Sender;
        PersistThen(events, () =>
        {
            requester.Tell(new ScheduleAccepted(_id, created, changed, _state.Status(_id, Now)));
            ScheduleWake();
            Self.Tell(Tick.Instance);
        });
    }

    private void OnGet(GetSchedule get)
    {
        if (_state.Exists) Sender.Tell(_state.Status(_id, Now, get.NextCount));
        else NotFound();
    }

    /// <summary>Persists a change to an existing schedule and runs <paramref name="then"/>; a schedule that does not exist answers not-found.</summary>
    private void Change(ImmutableArray<IScheduleEvent> events, Action then)
    {
        if (!_state.Exists)
        {
            NotFound();
            return;
        }
        PersistThen(events, () =>
        {
            then();
            ScheduleWake();
        });
    }

    private void NotFound()
    {
        Sender.Tell(new ScheduleNotFound(_id));
        Passivate();
    }

    private void Gone(IActorRef waker)
    {
        if (!waker.IsNobody()) waker.Tell(new ScheduleGone(_id));
        Passivate();
    }

    /// <summary>A schedule that does not exist (or was deleted) stops: sharding's Passivate, which the standalone manager honours too.</summary>
    private void Passivate()
    {
        Timers.CancelAll();
        Context.Parent.Tell(new Passivate(StopSchedule.Instance));
    }

    // ---- firing ---------------------------------------------------------------------------------------------

    private void OnTick()
    {
        if (!_state.Exists) return;
        if (!_state.Pending.IsEmpty)
        {
            Send(_state.Pending[0]);
            return;
        }
        var plan = _state.Plan(Now, null);
        if (plan.NeedsPreviousStatus)
        {
            var correlation = ++_correlation;
            _queues.Tell(new GetMessage(_state.Definition!.Queue, _state.LastMessageId!.Value));
            Timers.StartSingleTimer("request", new CheckTimedOut(correlation), _requestTimeout);
            Become(() => Checking(correlation));
            return;
        }
        PersistThen(plan.Events, AfterPlan);
    }

    private void Checked(long correlation, bool previousFinished)
    {
        Timers.Cancel("request");
        _ = correlation;
        var plan = _state.Plan(Now, previousFinished);
        BackToIdle();
        PersistThen(plan.Events, AfterPlan);
    }

    private void AfterPlan()
    {
        if (!_state.Pending.IsEmpty) Send(_state.Pending[0]);
        else ScheduleWake();
    }

    private void Send(PendingFire fire)
    {
        var definition = _state.Definition!;
        var correlation = ++_correlation;
        _sending = fire;
        var occurrence = fire.Occurrence.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var headers = (definition.Headers ?? ImmutableDictionary<string, string>.Empty)
            .SetItem(ScheduleHeaders.Schedule, _id).SetItem(ScheduleHeaders.Occurrence, occurrence);
        _queues.Tell(new Enqueue(definition.Queue, definition.Type, definition.Payload, headers, correlation, ScheduleState.IdempotencyKey(_id, fire.Occurrence)));
        Timers.StartSingleTimer("request", new SendTimedOut(correlation), _requestTimeout);
        Become(() => Sending(correlation));
    }

    private void OnAccepted(Accepted accepted)
    {
        Timers.Cancel("request");
        var fire = _sending!;
        _sending = null;
        _failures = 0;
        BackToIdle();
        PersistThen([new OccurrenceFired(fire.Occurrence, accepted.MessageId, Now, fire.Manual, accepted.Replayed)], () =>
        {
            if (fire.Manual && _triggerRequesters.Remove(fire.Occurrence, out var requester))
                requester.Tell(new ScheduleTriggered(_id, fire.Occurrence, _state.Definition!.Queue, accepted.MessageId));
            OnTick();
        });
    }

    private void OnRejected(Rejected rejected)
    {
        if (IsTransient(rejected.Code))
        {
            RetryLater($"{rejected.Code}: {rejected.Reason}");
            return;
        }
        Timers.Cancel("request");
        var fire = _sending!;
        _sending = null;
        BackToIdle();
        _log.Warning("Schedule {0}: queue {1} refused occurrence {2} for good ({3}: {4}); counted as skipped", _id, rejected.QueueId, fire.Occurrence, rejected.Code, rejected.Reason);
        PersistThen([new OccurrenceRejected(fire.Occurrence, rejected.Code, rejected.Reason, Now)], () =>
        {
            if (fire.Manual && _triggerRequesters.Remove(fire.Occurrence, out var requester))
                requester.Tell(new ScheduleRejected(_id, rejected.Code == RejectionCode.UnknownQueue ? ScheduleErrorCode.UnknownQueue : ScheduleErrorCode.InvalidSchedule, rejected.Reason));
            OnTick();
        });
    }

    /// <summary>Gives up on the request in flight for now; the next attempt (same idempotency key) comes after a backoff.</summary>
    private void RetryLater(string why)
    {
        Timers.Cancel("request");
        _sending = null;
        _failures++;
        var delay = TimeSpan.FromTicks(Math.Min(MaxRetry.Ticks, MinRetry.Ticks * (1L << Math.Min(_failures - 1, 10))));
        _log.Warning("Schedule {0}: {1}; retrying in {2}", _id, why, delay);
        BackToIdle();
        Timers.StartSingleTimer("wake", Retry.Instance, delay);
    }

    private void BackToIdle()
    {
        Become(Idle);
        Stash.UnstashAll();
    }

    /// <summary>Nothing in flight: commands are handled, a tick plans and fires.</summary>
    private void Idle()
    {
        Commands();
        Command<Tick>(_ => OnTick());
        Command<Retry>(_ => OnTick());
        Command<WakeSchedule>(_ =>
        {
            if (!_state.Exists) Gone(Sender);
        });
        CommandAny(Housekeeping);
    }

    /// <summary>One timer to the next due time (capped at <see cref="MaxSleep"/>; <see cref="BufferPoll"/> while an occurrence is held).</summary>
    private void ScheduleWake()
    {
        var now = Now;
        var next = _state.NextDue(now);
        var delay = next is { } due ? due - now : MaxSleep;
        if (_state.Buffered is not null && !_state.Paused && delay > BufferPoll) delay = BufferPoll;
        if (delay > MaxSleep) delay = MaxSleep;
        if (delay < TimeSpan.Zero) delay = TimeSpan.Zero;
        if (!_state.Exists) Timers.Cancel("wake");
        else Timers.StartSingleTimer("wake", Tick.Instance, delay);
    }

    private void PersistThen(ImmutableArray<IScheduleEvent> events, Action then)
    {
        if (events.IsEmpty)
        {
            then();
            return;
        }
        var remaining = events.Length;
        PersistAll(events, e =>
        {
            _state = _state.Apply(e);
            if (--remaining > 0) return;
            MaybeSnapshot();
            then();
        });
    }

    private void MaybeSnapshot()
    {
        if (LastSequenceNr - _lastSnapshotSeqNr < _snapshotEvery) return;
        _lastSnapshotSeqNr = LastSequenceNr;
        SaveSnapshot(_state.ToSnapshot());
    }

    /// <summary>Journal housekeeping replies; anything else that reaches here is a stale reply (an old correlation id) and is dropped.</summary>
    private void Housekeeping(object message)
    {
        switch (message)
        {
            case SaveSnapshotSuccess saved:
                // The snapshot covers everything up to it: the events and older snapshots can go.
                DeleteMessages(saved.Metadata.SequenceNr);
                DeleteSnapshots(new SnapshotSelectionCriteria(saved.Metadata.SequenceNr - 1));
                break;
            case SaveSnapshotFailure failure:
                _log.Warning("Schedule {0}: snapshot failed: {1}", _id, failure.Cause.Message);
                break;
            case DeleteMessagesSuccess or DeleteSnapshotsSuccess:
                break;
            case DeleteMessagesFailure or DeleteSnapshotsFailure:
                _log.Warning("Schedule {0}: deleting old events or snapshots failed; recovery replays a little more", _id);
                break;
            case StopSchedule:
                // A command like any other, so it waits behind a write in progress and the commands ahead of it are answered.
                Context.Stop(Self);
                break;
            default:
                break;
        }
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        _log.Error(cause, "Schedule {0}: journal write failed; stopping (it resumes when woken again)", _id);
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    /// <summary>A message the overlap rule treats as finished: it will not run again.</summary>
    public static bool IsFinished(MessageStatus status) => status is MessageStatus.Succeeded or MessageStatus.DeadLettered or MessageStatus.Discarded
        or MessageStatus.Expired or MessageStatus.Cancelled;

    /// <summary>Refusals that pass: the same key is sent again after a backoff.</summary>
    private static bool IsTransient(RejectionCode code) => code is RejectionCode.JournalUnavailable or RejectionCode.QueueFull or RejectionCode.ShuttingDown
        or RejectionCode.IdempotencyKeyInProgress;

    /// <summary>Wakes the schedule to plan and fire (the timer's message; tests send it after moving a fake clock).</summary>
    internal sealed class Tick : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly Tick Instance = new();
        private Tick() { }
    }

    private sealed class Retry : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly Retry Instance = new();
        private Retry() { }
    }

    private sealed record CheckTimedOut(long Correlation) : INotInfluenceReceiveTimeout, IDeadLetterSuppression;

    private sealed record SendTimedOut(long Correlation) : INotInfluenceReceiveTimeout, IDeadLetterSuppression;
}

/// <summary>Headers a schedule adds to every message it enqueues.</summary>
public static class ScheduleHeaders
{
    /// <summary>The schedule's id.</summary>
    public const string Schedule = "schedule";

    /// <summary>The occurrence (UTC, ISO 8601) the message is for.</summary>
    public const string Occurrence = "schedule-occurrence";
}

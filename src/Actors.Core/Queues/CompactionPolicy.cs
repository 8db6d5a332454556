using static Actors.Protocol.QueueEvents;

namespace Actors.Queues;

/// <summary>
/// When the queue snapshots and what it deletes afterwards. A snapshot is due once at least
/// <c>SnapshotEvery</c> events (or <see cref="MessagesBetweenSnapshots"/> messages) were written since the last one and they carry at least
/// 1/<see cref="QueueActor.SnapshotReplayFraction"/> of the messages the queue holds: recovery then replays no more than
/// that fraction of a state, and snapshot work stays constant per message however deep the backlog grows.
/// <para>Nothing is deleted before the snapshot store confirms the new snapshot, and the two newest snapshots are
/// kept, each with every event it needs: after a snapshot is saved, the events the previous one covers are deleted
/// (except those still holding a payload either refers to: the watermarks), then the snapshots older than the
/// previous one. So if the newest snapshot cannot be read back, deleting its row lets the queue recover completely
/// from the previous one and the events after it.</para>
/// <para>
/// Writes wait from the moment a snapshot is due until it is saved, and during each delete
/// (<see cref="HoldsWrites"/>): on SQLite they all need the one write lock, and a writer that finds it taken sleeps
/// 150 ms before it tries again. The deletes are sliced (<see cref="CleanupStep"/>s of at most about
/// <see cref="EventsPerDelete"/> events, then the old snapshots), and what was buffered meanwhile is written between two
/// slices, so a producer waits for one slice at most rather than for the whole cleanup.</para>
/// </summary>
internal sealed class CompactionPolicy
{
    private readonly int _snapshotEvery;
    private int _eventsSinceSnapshot;
    private long _messagesSinceSnapshot;
    private long _watermark;
    private (long SequenceNr, long Watermark)? _previous;
    private readonly Queue<CleanupStep> _steps = new();
    private bool _stepRunning;
    private bool _stepDue;
    private int _stateSize;
    private Phase _phase;

    /// <summary>
    /// Events one delete covers (SQLite: ~15 ms per 1,000 rows, during which writes wait); a range of more than 16
    /// times this is cut into 16 slices.
    /// </summary>
    public const int EventsPerDelete = 250;

    private const int MostSlices = 16;

    /// <summary>
    /// Messages the events since the last snapshot may carry before one is due even with fewer than SnapshotEvery
    /// events (an event carries up to 100): recovery never replays many more than this.
    /// </summary>
    public const int MessagesBetweenSnapshots = 100_000;

    /// <summary>A policy that snapshots after at least <paramref name="snapshotEvery"/> events.</summary>
    public CompactionPolicy(int snapshotEvery) => _snapshotEvery = snapshotEvery;

    private enum Phase { Idle, Saving, Deleting }

    /// <summary>A snapshot is due and starts once no write is in flight.</summary>
    public bool SnapshotDue { get; private set; }

    /// <summary>A snapshot is being saved, or the events and snapshots it covers are being deleted.</summary>
    public bool InProgress => _phase != Phase.Idle;

    /// <summary>No write may start: a snapshot is due or being saved, or a delete is due or running.</summary>
    public bool HoldsWrites => SnapshotDue || _phase == Phase.Saving || (_phase == Phase.Deleting && (_stepRunning || _stepDue));

    /// <summary>Highest sequence number deleted from the journal so far.</summary>
    public long DeletedTo { get; private set; }

    /// <summary>
    /// Recovery started from the snapshot at <paramref name="sequenceNr"/>, whose payloads are held from
    /// <paramref name="watermark"/> on: it is the previous snapshot of the next one saved.
    /// </summary>
    public void Recovered(long sequenceNr, long watermark) => _previous = (sequenceNr, watermark);

    /// <summary>Counts a finished write's events and decides whether a snapshot is due, for a queue holding <paramref name="stateSize"/> messages.</summary>
    public void OnWriteDone(List<IQueueEvent> events, int stateSize)
    {
        _eventsSinceSnapshot += events.Count;
        foreach (var evt in events) _messagesSinceSnapshot += MessagesIn(evt);
        _stateSize = stateSize;
        // The next delete waits for the write that was let through; the next snapshot, for this cleanup to end.
        if (_phase == Phase.Deleting) _stepDue = true;
        else if (_phase == Phase.Idle && IsDue) SnapshotDue = true;
    }

    private bool IsDue => (_eventsSinceSnapshot >= _snapshotEvery || _messagesSinceSnapshot >= MessagesBetweenSnapshots)
        && _messagesSinceSnapshot * QueueActor.SnapshotReplayFraction >= _stateSize;

    /// <summary>
    /// Whether the due snapshot may start now: only with no write in flight, so it covers exactly the events up to the
    /// last sequence number.
    /// </summary>
    public bool CanStartSnapshot(int writesInFlight) => SnapshotDue && writesInFlight == 0;

    /// <summary>
    /// The due snapshot is being saved; events from <paramref name="watermark"/> on still hold payloads it refers to
    /// and must stay.
    /// </summary>
    public void SnapshotStarted(long watermark)
    {
        SnapshotDue = false;
        _phase = Phase.Saving;
        _eventsSinceSnapshot = 0;
        _messagesSinceSnapshot = 0;
        _watermark = watermark;
    }

    /// <summary>The snapshot failed: recovery replays more events until the next one succeeds.</summary>
    public void SnapshotFailed() => _phase = Phase.Idle;

    /// <summary>
    /// The snapshot at <paramref name="sequenceNr"/> was saved (the store confirmed it); it becomes the previous snapshot
    /// of the next one, and the cleanup is planned: the events the previous snapshot covers and neither snapshot's
    /// payloads need, in slices, then the snapshots older than the previous one (none after the first snapshot of a
    /// queue that recovered from none). Take the steps with <see cref="NextStep"/>.
    /// </summary>
    public void SnapshotSaved(long sequenceNr)
    {
        _phase = Phase.Deleting;
        _stepDue = true;
        _steps.Clear();
        var previous = _previous;
        _previous = (sequenceNr, _watermark);
        if (previous is not { } kept) return;
        var deleteTo = Math.Min(kept.SequenceNr, Math.Min(kept.Watermark, _watermark) - 1);
        if (deleteTo > DeletedTo)
        {
            // Where this run's first delete starts is not known (an earlier run may have deleted up to anywhere): one step.
            var slice = DeletedTo == 0 ? deleteTo : Math.Max(EventsPerDelete, (deleteTo - DeletedTo + MostSlices - 1) / MostSlices);
            for (var to = Math.Min(DeletedTo + slice, deleteTo); ; to = Math.Min(to + slice, deleteTo))
            {
                _steps.Enqueue(new CleanupStep(to, Snapshots: false));
                if (to == deleteTo) break;
            }
            DeletedTo = deleteTo;
        }
        _steps.Enqueue(new CleanupStep(kept.SequenceNr - 1, Snapshots: true));
    }

    /// <summary>
    /// The cleanup step to start now; null when none may start yet (one is running, or the writes let through between
    /// two are in flight, <paramref name="writesInFlight"/>), or the cleanup is not under way. <see cref="CleanupStep.Done"/>
    /// ends the cleanup: writes go on freely, unless the next snapshot is due already.
    /// </summary>
    public CleanupStep? NextStep(int writesInFlight)
    {
        if (_phase != Phase.Deleting || _stepRunning || !_stepDue || writesInFlight > 0) return null;
        if (!_steps.TryDequeue(out var step))
        {
            _phase = Phase.Idle;
            _stepDue = false;
            // The writes let through between the deletes may have made the next snapshot due.
            if (IsDue) SnapshotDue = true;
            return CleanupStep.Done;
        }
        _stepRunning = true;
        return step;
    }

    /// <summary>
    /// The running step ended (successfully or not). When <paramref name="writesWaiting"/>, one write goes first and
    /// the next step is due when it is done; otherwise at once.
    /// </summary>
    public void StepEnded(bool writesWaiting)
    {
        _stepRunning = false;
        _stepDue = !writesWaiting;
    }

    /// <summary>Messages an event carries, as the replay-fraction rule counts them.</summary>
    public static int MessagesIn(IQueueEvent evt) => evt switch
    {
        MessagesEnqueued e => e.Messages.Length,
        MessagesAcked a => a.Acks.Length,
        DeadLettersRedrivenEvent r => r.Ids.Length,
        DeadLettersPurgedEvent p => p.Ids.Length,
        _ => 1,
    };
}

/// <summary>
/// One delete of a compaction's cleanup: the events (or, when <paramref name="Snapshots"/>, the snapshots) up to
/// <paramref name="ToSequenceNr"/>.
/// </summary>
internal sealed record CleanupStep(long ToSequenceNr, bool Snapshots)
{
    /// <summary>The cleanup is over.</summary>
    public static readonly CleanupStep Done = new(0, Snapshots: false);
}

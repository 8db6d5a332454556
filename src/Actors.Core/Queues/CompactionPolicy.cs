using static Actors.Protocol.QueueEvents;

namespace Actors.Queues;

/// <summary>
/// When the queue snapshots and what it deletes afterwards. A snapshot is due once at least
/// <c>SnapshotEvery</c> events were written since the last one and they carry at least
/// 1/<see cref="QueueActor.SnapshotReplayFraction"/> of the messages the queue holds: recovery then replays no more than
/// that fraction of a state, and snapshot work stays constant per message however deep the backlog grows.
/// <para>Nothing is deleted before the snapshot store confirms the new snapshot, and the two newest snapshots are
/// kept, each with every event it needs: after a snapshot is saved, the events the previous one covers are deleted
/// (except those still holding a payload either refers to: the watermarks), then the snapshots older than the
/// previous one. So if the newest snapshot cannot be read back, deleting its row lets the queue recover completely
/// from the previous one and the events after it.</para>
/// Writes wait from the moment a snapshot is due until the deletes end
/// (<see cref="HoldsWrites"/>): on SQLite they all need the one write lock, and a writer that finds it taken sleeps
/// 150 ms before it tries again.
/// </summary>
internal sealed class CompactionPolicy
{
    private readonly int _snapshotEvery;
    private int _eventsSinceSnapshot;
    private long _messagesSinceSnapshot;
    private long _watermark;
    private (long SequenceNr, long Watermark)? _previous;
    private long? _olderSnapshotsTo;
    private Phase _phase;

    /// <summary>A policy that snapshots after at least <paramref name="snapshotEvery"/> events.</summary>
    public CompactionPolicy(int snapshotEvery) => _snapshotEvery = snapshotEvery;

    private enum Phase { Idle, Saving, Deleting }

    /// <summary>A snapshot is due and starts once no write is in flight.</summary>
    public bool SnapshotDue { get; private set; }

    /// <summary>A snapshot is being saved, or the events and snapshots it covers are being deleted.</summary>
    public bool InProgress => _phase != Phase.Idle;

    /// <summary>No write may start: a snapshot is due, being saved, or being cleaned up after.</summary>
    public bool HoldsWrites => SnapshotDue || _phase != Phase.Idle;

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
        if (_eventsSinceSnapshot >= _snapshotEvery && _messagesSinceSnapshot * QueueActor.SnapshotReplayFraction >= stateSize && _phase != Phase.Saving)
            SnapshotDue = true;
    }

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
    /// The snapshot at <paramref name="sequenceNr"/> was saved (the store confirmed it); the deletes begin, and it becomes
    /// the previous snapshot of the next one. Returns the sequence number to delete events up to: those the previous
    /// snapshot covers and neither snapshot's payloads need. Null when there is nothing new to delete (go on with
    /// <see cref="TakeOlderSnapshots"/>), as after the first snapshot of a queue that recovered from none.
    /// </summary>
    public long? SnapshotSaved(long sequenceNr)
    {
        _phase = Phase.Deleting;
        var previous = _previous;
        _previous = (sequenceNr, _watermark);
        if (previous is not { } kept) return null;
        _olderSnapshotsTo = kept.SequenceNr - 1;
        var deleteTo = Math.Min(kept.SequenceNr, Math.Min(kept.Watermark, _watermark) - 1);
        if (deleteTo <= DeletedTo) return null;
        DeletedTo = deleteTo;
        return deleteTo;
    }

    /// <summary>
    /// The highest sequence number of the snapshots to delete now, those older than the previous one (once per saved
    /// snapshot); null when none are left to delete.
    /// </summary>
    public long? TakeOlderSnapshots()
    {
        var to = _olderSnapshotsTo;
        _olderSnapshotsTo = null;
        return to;
    }

    /// <summary>The deletes ended (successfully or not); writes may start again.</summary>
    public void CleanupEnded() => _phase = Phase.Idle;

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

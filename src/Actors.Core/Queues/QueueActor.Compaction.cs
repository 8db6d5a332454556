using Actors.State;
using Akka.Event;
using Akka.Persistence;

namespace Actors.Queues;

/// <summary>
/// Compaction: the snapshot that is due, then deleting the events and snapshots it makes redundant (see
/// <see cref="CompactionPolicy"/>).
/// </summary>
internal sealed partial class QueueActor
{
    /// <summary>Saves the snapshot that is due once no write is in flight (writes wait for it meanwhile) and enters <see cref="Compacting"/>.</summary>
    private void StartSnapshotIfDue()
    {
        if (!_compaction.CanStartSnapshot(_writer.WritesInFlight)) return;
        // No write is in flight here, so the snapshot covers exactly the events up to LastSequenceNr.
        var snapshot = _state.ToSnapshot();
        // Events below the oldest one that still holds a payload the snapshot refers to must stay.
        _compaction.SnapshotStarted(QueueState.PayloadLowWatermark(snapshot, ifNone: LastSequenceNr + 1));
        // Archive events written from here on are above every one the snapshot refers to, so they stay.
        _archiveTrimTo = QueueState.ArchiveLowWatermark(snapshot, ifNone: _archivedTo + 1) - 1;
        SaveSnapshot(snapshot);
        // A draining queue stays in Draining, which handles the compaction's replies as well.
        if (!_pool.Retired) Become(Compacting);
    }

    /// <summary>
    /// The replies to a compaction's snapshot save and deletes. Recovery starts from the newest snapshot; the previous
    /// one and the events after it are kept as a complete fallback, so only what is older than the previous snapshot
    /// is disk space (except events that still hold a payload a snapshot refers to). It is deleted once the new
    /// snapshot is confirmed saved, while writes stay paused: a delete holds the journal's write lock
    /// for time proportional to the rows, so small regular deletes hold each producer up least (SQLite: ~15 ms for
    /// 1,000 events). <paramref name="ended"/> runs when the compaction is over, before writes resume.
    /// </summary>
    private void CompactionReplies(Action ended)
    {
        Command<SaveSnapshotSuccess>(saved =>
        {
            TrimArchive();
            if (_compaction.SnapshotSaved(saved.Metadata.SequenceNr) is { } deleteTo) DeleteMessages(deleteTo);
            else DeleteOlderSnapshots(ended);
        });
        Command<SaveSnapshotFailure>(f =>
        {
            _archiveTrimTo = 0;
            _compaction.SnapshotFailed();
            _log.Warning(f.Cause, "Queue {0}: snapshot failed; recovery replays more events until the next one succeeds", _queueId);
            ended();
            Flush();
        });
        Command<DeleteMessagesSuccess>(_ => DeleteOlderSnapshots(ended));
        Command<DeleteMessagesFailure>(f =>
        {
            _log.Warning(f.Cause, "Queue {0}: could not delete events covered by a snapshot", _queueId);
            DeleteOlderSnapshots(ended);
        });
        Command<DeleteSnapshotsSuccess>(_ => EndCleanup(ended));
        Command<DeleteSnapshotsFailure>(f =>
        {
            _log.Warning(f.Cause, "Queue {0}: could not delete old snapshots", _queueId);
            EndCleanup(ended);
        });
    }

    private void DeleteOlderSnapshots(Action ended)
    {
        if (_compaction.TakeOlderSnapshots() is { } to) DeleteSnapshots(new SnapshotSelectionCriteria(to));
        else EndCleanup(ended);
    }

    private void EndCleanup(Action ended)
    {
        _compaction.CleanupEnded();
        ended();
        Flush();
    }
}

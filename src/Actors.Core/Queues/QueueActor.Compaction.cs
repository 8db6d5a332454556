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
    private Action _compactionEnded = static () => { };

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
    /// snapshot is confirmed saved, in slices with writes between them (see <see cref="CompactionPolicy"/>): a delete
    /// holds the journal's write lock for time proportional to the rows (SQLite: ~15 ms for 1,000 events), so small
    /// deletes hold each producer up least. <paramref name="ended"/> runs when the compaction is over.
    /// </summary>
    private void CompactionReplies(Action ended)
    {
        _compactionEnded = ended;
        Command<SaveSnapshotSuccess>(saved =>
        {
            TrimArchive();
            _compaction.SnapshotSaved(saved.Metadata.SequenceNr);
            ContinueCleanup();
        });
        Command<SaveSnapshotFailure>(f =>
        {
            _archiveTrimTo = 0;
            _compaction.SnapshotFailed();
            _log.Warning(f.Cause, "Queue {0}: snapshot failed; recovery replays more events until the next one succeeds", _queueId);
            ended();
            Flush();
        });
        Command<DeleteMessagesSuccess>(_ => EndCleanupStep());
        Command<DeleteMessagesFailure>(f =>
        {
            _log.Warning(f.Cause, "Queue {0}: could not delete events covered by a snapshot", _queueId);
            EndCleanupStep();
        });
        Command<DeleteSnapshotsSuccess>(_ => EndCleanupStep());
        Command<DeleteSnapshotsFailure>(f =>
        {
            _log.Warning(f.Cause, "Queue {0}: could not delete old snapshots", _queueId);
            EndCleanupStep();
        });
    }

    /// <summary>Starts the compaction's next delete if one may start now, or ends the compaction after the last.</summary>
    private void ContinueCleanup()
    {
        switch (_compaction.NextStep(_writer.WritesInFlight))
        {
            case null:
                return;
            case { } step when ReferenceEquals(step, CleanupStep.Done):
                _compactionEnded();
                StartSnapshotIfDue();
                Flush();
                return;
            case { Snapshots: true } step:
                DeleteSnapshots(new SnapshotSelectionCriteria(step.ToSequenceNr));
                return;
            case { } step:
                DeleteMessages(step.ToSequenceNr);
                return;
        }
    }

    /// <summary>A delete ended: what was buffered meanwhile is written before the next one.</summary>
    private void EndCleanupStep()
    {
        _compaction.StepEnded(writesWaiting: _writer.HasBuffered);
        Flush();
        ContinueCleanup();
    }
}

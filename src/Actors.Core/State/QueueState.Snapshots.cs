using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Protocol;

namespace Actors.State;

/// <summary>The snapshot of the durable state, and the state rebuilt from one.</summary>
internal sealed partial class QueueState
{
    /// <summary>
    /// The durable state. A payload the journal (or the archive) also holds is not copied into it, only the event's
    /// sequence number; payloads and results that live only in memory are.
    /// </summary>
    public QueueSnapshot ToSnapshot()
    {
        var messages = ImmutableArray.CreateBuilder<SnapshotMessage>(_live.Count + _dead.Count);
        foreach (var m in _live.Values.Concat(_dead.Values).OrderBy(m => m.Id))
        {
            var stage = m.Stage switch
            {
                Stage.Scheduled => SnapshotStage.Scheduled,
                Stage.DeadLettered => m.Parked ? SnapshotStage.Parked : SnapshotStage.DeadLettered,
                _ => SnapshotStage.Ready,
            };
            var archiveSeq = m.SequenceNr == 0 ? m.ArchiveSeq : 0;
            messages.Add(new SnapshotMessage(m.Id, m.Type, m.SequenceNr == 0 && archiveSeq == 0 ? m.Payload : default, m.Headers, m.EnqueuedAt, m.FailedAttempts, m.Errors,
                stage, stage == SnapshotStage.Scheduled ? m.DueAt : default, m.DeadLetterReason, m.FinishedAt, m.SequenceNr,
                stage is SnapshotStage.DeadLettered or SnapshotStage.Parked ? null : m.ExpiresAt, archiveSeq, m.PayloadLength));
        }
        var finished = _finished.Where(f => _finishedById.TryGetValue(f.Id, out var current) && ReferenceEquals(current, f))
            .Select(f => new SnapshotSucceeded(f.Id, f.Type, f.Attempts, f.EnqueuedAt, f.FinishedAt, f.Result, f.Status, f.ArchiveSeq, f.TraceParent)).ToImmutableArray();
        return WithFollowUps(new QueueSnapshot(LastId, new QueueTotals(TotalEnqueued, TotalSucceeded, TotalFailedAttempts, TotalDeadLettered, TotalDiscarded, TotalExpired, TotalCancelled),
            messages.MoveToImmutable(), finished, _keys.ToArray()) { Pause = Pause });
    }

    public static QueueState FromSnapshot(string queueId, QueueOptions options, QueueSnapshot snapshot)
    {
        var state = new QueueState(queueId, options)
        {
            LastId = snapshot.LastId,
            TotalEnqueued = snapshot.Totals.Enqueued,
            TotalSucceeded = snapshot.Totals.Succeeded,
            TotalFailedAttempts = snapshot.Totals.FailedAttempts,
            TotalDeadLettered = snapshot.Totals.DeadLettered,
            TotalDiscarded = snapshot.Totals.Discarded,
            TotalExpired = snapshot.Totals.Expired,
            TotalCancelled = snapshot.Totals.Cancelled,
            Pause = snapshot.Pause,
        };
        foreach (var s in snapshot.Messages)
        {
            // Payloads the journal holds are read back when they are needed.
            var inSnapshot = s.SequenceNr == 0 && s.ArchiveSeq == 0;
            var m = new StoredMessage(s.Id, s.Type, s.Payload, s.Headers, s.EnqueuedAt, s.SequenceNr, hasPayload: inSnapshot,
                payloadLength: inSnapshot ? s.Payload.Length : s.PayloadLength)
            {
                FailedAttempts = s.FailedAttempts,
                Errors = s.Errors.Count == 0 ? s.Errors : s.Errors.ConvertAll(state._strings.Share),
                DeadLetterReason = s.DeadLetterReason,
                FinishedAt = s.FinishedAt,
                ArchiveSeq = s.ArchiveSeq,
            };
            switch (s.Stage)
            {
                case SnapshotStage.DeadLettered or SnapshotStage.Parked:
                    m.Stage = Stage.DeadLettered;
                    state._dead[m.Id] = m;
                    if (s.Stage == SnapshotStage.Parked && m.Key is not null)
                    {
                        m.Parked = true;
                        state._order.JoinLane(m);
                        state.ParkedKeys++;
                    }
                    state._groups.Add(m);
                    if (m.SequenceNr != 0) state.DeadWithoutPayload++;
                    if (m.HasPayload)
                    {
                        state.RetainedBytes += m.PayloadLength;
                        state.AddArchiveCandidate(m.Id, false);
                    }
                    break;
                case SnapshotStage.Scheduled:
                    state.Hold(m);
                    state._order.JoinLane(m);
                    state.TrackExpiry(m, s.ExpiresAt);
                    state._order.EnterScheduled(m, s.DueAt);
                    break;
                default:
                    // In id order, like new arrivals; one whose payload is stored in the snapshot joins the returns,
                    // so the arrivals' queues keep their order.
                    // One whose payload is archived (a redriven dead letter) is read back from there as a return.
                    state.Hold(m);
                    state._order.JoinLane(m);
                    state.TrackExpiry(m, s.ExpiresAt);
                    state._order.EnterReady(m, arriving: m.SequenceNr != 0);
                    break;
            }
        }
        foreach (var s in snapshot.Succeeded)
            state.Retain(new FinishedMessage(s.Id, s.Type, s.Status, s.Attempts, s.EnqueuedAt, s.CompletedAt, s.Result, s.ArchiveSeq, s.TraceParent));
        if (!snapshot.IdempotencyKeys.IsDefault)
            foreach (var record in snapshot.IdempotencyKeys) state._keys.Add(record);
        state.RestoreFollowUps(snapshot);
        return state;
    }
}

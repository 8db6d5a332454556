using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Protocol;
using static Actors.Protocol.QueueEvents;

namespace Actors.State;

/// <summary>The per-key part of a queue's state: parked keys and the operator's answers to them.</summary>
internal sealed partial class QueueState
{
    /// <summary>Keys parked behind a dead letter.</summary>
    public int ParkedKeys { get; private set; }

    /// <summary>Ordering keys with at least one held message.</summary>
    public int ActiveKeys => _order.Lanes.Count;

    /// <summary>When the oldest message waiting behind another of its key (or behind its parked key) was enqueued.</summary>
    public DateTime? OldestBlockedEnqueuedAt => _order.Lanes.OldestBlockedEnqueuedAt();

    /// <summary>The held messages of <paramref name="key"/> that have not reached a final state (and its parked one), in id order.</summary>
    public IReadOnlyList<StoredMessage> LaneOf(string key) => _order.Lanes.MessagesOf(key);

    private bool ParksOnDeadLetter(StoredMessage message) => message.Key is not null && Options.KeyFailure == KeyFailureAction.Park;

    /// <summary>The parked dead letter that blocks <paramref name="key"/>, if the key is parked.</summary>
    public StoredMessage? ParkedMessageOf(string key) =>
        _order.Lanes.MessagesOf(key) is [{ Parked: true } parked, ..] ? parked : null;

    /// <summary>
    /// What purging a parked key removes: the parked dead letter and every message of the key waiting behind it
    /// (ready or scheduled); empty when the key is not parked.
    /// </summary>
    public ImmutableArray<long> PurgeSelection(string key)
    {
        var lane = _order.Lanes.MessagesOf(key);
        if (lane is not [{ Parked: true }, ..]) return ImmutableArray<long>.Empty;
        return lane.Where(m => m.Parked || m.Stage is Stage.Ready or Stage.Scheduled).Select(m => m.Id).ToImmutableArray();
    }

    /// <summary>The dead letter stays first in its lane and stops running: nothing of its key starts.</summary>
    private void ParkKey(StoredMessage message)
    {
        ParkedKeys++;
        _order.StopRunning(message);
    }

    private void Unpark(StoredMessage message)
    {
        message.Parked = false;
        ParkedKeys--;
    }

    private void ApplySkip(ParkedMessageSkipped e)
    {
        if (!_dead.TryGetValue(e.Id, out var skipped) || !skipped.Parked) return;
        Unpark(skipped);
        _order.LeaveLane(skipped);
        OweFollowUp(skipped, FollowUpKind.OnFailure, null);
    }

    private void ApplyKeyPurge(KeyPurged e)
    {
        foreach (var id in e.Ids)
        {
            if (_dead.Remove(id, out var parked))
            {
                Unbury(parked);
                parked.Stage = Stage.Gone;
                if (parked.Parked) Unpark(parked);
                _order.LeaveLane(parked);
                continue;
            }
            if (!TakeLive(id, out var waiting)) continue;
            Forget(waiting);
            TotalCancelled++;
            Retain(new FinishedMessage(waiting.Id, waiting.Type, MessageStatus.Cancelled, waiting.FailedAttempts, waiting.EnqueuedAt, e.At, null, traceParent: waiting.TraceParent));
        }
    }
}

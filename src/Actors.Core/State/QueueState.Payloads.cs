using Actors.Protocol;
using static Actors.Protocol.QueueEvents;

namespace Actors.State;

/// <summary>
/// Payloads kept in the journal: which event to read next, attaching what comes back, and giving up on an event the
/// journal lost.
/// </summary>
internal sealed partial class QueueState
{
    /// <summary>
    /// The journal sequence number to read payloads from next, or null when none are needed now: the oldest waiting
    /// message that came back without its payload, else the oldest new one once the payloads in memory fall under
    /// half the budget or none of them can go first (a read for a returned message may have given payloads to
    /// messages behind the oldest), else a dead letter whose payload should move into memory.
    /// </summary>
    public long? PayloadsWanted
    {
        get
        {
            if (_order.PayloadWanted(Options.PayloadMemoryBytes) is { } wanted) return wanted;
            if (DeadWithoutPayload > 0)
                foreach (var dead in _dead.Values)
                    if (!dead.HasPayload && dead.SequenceNr != 0) return dead.SequenceNr;
            return null;
        }
    }

    /// <summary>
    /// Gives the messages of an enqueue event read back from the journal their payloads, where they are still held
    /// without one. Returns how many got theirs.
    /// </summary>
    public int AttachPayloads(long sequenceNr, MessagesEnqueued stored)
    {
        var attached = 0;
        foreach (var m in stored.Messages)
        {
            if (!_live.TryGetValue(m.Id, out var message) && !_dead.TryGetValue(m.Id, out message)) continue;
            if (message.HasPayload || message.SequenceNr != sequenceNr || message.Stage is not (Stage.Ready or Stage.DeadLettered)) continue;
            message.AttachPayload(m.Payload);
            attached++;
            if (message.Stage == Stage.DeadLettered)
            {
                DeadWithoutPayload--;
                Pin(message);
                continue;
            }
            _order.PayloadAttached(message);
        }
        _order.Trim();
        return attached;
    }

    /// <summary>The dead-letter reason of a message whose payload the journal no longer has.</summary>
    public const string PayloadMissingReason = "payload-missing";

    /// <summary>
    /// The journal does not have event <paramref name="sequenceNr"/> any more (see <see cref="Queues.PayloadReader"/>),
    /// so the payloads of the messages waiting on it cannot come back: returns a <see cref="DeadLettered"/> decision
    /// with reason <see cref="PayloadMissingReason"/> for each, for the caller to write. Ready ones leave the dispatch
    /// order meanwhile, so the queue moves on (a rejected write puts them back with <see cref="ReturnToReady"/>); dead
    /// letters among them are marked too, so nothing wants that event again.
    /// </summary>
    public List<DeadLettered> GiveUpPayloads(long sequenceNr, DateTime now)
    {
        var error = new ErrorInfo("PayloadMissing",
            $"The journal no longer has event {sequenceNr} of queue '{QueueId}', which held this message's payload.", null, null, now);
        var decisions = new List<DeadLettered>();
        foreach (var message in _live.Values)
        {
            if (message.Stage != Stage.Ready || message.HasPayload || message.SequenceNr != sequenceNr) continue;
            LeaveStage(message);
            message.Stage = Stage.Ending;
            decisions.Add(new DeadLettered(message.Id, message.FailedAttempts, error, PayloadMissingReason));
        }
        foreach (var message in _dead.Values)
            if (!message.HasPayload && message.SequenceNr == sequenceNr)
                decisions.Add(new DeadLettered(message.Id, message.FailedAttempts, error, PayloadMissingReason));
        decisions.Sort((a, b) => a.Id.CompareTo(b.Id));
        return decisions;
    }

    /// <summary>
    /// The lowest journal sequence number whose event still holds the payload of a held message that memory does not
    /// own, or <paramref name="ifNone"/>: the journal may delete the events below it.
    /// </summary>
    public static long PayloadLowWatermark(QueueSnapshot snapshot, long ifNone)
    {
        var low = ifNone;
        foreach (var m in snapshot.Messages)
            if (m.SequenceNr != 0 && m.SequenceNr < low) low = m.SequenceNr;
        return low;
    }
}

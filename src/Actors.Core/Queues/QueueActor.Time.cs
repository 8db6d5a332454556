using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Protocol;
using Akka.Actor;
using Akka.Event;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueEvents;
using static Actors.Protocol.WorkerProtocol;

namespace Actors.Queues;

/// <summary>
/// Time: the due timer that makes scheduled messages ready, expiry of messages not started in time, cancellation,
/// and the periodic tick (pruning, waiters' deadlines, leases that ran out).
/// </summary>
internal sealed partial class QueueActor
{
    /// <summary>
    /// Keeps one timer at the earliest due time (delayed messages and retries), so a message starts as soon as it is
    /// due rather than at the next tick; the tick promotes due messages too, as a fallback.
    /// </summary>
    private void ArmDueTimer()
    {
        if (_state.NextDueAt is not { } due || (_dueTimerAt is { } armed && armed <= due)) return;
        var delay = due - Now;
        _dueTimerAt = due;
        Timers.StartSingleTimer("due", DueTick.Instance, delay <= TimeSpan.Zero ? TimeSpan.Zero : delay < LongestDueTimer ? delay : LongestDueTimer);
    }

    private void OnDue()
    {
        _dueTimerAt = null;
        PromoteDue();
        ArmDueTimer();
    }

    /// <summary>
    /// Makes due messages ready, at most <see cref="PromotionsPerTurn"/> at a time: when more are due, the rest follow
    /// after the commands already in the mailbox, so a burst due at once never stalls intake.
    /// </summary>
    private void PromoteDue()
    {
        if (_state.PromoteDue(Now, PromotionsPerTurn) == PromotionsPerTurn) Self.Tell(DueTick.Instance);
        Dispatch();
    }

    /// <summary>Writes the expiry of messages that were not started before they expired (found on the way to a worker, or by their expiry time).</summary>
    private void ExpireDue(DateTime now)
    {
        var ending = _state.TakeExpired(now);
        if (ending.Count == 0) return;
        var deadLetter = _options.ExpiredAction == ExpiredMessageAction.DeadLetter;
        _log.Info("Queue {0}: {1} message(s) expired before they started; {2}", _queueId, ending.Count, deadLetter ? "dead-lettered" : "dropped");
        _writer.BufferDecision(new MessagesExpired(ending.Select(m => m.Id).ToImmutableArray(), now, deadLetter));
        Flush();
    }

    /// <summary>
    /// Cancels a message: it leaves the dispatch order (or its worker's slot, whose handler's token is fired) at once,
    /// and the requester hears the outcome once the cancellation is stored.
    /// </summary>
    private void OnCancel(CancelMessage command)
    {
        var outcome = _state.BeginCancel(command.MessageId, out var previous, out var slot, out var attempt);
        if (outcome != CancelOutcome.Cancelled)
        {
            Sender.Tell(new CancelResult(_queueId, command.MessageId, outcome, previous, command.CorrelationId));
            return;
        }
        if (slot >= 0)
        {
            _pool.Release(slot);
            _pool.HolderOf(slot)?.Tell(new CancelDelivery(_queueId, command.MessageId, attempt));
        }
        var replyTo = Sender;
        _writer.BufferDecision(new MessageCancelled(command.MessageId, Now),
            onCommitted: () => replyTo.Tell(new CancelResult(_queueId, command.MessageId, CancelOutcome.Cancelled, previous, command.CorrelationId)),
            onRejected: () => replyTo.Tell(new CancelResult(_queueId, command.MessageId, CancelOutcome.JournalUnavailable, previous, command.CorrelationId)));
        Flush();
        Dispatch();
    }

    private void OnTick()
    {
        var now = Now;
        _state.PruneIdempotencyKeys(now);
        _state.PruneFinished(now);
        ArchiveRetained();
        _state.PromoteDue(now, PromotionsPerTurn);
        ArmDueTimer();
        AnswerExpiredWaiters(now);
        OnFollowUpTick(now);
        foreach (var expired in _state.ExpiredLeases(now))
        {
            var slot = expired.WorkerSlot;
            if (!_state.TryBeginFailure(expired.Id, expired.Attempt, out var message)) continue;
            RecordRedelivery();
            _pool.Release(slot);
            var holder = _pool.HolderOf(slot);
            holder?.Tell(new LeaseExpired(_queueId, message.Id, message.Attempt));
            var error = new ErrorInfo("LeaseExpired", $"The delivery was not completed within its lease of {_options.Lease}.", null, holder?.Path.ToString(), now);
            Decide(message, error, RequestedFailureAction.FollowPolicy, null);
            AbandonWorker(slot);
        }
        Dispatch();
        PublishGauges();
    }
}

using Actors.Monitoring;
using Actors.Protocol;
using Akka.Actor;
using static Actors.Protocol.OutcomeWaits;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueEvents;
using static Actors.Protocol.QueueQueries;

namespace Actors.Queues;

/// <summary>
/// The queue's side of <see cref="WaitForOutcome"/>: a caller is answered with the message as a status query would
/// answer it, at once when the message is final or unknown, else from the commit callback of the event that makes it
/// final, or at its deadline (swept on the tick) with the status then. No polling: the <see cref="OutcomeWaiters"/>
/// registry holds the callers.
/// </summary>
internal sealed partial class QueueActor
{
    private void OnWaitForOutcome(WaitForOutcome wait)
    {
        var info = _state.Describe(wait.MessageId);
        if (info is null)
        {
            Sender.Tell(new MessageNotFound(_queueId, wait.MessageId));
            return;
        }
        if (IsFinal(info.Status) || wait.Timeout <= TimeSpan.Zero)
        {
            AnswerMessage(wait.MessageId, Sender);
            return;
        }
        var timeout = wait.Timeout < OutcomeWaiters.LongestWait ? wait.Timeout : OutcomeWaiters.LongestWait;
        if (!_waiters.TryAdd(wait.MessageId, wait.CorrelationId, Sender, Now + timeout))
            Sender.Tell(new Rejected(_queueId, RejectionCode.TooManyWaiters,
                $"Queue '{_queueId}' already has {_options.MaxWaiters} callers waiting for outcomes (MaxWaiters); wait again shortly or read the status.", wait.CorrelationId));
    }

    /// <summary>Answers the waiters of the messages a just-stored event finished.</summary>
    private void NotifyWaiters(IQueueEvent evt)
    {
        if (_waiters.Count == 0) return;
        foreach (var id in OutcomeWaiters.FinishedBy(evt))
        {
            if (!_waiters.IsWaitedFor(id) || _state.Describe(id) is not { } info || !IsFinal(info.Status)) continue;
            foreach (var waiter in _waiters.Take(id)) AnswerMessage(id, waiter.ReplyTo);
        }
    }

    /// <summary>Answers the waiters whose time ran out with the message's status now.</summary>
    private void AnswerExpiredWaiters(DateTime now)
    {
        foreach (var waiter in _waiters.TakeExpired(now)) AnswerMessage(waiter.MessageId, waiter.ReplyTo);
    }

    /// <summary>A stopping queue (restart, hand-over, shutdown) tells its waiters to wait again, at its next incarnation.</summary>
    private void ReleaseWaiters()
    {
        foreach (var waiter in _waiters.TakeAll())
            waiter.ReplyTo.Tell(new QueueUnavailable(_queueId, $"Queue '{_queueId}' stopped while message {waiter.MessageId} was awaited; wait again."));
    }

    protected override void PostStop()
    {
        ReleaseWaiters();
        QueueGauges.Withdraw(Self);
        base.PostStop();
    }
}

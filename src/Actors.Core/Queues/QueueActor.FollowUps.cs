using Actors.Protocol;
using Akka.Actor;
using Akka.Event;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueEvents;
using static Actors.Protocol.WorkerProtocol;

namespace Actors.Queues;

/// <summary>
/// The queue's side of continuations (see <see cref="Continuation"/>): the state owes a follow-up once a message's
/// outcome is stored; the queue sends it to its target through the node's queue manager, the same path a producer
/// takes, with the idempotency key <c>{queue}:{id}:then</c> (or <c>:onFailure</c>), and stores
/// <see cref="FollowUpsSent"/> once the target answers. A crash in between sends it again after recovery and the
/// target's de-duplication answers with the first id, so the follow-up is neither lost nor doubled. A refusal that may
/// pass, or no answer, pauses sending with a backoff (<see cref="FollowUpOutbox"/>); a refusal for good (the target no
/// longer exists, or refuses the message) is stored with its reason, which the message's status shows.
/// <para>Also here: <see cref="Configuration.QueueOptions.MaxResultBytes"/>, which turns a completion with a larger
/// result into a dead letter.</para>
/// </summary>
internal sealed partial class QueueActor
{
    private readonly FollowUpOutbox _outbox = new();
    private ActorSelection? _followUpTargets;

    /// <summary>Where follow-ups are sent: the node's queue manager, which routes them like any producer's.</summary>
    private ActorSelection FollowUpTargets => _followUpTargets ??= Context.ActorSelection($"/user/{DurableQueues.ManagerName}");

    private void FollowUpCommands()
    {
        Command<Accepted>(OnFollowUpAccepted);
        Command<Rejected>(OnFollowUpRejected);
    }

    /// <summary>Sends the follow-ups that are due (after a commit, and on every tick, which also times out unanswered ones).</summary>
    private void SendFollowUps(DateTime now)
    {
        if (_state.PendingFollowUpCount == 0) return;
        foreach (var (followUp, correlation) in _outbox.TakeDue(_state.PendingFollowUps, now))
        {
            var key = Continuation.IdempotencyKey(_queueId, followUp.Id, followUp.Kind);
            FollowUpTargets.Tell(new Enqueue(followUp.Queue, followUp.Type, followUp.Payload, followUp.Headers.Count == 0 ? null : followUp.Headers, correlation, key), Self);
        }
    }

    private void OnFollowUpTick(DateTime now)
    {
        if (_outbox.TimeOut(now) > 0)
            _log.Warning("Queue {0}: a follow-up's target did not answer within {1}; sending again in {2}", _queueId, FollowUpOutbox.RequestTimeout, _outbox.Pause(now));
        SendFollowUps(now);
    }

    private void OnFollowUpAccepted(Accepted accepted)
    {
        if (!_outbox.Accepted(accepted.CorrelationId, out var key)) return;
        Record(key, accepted.MessageId, null);
    }

    private void OnFollowUpRejected(Rejected rejected)
    {
        if (!_outbox.Refused(rejected.CorrelationId, out var key)) return;
        if (MayPass(rejected.Code))
        {
            var pause = _outbox.Pause(Now);
            if (_outbox.Failures == 1 || _outbox.Failures % 10 == 0)
                _log.Warning("Queue {0}: queue {1} refused the follow-up of message {2} for now ({3}: {4}); sending again in {5}",
                    _queueId, rejected.QueueId, key.Id, rejected.Code, rejected.Reason, pause);
            return;
        }
        _log.Error("Queue {0}: queue {1} refused the follow-up of message {2} for good ({3}: {4}); it is recorded as refused",
            _queueId, rejected.QueueId, key.Id, rejected.Code, rejected.Reason);
        Record(key, 0, $"{rejected.Code}: {rejected.Reason}");
    }

    /// <summary>Stores that the follow-up of <paramref name="key"/> left (or was refused for good); a rejected write sends it again.</summary>
    private void Record((long Id, FollowUpKind Kind) key, long followUpId, string? error)
    {
        if (_state.FindPendingFollowUp(key.Id, key.Kind) is not { } pending)
        {
            _outbox.RecordingEnded(key);
            return;
        }
        _writer.BufferDecision(new FollowUpsSent([new SentFollowUp(key.Id, key.Kind, pending.Queue, followUpId, error)]),
            onCommitted: () => _outbox.RecordingEnded(key),
            onRejected: () => _outbox.RecordingEnded(key));
        Flush();
    }

    /// <summary>Refusals that may pass: the target is full, busy, restarting or shutting down.</summary>
    private static bool MayPass(RejectionCode code) => code is RejectionCode.QueueFull or RejectionCode.JournalUnavailable or RejectionCode.ShuttingDown
        or RejectionCode.IdempotencyKeyInProgress or RejectionCode.TooManyWaiters;

    /// <summary>
    /// A completion whose result is larger than <see cref="Configuration.QueueOptions.MaxResultBytes"/> is a failure that
    /// dead-letters at once; true when <paramref name="completed"/> was one (and was handled here).
    /// </summary>
    private bool ResultTooLarge(Completed completed)
    {
        if (completed.Result is not { Length: var length } || length <= _options.MaxResultBytes) return false;
        if (!_state.TryBeginFailure(completed.MessageId, completed.Attempt, out var message)) return false;
        _pool.Release(message.WorkerSlot);
        _metrics.RecordService(completed.ServiceTime, Now);
        var error = new ErrorInfo("ResultTooLarge", $"result of {length} bytes exceeds MaxResultBytes {_options.MaxResultBytes}", null, Sender.Path.ToString(), Now);
        _log.Warning("Queue {0}: message {1} ({2}) dead-lettered: {3}", _queueId, message.Id, message.Type, error.Message);
        _writer.BufferDecision(new DeadLettered(message.Id, message.Attempt, error, $"The result was larger than MaxResultBytes ({_options.MaxResultBytes} bytes)."));
        Flush();
        Dispatch();
        return true;
    }
}

using Akka.Actor;
using Akka.Event;
using Actors.Protocol;
using static Actors.Protocol.PauseCommands;
using static Actors.Protocol.QueueQueries;

namespace Actors.Queues;

/// <summary>The operator's pause and resume of the queue, and the look-up of a message by its idempotency key.</summary>
internal sealed partial class QueueActor
{
    private void OnPause(Pause command)
    {
        if (_state.DecidePause(command.RequestedBy, command.Reason, Now) is not { } paused)
        {
            Sender.Tell(new PauseState(_queueId, _state.Pause));
            return;
        }
        _log.Info("Queue {0} paused by {1}: {2}", _queueId, command.RequestedBy ?? "(unnamed)", command.Reason ?? "(no reason)");
        StorePauseChange(paused, Sender);
    }

    private void OnResume(Resume command)
    {
        if (_state.DecideResume(command.RequestedBy, Now) is not { } resumed)
        {
            Sender.Tell(new PauseState(_queueId, _state.Pause));
            return;
        }
        _log.Info("Queue {0} resumed by {1}", _queueId, command.RequestedBy ?? "(unnamed)");
        StorePauseChange(resumed, Sender);
    }

    /// <summary>Writes a pause or resume and answers with the state once it is applied; a resume dispatches at once (see <see cref="ApplyCommitted"/>).</summary>
    private void StorePauseChange(QueueEvents.IQueueEvent change, IActorRef replyTo)
    {
        _writer.BufferDecision(change,
            onCommitted: () => replyTo.Tell(new PauseState(_queueId, _state.Pause)),
            onRejected: () => replyTo.Tell(new QueueUnavailable(_queueId, $"Queue '{_queueId}' could not store the change; nothing changed.")));
        Flush();
    }

    private void OnFindByIdempotencyKey(FindByIdempotencyKey query) =>
        Sender.Tell(_state.FindIdempotencyKey(query.Key, Now) is { } record
            ? new IdempotencyKeyFound(_queueId, query.Key, record.MessageId, record.AcceptedAt, _state.Describe(record.MessageId))
            : new IdempotencyKeyNotFound(_queueId, query.Key));
}

using Akka.Actor;
using Akka.Event;
using Actors.Protocol;
using static Actors.Protocol.QueueEvents;
using static Actors.Protocol.QueueQueries;

namespace Actors.Queues;

/// <summary>Emptying the queue partition: an operator's purge of what waits for delivery.</summary>
internal sealed partial class QueueActor
{
    /// <summary>
    /// Purges what waits for delivery: the messages leave the dispatch order at once (nothing of them starts while the
    /// purge is written), and the requester hears the count once the one <see cref="MessagesPurged"/> event is stored.
    /// </summary>
    private void OnPurgeQueue(QueueLifecycle.Purge command)
    {
        var ids = _state.BeginPurge();
        var replyTo = Sender;
        if (ids.IsEmpty)
        {
            replyTo.Tell(new QueueLifecycle.Purged(_queueId, 0));
            return;
        }
        _log.Info("Queue {0}: purging {1} waiting message(s)", Partitions.EntityId(_queueId, _partition), ids.Length);
        _writer.BufferDecision(new MessagesPurged(ids, Now),
            onCommitted: () => replyTo.Tell(new QueueLifecycle.Purged(_queueId, ids.Length)),
            onRejected: () => replyTo.Tell(new QueueUnavailable(_queueId, $"Queue '{_queueId}' could not store the purge; nothing was purged. Retry it.")));
        Flush();
        Dispatch();
    }
}

using Actors.Protocol;
using Akka.Actor;
using Akka.Event;
using static Actors.Protocol.ConsumerProtocol;

namespace Actors.Queues;

/// <summary>
/// Attached consumers (see <see cref="ConsumerProtocol"/>): actors outside the pool that the <see cref="WorkerPool"/>
/// gives slots of their own, so dispatch, credit, leases and reports are the workers' own. What differs is how a
/// consumer goes: detached or stopped, it hands back what it held as not started (same attempt, no error, no delay),
/// and a lease that runs out on it fails that attempt but leaves the consumer attached.
/// </summary>
internal sealed partial class QueueActor
{
    private void OnAttach(Attach attach)
    {
        var prefetch = EffectivePrefetch(attach.Prefetch);
        if (_pool.Attach(attach.Consumer, prefetch))
        {
            Context.Watch(attach.Consumer);
            _log.Info("Queue {0}: consumer {1} attached (prefetch {2}; {3} attached)", _queueId, attach.Consumer.Path, prefetch, _pool.ConsumerCount);
        }
        Sender.Tell(new Attached(_queueId, _state.ReadyCount, _pool.ConsumerCount));
        Dispatch();
    }

    private void OnDetach(Detach detach)
    {
        if (_pool.TryDetach(detach.Consumer, out var slot))
        {
            Context.Unwatch(detach.Consumer);
            var handedBack = HandBack(slot);
            _log.Info("Queue {0}: consumer {1} detached; {2} deliveries handed back ({3} attached)", _queueId, detach.Consumer.Path, handedBack, _pool.ConsumerCount);
        }
        Sender.Tell(new Detached(_queueId));
        Dispatch();
    }

    /// <summary>An attached consumer stopped (or its node is gone): a detach. False when <paramref name="actor"/> is not one.</summary>
    private bool OnConsumerTerminated(IActorRef actor)
    {
        if (!_pool.TryDetach(actor, out var slot)) return false;
        var handedBack = HandBack(slot);
        _log.Info("Queue {0}: consumer {1} stopped; {2} deliveries handed back ({3} attached)", _queueId, actor.Path, handedBack, _pool.ConsumerCount);
        Dispatch();
        return true;
    }

    /// <summary>Every delivery a detached consumer's slot held goes back to the queue at once, as not started.</summary>
    private int HandBack(int slot)
    {
        var count = _state.HandBack(slot);
        for (var i = 0; i < count; i++)
        {
            _pool.Release(slot);
            RecordRedelivery();
        }
        return count;
    }

    /// <summary>
    /// Whether a worker's report about <paramref name="messageId"/> counts: for a delivery a consumer holds, only when the
    /// consumer itself sends it (see <see cref="WorkerPool.AcceptsReport"/>). Stale or unknown reports fall through to the
    /// attempt check.
    /// </summary>
    private bool FromHolder(long messageId, int attempt)
    {
        if (!_pool.HadConsumers) return true;
        var slot = _state.SlotOf(messageId, attempt);
        if (slot < 0 || _pool.AcceptsReport(slot, Sender)) return true;
        _log.Debug("Queue {0}: ignoring a report of message {1} attempt {2} from {3}, which does not hold it", _queueId, messageId, attempt, Sender.Path);
        return false;
    }
}

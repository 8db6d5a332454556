using Akka.Actor;
using Akka.Event;
using System.Collections.Immutable;
using Actors.Protocol;
using static Actors.Protocol.KeyCommands;
using static Actors.Protocol.QueueEvents;

namespace Actors.Queues;

/// <summary>The operator's answers to a parked ordering key: release, skip, purge.</summary>
internal sealed partial class QueueActor
{
    private void OnChangeKey(ChangeKey command)
    {
        var now = Now;
        IQueueEvent? change = null;
        var ids = ImmutableArray<long>.Empty;
        if (_state.ParkedMessageOf(command.Key) is { } parked)
        {
            ids = command.Operation == KeyOperation.Purge ? _state.PurgeSelection(command.Key) : [parked.Id];
            change = command.Operation switch
            {
                KeyOperation.Release => new DeadLettersRedrivenEvent(ids, now),
                KeyOperation.Skip => new ParkedMessageSkipped(parked.Id, now),
                _ => new KeyPurged(command.Key, ids, now),
            };
        }
        if (change is null)
        {
            Sender.Tell(new KeyChanged(_queueId, command.Key, command.Operation, KeyChangeOutcome.NotParked, ids, command.CorrelationId));
            return;
        }
        var replyTo = Sender;
        _log.Info("Queue {0}: key '{1}' {2} ({3} message(s))", _queueId, command.Key, command.Operation.ToString().ToLowerInvariant(), ids.Length);
        _writer.BufferDecision(change,
            onCommitted: () => replyTo.Tell(new KeyChanged(_queueId, command.Key, command.Operation, KeyChangeOutcome.Done, ids, command.CorrelationId)),
            onRejected: () => replyTo.Tell(new KeyChanged(_queueId, command.Key, command.Operation, KeyChangeOutcome.JournalUnavailable, ids, command.CorrelationId)));
        Flush();
    }
}

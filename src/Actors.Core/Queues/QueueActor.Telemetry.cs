using System.Diagnostics;
using Actors.Monitoring;
using static Actors.Protocol.QueueEvents;

namespace Actors.Queues;

/// <summary>
/// The queue's share of the <see cref="ActorsTelemetry"/> metrics: accepted messages, retries, redeliveries and dead
/// letters as their events commit, journal write duration and size as each write completes, and the gauges'
/// snapshot (<see cref="QueueGauges"/>) once per <see cref="GaugeTicks"/> ticks while a listener observes them.
/// </summary>
internal sealed partial class QueueActor
{
    /// <summary>Ticks between two gauge snapshots (one second).</summary>
    private const int GaugeTicks = 10;

    private KeyValuePair<string, object?>[]? _telemetryTags;
    private int _ticksSinceGauges;

    private ReadOnlySpan<KeyValuePair<string, object?>> TelemetryTags => _telemetryTags ??= ActorsTelemetry.QueueTags(_queueId);

    private void RecordCommitted(IQueueEvent evt)
    {
        switch (evt)
        {
            case MessagesEnqueued enqueued when ActorsTelemetry.SentMessages.Enabled:
                ActorsTelemetry.SentMessages.Add(enqueued.Messages.Length, TelemetryTags);
                break;
            case RetryScheduled when ActorsTelemetry.Retries.Enabled:
                ActorsTelemetry.Retries.Add(1, TelemetryTags);
                break;
            case DeadLettered when ActorsTelemetry.DeadLetters.Enabled:
                ActorsTelemetry.DeadLetters.Add(1, TelemetryTags);
                break;
        }
    }

    private void RecordRedelivery()
    {
        if (ActorsTelemetry.Redeliveries.Enabled) ActorsTelemetry.Redeliveries.Add(1, TelemetryTags);
    }

    private void RecordWrite(PendingWrite write)
    {
        if (ActorsTelemetry.JournalWriteDuration.Enabled)
            ActorsTelemetry.JournalWriteDuration.Record(Stopwatch.GetElapsedTime(write.StartedAt).TotalSeconds, TelemetryTags);
        if (!ActorsTelemetry.JournalWriteMessages.Enabled) return;
        var messages = 0;
        foreach (var evt in write.Events) if (evt is MessagesEnqueued enqueued) messages += enqueued.Messages.Length;
        if (messages > 0) ActorsTelemetry.JournalWriteMessages.Record(messages, TelemetryTags);
    }

    private void PublishGauges()
    {
        if (++_ticksSinceGauges < GaugeTicks) return;
        _ticksSinceGauges = 0;
        if (QueueGauges.Enabled) QueueGauges.Publish(Self, QueueGaugeSnapshot.From(Stats(accepting: true)));
        else QueueGauges.Withdraw(Self);
    }
}

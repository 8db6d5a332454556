using Actors.Handlers;
using Actors.Monitoring;

namespace Actors.Workers;

/// <summary>
/// The worker's share of the <see cref="ActorsTelemetry"/>: a consumer span around each handler call (started on the
/// thread that runs the handler, linked to the producer's trace context from the message's headers) and, per attempt,
/// the consumed-messages counter and the process-duration histogram (with <c>error.type</c> when the attempt failed).
/// </summary>
internal sealed partial class Worker
{
    /// <summary>Whether anybody listens to the consumer spans.</summary>
    private static bool Traced => ActorsTelemetry.Source.HasListeners();

    /// <summary>Runs the handler inside the attempt's consumer span; the span ends with the handler.</summary>
    private static async ValueTask<ReadOnlyMemory<byte>?> InvokeTraced(MessageInvoker invoke, IServiceProvider services, ReadOnlyMemory<byte> payload,
        MessageContext context, CancellationToken cancellationToken)
    {
        using var activity = ActorsTelemetry.StartProcess(context.QueueId, context.MessageId, context.Attempt, context.Type, context.Headers);
        try
        {
            return await invoke(services, payload, context, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            ActorsTelemetry.SetError(activity, e);
            throw;
        }
    }

    /// <summary>Runs a batch handler inside one consumer span linked to every message's producer.</summary>
    private static async ValueTask<BatchOutcome[]> InvokeBatchTraced(BatchInvoker invoke, IServiceProvider services, IReadOnlyList<BatchInput> items,
        CancellationToken cancellationToken)
    {
        using var activity = ActorsTelemetry.StartProcessBatch(items);
        try
        {
            return await invoke(services, items, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            ActorsTelemetry.SetError(activity, e);
            throw;
        }
    }

    private static void RecordProcessed(string queueId, TimeSpan serviceTime, Exception? error)
    {
        if (ActorsTelemetry.ConsumedMessages.Enabled) ActorsTelemetry.ConsumedMessages.Add(1, ActorsTelemetry.QueueTags(queueId));
        if (!ActorsTelemetry.ProcessDuration.Enabled) return;
        if (error is null) ActorsTelemetry.ProcessDuration.Record(serviceTime.TotalSeconds, ActorsTelemetry.QueueTags(queueId));
        else ActorsTelemetry.ProcessDuration.Record(serviceTime.TotalSeconds, ActorsTelemetry.QueueTags(queueId, "error.type", error.GetType().FullName));
    }
}

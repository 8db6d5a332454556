using System.Diagnostics;
using Actors.Handlers;
using Actors.Protocol;
using Akka.Actor;
using Akka.Event;
using static Actors.Protocol.WorkerProtocol;

namespace Actors.Workers;

/// <summary>
/// Batches: when the next waiting delivery's type has a batch handler, the worker takes the waiting deliveries of that
/// type, in the order it received them, up to the batch size. With fewer, it waits up to the type's batch wait (a
/// timer) for more to arrive, running at once when the batch fills; meanwhile it starts nothing else. Two deliveries with the same ordering key never
/// share a batch: the later one waits for the next. Each delivery keeps its own attempt and is reported on its own
/// (<see cref="Completed"/> or <see cref="Failed"/>, each with the batch's service time divided by its size). A lease
/// that runs out on any delivery of a running batch fires the batch's token; a delivery taken back (lease or cancel)
/// is not reported.
/// </summary>
internal sealed partial class Worker
{
    private const string FillTimer = "batch-fill";

    private RunningBatch? _batch;
    private string? _filling;

    private void ReceiveBatches()
    {
        Receive<BatchFillDue>(due =>
        {
            if (_filling != due.Type) return;
            _filling = null;
            if (_handlers.TryGetBatch(due.Type, out var batch)) StartBatch(due.Type, batch, waitedEnough: true);
            if (!Busy) StartNext();
        });
        Receive<BatchFinished>(finished =>
        {
            if (!ReferenceEquals(_batch, finished.Batch)) return;
            _batch = null;
            finished.Batch.Cancellation.Dispose();
            ReportBatch(finished.Batch, finished.Outcomes, finished.Error);
            StartNext();
        });
    }

    /// <summary>A delivery arrived while a batch fills: the batch runs at once if it is now full.</summary>
    private void OnArrivedWhileFilling(Deliver delivery)
    {
        if (delivery.Type != _filling || !_handlers.TryGetBatch(_filling, out var batch)) return;
        if (CountBatchable(_filling, batch.BatchSize) < batch.BatchSize) return;
        Timers.Cancel(FillTimer);
        _filling = null;
        RunBatch(TakeBatch(delivery.Type, batch.BatchSize), batch);
    }

    /// <summary>Runs a batch of <paramref name="type"/> now if it is full or has waited enough, or starts waiting for it to fill.</summary>
    private void StartBatch(string type, BatchRegistration batch, bool waitedEnough)
    {
        if (!waitedEnough && batch.BatchWait > TimeSpan.Zero && CountBatchable(type, batch.BatchSize) < batch.BatchSize)
        {
            _filling = type;
            Timers.StartSingleTimer(FillTimer, new BatchFillDue(type), batch.BatchWait);
            return;
        }
        var items = TakeBatch(type, batch.BatchSize);
        if (items.Count > 0) RunBatch(items, batch);
    }

    /// <summary>How many waiting deliveries (at most <paramref name="size"/>) one batch of <paramref name="type"/> would take now.</summary>
    private int CountBatchable(string type, int size)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var count = 0;
        foreach (var (delivery, _) in _waiting)
        {
            if (count == size) break;
            if (Joins(delivery, type, keys)) count++;
        }
        return count;
    }

    /// <summary>Takes the deliveries of one batch of <paramref name="type"/> out of the waiting ones, in the order they arrived.</summary>
    private List<(Deliver Delivery, IActorRef Queue)> TakeBatch(string type, int size)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var taken = new List<(Deliver, IActorRef)>();
        var count = _waiting.Count;
        for (var i = 0; i < count; i++)
        {
            var entry = _waiting.Dequeue();
            if (taken.Count < size && Joins(entry.Delivery, type, keys)) taken.Add(entry);
            else _waiting.Enqueue(entry);
        }
        return taken;
    }

    /// <summary>Whether <paramref name="delivery"/> may join a batch of <paramref name="type"/> holding the ordering keys <paramref name="keys"/> (which it adds to).</summary>
    private static bool Joins(Deliver delivery, string type, HashSet<string> keys) =>
        delivery.Type == type && (!delivery.Headers.TryGetValue(MessageHeaders.Key, out var key) || keys.Add(key));

    private void RunBatch(List<(Deliver Delivery, IActorRef Queue)> items, BatchRegistration batch)
    {
        var inputs = new BatchInput[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            var d = items[i].Delivery;
            inputs[i] = new BatchInput(d.Payload, new MessageContext(d.QueueId, d.MessageId, d.Attempt, d.Type, d.Headers, d.EnqueuedAt));
        }
        var running = new RunningBatch(items, new CancellationTokenSource(), Stopwatch.GetTimestamp());
        var token = running.Cancellation.Token;
        Task<BatchOutcome[]> pending;
        if (_scheduler.RunsInline)
        {
            try
            {
                var inline = Traced ? InvokeBatchTraced(batch.Invoke, _services, inputs, token) : batch.Invoke(_services, inputs, token);
                if (inline.IsCompletedSuccessfully)
                {
                    running.Cancellation.Dispose();
                    ReportBatch(running, inline.Result, null);
                    return;
                }
                pending = inline.AsTask();
            }
            catch (Exception e)
            {
                running.Cancellation.Dispose();
                ReportBatch(running, null, e);
                return;
            }
        }
        else
        {
            var services = _services;
            pending = Traced
                ? _scheduler.Run(() => InvokeBatchTraced(batch.Invoke, services, inputs, token).AsTask())
                : _scheduler.Run(() => batch.Invoke(services, inputs, token).AsTask());
        }
        _batch = running;
        pending.PipeTo(Self,
            success: outcomes => new BatchFinished(running, outcomes, null),
            failure: error => new BatchFinished(running, null, error));
    }

    /// <summary>One report per delivery of the batch not taken back: its own outcome, or <paramref name="error"/> for all.</summary>
    private void ReportBatch(RunningBatch batch, BatchOutcome[]? outcomes, Exception? error)
    {
        var serviceTime = Stopwatch.GetElapsedTime(batch.StartedAt) / batch.Items.Count;
        for (var i = 0; i < batch.Items.Count; i++)
        {
            if (batch.Withdrawn.Contains(i)) continue;
            var (delivery, queue) = batch.Items[i];
            var outcome = outcomes is not null && i < outcomes.Length ? outcomes[i] : new BatchOutcome(null, error ?? new InvalidOperationException("The batch ended without outcomes."));
            Report(delivery, queue, serviceTime, outcome.Result, outcome.Error);
        }
    }

    /// <summary>True when the delivery belongs to the running batch: it is not reported, and a lease that ran out fires the batch's token.</summary>
    private bool WithdrawFromBatch(long messageId, int attempt, bool leaseExpired)
    {
        if (_batch is not { } batch) return false;
        for (var i = 0; i < batch.Items.Count; i++)
        {
            var delivery = batch.Items[i].Delivery;
            if (delivery.MessageId != messageId || delivery.Attempt != attempt) continue;
            batch.Withdrawn.Add(i);
            if (leaseExpired) batch.Cancellation.Cancel();
            return true;
        }
        return false;
    }

    /// <summary>The worker crashed: every delivery of the running batch goes back to its queue.</summary>
    private void CrashBatch(Exception error)
    {
        if (_batch is not { } batch) return;
        _batch = null;
        batch.Cancellation.Cancel();
        for (var i = 0; i < batch.Items.Count; i++)
        {
            if (!batch.Withdrawn.Contains(i)) ReportCrash(batch.Items[i].Delivery, batch.Items[i].Queue, error);
        }
    }

    private sealed record RunningBatch(List<(Deliver Delivery, IActorRef Queue)> Items, CancellationTokenSource Cancellation, long StartedAt)
    {
        public HashSet<int> Withdrawn { get; } = new();
    }

    /// <summary>A batch's outcomes; one that finishes after its worker was stopped is dropped quietly.</summary>
    private sealed record BatchFinished(RunningBatch Batch, BatchOutcome[]? Outcomes, Exception? Error) : IDeadLetterSuppression;

    /// <summary>The batch wait of <paramref name="Type"/> is over: run what the worker holds.</summary>
    private sealed record BatchFillDue(string Type) : INotInfluenceReceiveTimeout, IDeadLetterSuppression;
}

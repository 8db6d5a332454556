using System.Diagnostics;
using Actors.Handlers;
using Akka.Actor;
using static Actors.Protocol.WorkerProtocol;

namespace Actors.Workers;

/// <summary>
/// Chunks: the deliveries a worker holds when it becomes free run one after another on one handler thread, which
/// reports each outcome to its queue itself as soon as the handler returns. The worker hears back once per chunk, so
/// a busy worker with a prefetch of n costs the handler threads one wake-up and itself one message per n deliveries,
/// and no delivery's report waits for the others. Each delivery keeps its own cancellation token and state: the worker
/// may drop one not started yet (the queue took it back, or the worker crashed or stopped) while the handler thread
/// works through the chunk, and the two agree through an atomic state change on who reports it.
/// </summary>
internal sealed partial class Worker
{
    /// <summary>Deliveries run one after another by one handler thread.</summary>
    private sealed class Chunk(List<ChunkItem> items)
    {
        public List<ChunkItem> Items { get; } = items;

        /// <summary>
        /// The queue took back attempt <paramref name="attempt"/> of <paramref name="messageId"/>: dropped if it has not
        /// started, its token fired if it runs. False when the chunk does not hold it.
        /// </summary>
        public bool Withdraw(long messageId, int attempt)
        {
            foreach (var item in Items)
            {
                if (item.Delivery.MessageId != messageId || item.Delivery.Attempt != attempt) continue;
                if (!item.TryDropPending()) item.Cancel();
                return true;
            }
            return false;
        }

        /// <summary>The handler thread is done with the chunk: its tokens are no longer needed.</summary>
        public void Dispose()
        {
            foreach (var item in Items) item.Cancellation.Dispose();
        }
    }

    /// <summary>One delivery of a chunk: pending, started, finished (reported by the handler thread) or dropped.</summary>
    private sealed class ChunkItem(Deliver delivery, IActorRef queue)
    {
        private const int Pending = 0, Started = 1, Finished = 2, Dropped = 3;
        private int _state;

        public Deliver Delivery { get; } = delivery;

        public IActorRef Queue { get; } = queue;

        public CancellationTokenSource Cancellation { get; } = new();

        /// <summary>The handler thread takes the delivery; false when the worker dropped it first.</summary>
        public bool TryStart() => Interlocked.CompareExchange(ref _state, Started, Pending) == Pending;

        /// <summary>The handler returned; false when the worker dropped the delivery meanwhile (its outcome goes nowhere).</summary>
        public bool TryFinish() => Interlocked.CompareExchange(ref _state, Finished, Started) == Started;

        /// <summary>The worker drops a delivery that has not started; false when it has.</summary>
        public bool TryDropPending() => Interlocked.CompareExchange(ref _state, Dropped, Pending) == Pending;

        /// <summary>
        /// The worker drops the delivery whatever its progress short of finished, firing the token of a running
        /// handler; true when the worker now answers for it (it was pending or running), false when it had finished.
        /// </summary>
        public bool Drop()
        {
            if (TryDropPending()) return true;
            if (Interlocked.CompareExchange(ref _state, Dropped, Started) != Started) return false;
            Cancel();
            return true;
        }

        public void Cancel()
        {
            try
            {
                Cancellation.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The chunk finished and its tokens were disposed: nothing runs any more.
            }
        }
    }

    /// <summary>What a handler thread needs to run a chunk: nothing of the worker's state but the chunk's items.</summary>
    private sealed class ChunkRun(Chunk chunk, HandlerRegistry handlers, IServiceProvider services, IActorRef worker, string workerName)
    {
        /// <summary>Runs each delivery not dropped, in order, and reports each outcome to its queue as the worker.</summary>
        public async Task RunAsync()
        {
            foreach (var item in chunk.Items)
            {
                if (!item.TryStart()) continue;
                var delivery = item.Delivery;
                var startedAt = Stopwatch.GetTimestamp();
                ReadOnlyMemory<byte>? result = null;
                Exception? error = null;
                if (!handlers.TryGet(delivery.Type, out var invoke))
                {
                    error = new NoHandlerException($"No handler is registered for message type '{delivery.Type}'.");
                }
                else
                {
                    try
                    {
                        var context = new MessageContext(delivery.QueueId, delivery.MessageId, delivery.Attempt, delivery.Type, delivery.Headers, delivery.EnqueuedAt);
                        var token = item.Cancellation.Token;
                        // The consumer span starts on this thread, so it is current for the handler and its continuations.
                        var pending = Traced ? InvokeTraced(invoke, services, delivery.Payload, context, token) : invoke(services, delivery.Payload, context, token);
                        // Continuations stay on the handler threads (the scheduler this runs on), never an actor's.
                        result = pending.IsCompletedSuccessfully ? pending.Result : await pending.ConfigureAwait(true);
                    }
                    catch (Exception e)
                    {
                        error = e;
                    }
                }
                if (!item.TryFinish()) continue;
                item.Queue.Tell(ReportOf(delivery, Stopwatch.GetElapsedTime(startedAt), result, error, workerName), worker);
            }
        }
    }
}

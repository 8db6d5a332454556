using System.Diagnostics;
using System.Collections.Concurrent;
using Actors.Monitoring;
using Actors.Protocol;
using Akka.Actor;
using static Actors.Protocol.QueueCommands;

namespace Actors.Client;

/// <summary>
/// The client's enqueue requests: each waits under a correlation id until its queue's reply reaches the reply
/// reference, is sent again while a cluster moves its queue, and fails once its deadline passes.
/// </summary>
public sealed partial class QueueClient
{
    private PendingRequest Register(CancellationToken cancellationToken, out long correlation)
    {
        correlation = Interlocked.Increment(ref _nextCorrelation);
        var request = new PendingRequest(Environment.TickCount64 + (long)_timeout.TotalMilliseconds);
        _pending[correlation] = request;
        if (cancellationToken.CanBeCanceled)
        {
            var id = correlation;
            request.Registration = cancellationToken.Register(() =>
            {
                if (_pending.TryRemove(id, out var cancelled)) cancelled.TrySetCanceled(cancellationToken);
            });
        }
        return request;
    }

    /// <summary>Sends an enqueue command; in a cluster it is kept to be sent again should its queue be moving.</summary>
    private void Dispatch(PendingRequest request, IWithQueueId command)
    {
        if (_resendWhenMoving) request.Resend = command;
        _manager.Tell(command, _replies);
    }

    private void Complete(long correlation, object reply)
    {
        if (WritePathBreakdown.Enabled) WritePathBreakdown.Replied(_replies, correlation);
        if (!_pending.TryGetValue(correlation, out var request)) return;
        if (request.Resend is { } command && RefusedWhileMoving(reply) && request.MayRetry(Environment.TickCount64))
        {
            _system.Scheduler.ScheduleTellOnce(MovingQueueRetryInterval, _manager, command, _replies);
            return;
        }
        if (!_pending.TryRemove(correlation, out request)) return;
        request.RecordDuration(reply);
        request.Resolve(reply);
    }

    /// <summary>The whole request was refused because its queue is shutting down: nothing of it was stored.</summary>
    private static bool RefusedWhileMoving(object reply) => reply switch
    {
        Rejected rejected => rejected.Code == RejectionCode.ShuttingDown,
        BatchResult batch => batch.Outcomes.Length > 0 && batch.Outcomes.All(o => o.Code == RejectionCode.ShuttingDown),
        _ => false,
    };

    private void ExpireOverdue()
    {
        var now = Environment.TickCount64;
        foreach (var (id, request) in _pending)
        {
            if (request.Deadline <= now && _pending.TryRemove(id, out var expired))
            {
                var error = new QueueException(RejectionCode.JournalUnavailable, $"The queue did not answer within {_timeout}; the message may or may not have been stored.");
                expired.RecordDuration(error);
                expired.TrySetException(error);
            }
        }
    }

    private sealed class PendingRequest(long deadline) : TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        private long _retryUntil;
        private string? _timedQueue;
        private long _startedAt;

        public long Deadline { get; } = deadline;
        public CancellationTokenRegistration Registration { get; set; }

        /// <summary>Times the round trip of an enqueue to <paramref name="queue"/> for the operation-duration metric.</summary>
        public void Time(string queue)
        {
            _timedQueue = queue;
            _startedAt = Stopwatch.GetTimestamp();
        }

        /// <summary>Records the timed round trip (if it is timed) with its outcome.</summary>
        public void RecordDuration(object reply)
        {
            if (_timedQueue is { } queue) ActorsTelemetry.EndSend(null, queue, _startedAt, reply);
        }

        /// <summary>The command to send again if its queue refuses it while moving (cluster only).</summary>
        public IWithQueueId? Resend { get; set; }

        /// <summary>Whether a refusal at <paramref name="now"/> (ms) may be retried: within the retry window from the first refusal and the deadline.</summary>
        public bool MayRetry(long now)
        {
            if (_retryUntil == 0) _retryUntil = now + (long)MovingQueueRetryWindow.TotalMilliseconds;
            return now < _retryUntil && now < Deadline;
        }

        public void Resolve(object result)
        {
            Registration.Dispose();
            TrySetResult(result);
        }
    }

    /// <summary>
    /// Where queues send enqueue replies: it completes the waiting task on the replying actor's thread, with no mailbox
    /// in between (like the reference an Ask is answered to), and the task's continuations run on the thread pool.
    /// Registered as a temporary actor, so a queue on another node of a cluster can answer it too.
    /// </summary>
    private sealed class ReplySink(QueueClient client, IActorRefProvider provider, ActorPath path) : MinimalActorRef
    {
        public override ActorPath Path { get; } = path;

        public override IActorRefProvider Provider { get; } = provider;

        protected override void TellInternal(object message, IActorRef sender)
        {
            switch (message)
            {
                case Accepted a: client.Complete(a.CorrelationId, a); break;
                case Rejected r: client.Complete(r.CorrelationId, r); break;
                case BatchResult b: client.Complete(b.CorrelationId, b); break;
            }
        }
    }

    /// <summary>Fails the requests that were not answered in time, every second.</summary>
    private sealed class OverdueSweeper : ReceiveActor, IWithTimers
    {
        public OverdueSweeper(QueueClient client) => Receive<Sweep>(_ => client.ExpireOverdue());

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PreStart() => Timers.StartPeriodicTimer("sweep", Sweep.Instance, TimeSpan.FromSeconds(1));

        private sealed class Sweep
        {
            public static readonly Sweep Instance = new();
            private Sweep() { }
        }
    }
}

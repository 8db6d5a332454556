using Actors.Configuration;
using Actors.Protocol;
using Actors.State;
using Actors.Workers;
using Akka.Actor;
using Akka.Event;
using Akka.Cluster.Routing;
using Akka.Routing;
using static Actors.Protocol.QueueEvents;
using static Actors.Protocol.WorkerProtocol;

namespace Actors.Queues;

/// <summary>
/// Deliveries: the worker pool (a router whose workers the queue learns, watches and replaces), dispatch under the
/// rate limit, and the workers' reports of success and failure.
/// </summary>
internal sealed partial class QueueActor
{
    /// <summary>
    /// Starts the consumer pool: a pool router that deploys and supervises the workers (restarting one that
    /// crashes, within <see cref="WorkerPool.Supervision"/>'s limits). The queue learns the routees and sends each delivery to a chosen one, so it knows which worker
    /// holds what and can watch them. In a cluster the router is cluster-aware: it deploys <c>size</c> workers on
    /// every node with the worker role, including nodes that join later, and the queue asks it for its workers
    /// every <see cref="QueueClusterOptions.WorkerRefresh"/> to start using new ones.
    /// </summary>
    private void StartPool(int size)
    {
        var supervisor = WorkerPool.Supervision();
        var name = _pool.NextRouterName();
        var props = _cluster.Enabled
            ? Worker.ClusterProps().WithRouter(new ClusterRouterPool(new RoundRobinPool(0).WithSupervisorStrategy(supervisor),
                new ClusterRouterPoolSettings(totalInstances: size * 10_000, maxInstancesPerNode: size, allowLocalRoutees: true, useRole: ClusterRoles.Worker)))
            : Worker.Props(_handlers, _services).WithRouter(new RoundRobinPool(size).WithSupervisorStrategy(supervisor));
        var router = Context.ActorOf(props, name);
        _pool.UseRouter(router);
        Context.Watch(router);
        router.Tell(GetRoutees.Instance);
        if (_cluster.Enabled) Timers.StartPeriodicTimer("refresh-workers", RefreshWorkers.Instance, _cluster.WorkerRefresh);
    }

    private void OnRoutees(Routees routees)
    {
        var members = new HashSet<IActorRef>();
        foreach (var routee in routees.Members)
            if (routee is ActorRefRoutee { Actor: var worker }) members.Add(worker);
        foreach (var worker in _pool.Learn(members)) Context.Watch(worker);
        Dispatch();
    }

    private void OnTerminated(Terminated terminated)
    {
        if (terminated.ActorRef.Equals(_archive))
        {
            // The archive stops when its journal write fails; a new one is started at the next archive write.
            _archive = null;
            if (_archiving is { } items) OnArchiveFailed(items);
            return;
        }
        if (_pool.IsRouter(terminated.ActorRef))
        {
            // A pool router stops itself when its last routee is gone; start a fresh pool of the missing size.
            // Replacements still pending are part of the missing size.
            _pool.TakeReplacements();
            Timers.Cancel(ReplaceWorkers.Key);
            var missing = _cluster.Enabled ? PoolSize : PoolSize - _pool.AliveCount;
            if (!_pool.Retired && missing > 0) StartPool(missing);
            return;
        }
        if (OnConsumerTerminated(terminated.ActorRef)) return;
        if (!_pool.TryRemove(terminated.ActorRef, out var slot)) return;
        TakeBack(slot, new ErrorInfo("WorkerStopped", "The worker stopped before finishing the delivery.", null, terminated.ActorRef.Path.ToString(), Now));
        if (!terminated.AddressTerminated) ReplaceWorker();
        Dispatch();
    }

    /// <summary>A worker is gone: every delivery it still held goes back to the queue at once, as a failed attempt.</summary>
    private void TakeBack(int slot, ErrorInfo error)
    {
        foreach (var message in _state.InFlightAt(slot))
        {
            if (_state.TryBeginFailure(message.Id, message.Attempt, out var failing))
            {
                RecordRedelivery();
                _pool.Release(slot);
                Decide(failing, error, RequestedFailureAction.RetryAfter, TimeSpan.Zero);
            }
        }
    }

    /// <summary>
    /// Keeps a local pool at its size: asks the router for a replacement worker, at once or after the backoff the
    /// <see cref="WorkerPool"/> sets when workers keep dying. A cluster-aware pool is topped up by
    /// <see cref="RefreshClusterPool"/>.
    /// </summary>
    private void ReplaceWorker()
    {
        if (_pool.Retired || _cluster.Enabled) return;
        var delay = _pool.ScheduleReplacement(Now);
        if (delay <= TimeSpan.Zero) RequestReplacements();
        else if (!Timers.IsTimerActive(ReplaceWorkers.Key)) Timers.StartSingleTimer(ReplaceWorkers.Key, ReplaceWorkers.Instance, delay);
    }

    /// <summary>
    /// Tops up a cluster-aware pool and learns its workers. Such a router deploys workers only when it hears of the
    /// cluster's members; handing it the current state makes it deploy again on nodes where workers stopped (abandoned,
    /// or past their restart limit), at most once per <see cref="QueueClusterOptions.WorkerRefresh"/>.
    /// </summary>
    private void RefreshClusterPool()
    {
        _pool.Router.Tell(Akka.Cluster.Cluster.Get(Context.System).State);
        _pool.Router.Tell(GetRoutees.Instance);
    }

    private void RequestReplacements()
    {
        var count = _pool.TakeReplacements();
        if (count == 0) return;
        _pool.Router.Tell(new AdjustPoolSize(count));
        // Learn the new workers' addresses.
        _pool.Router.Tell(GetRoutees.Instance);
    }

    private void Dispatch()
    {
        if (_pool.Retired) return;
        var now = Now;
        var held = false;
        while (_state.ReadyCount > 0 && !_state.IsPaused)
        {
            var slot = _pool.PickWorker();
            if (slot < 0) break;
            if (_gate.Limited && !_gate.MayStart(_pool.Outstanding, now))
            {
                held = true;
                ArmPermitTimer(now);
                break;
            }
            // Null when the next messages' payloads are still being read back from the journal.
            if (_state.Dispatch(slot, now) is not { } message) break;
            _gate.Started(now);
            if (message.FailedAttempts == 0 && !message.HandedBack) _metrics.RecordWait(now - message.EnqueuedAt, now);
            _pool.Take(slot).Tell(new Deliver(_queueId, message.Id, message.Attempt, message.Type, message.Payload, message.Headers, message.EnqueuedAt, _options.Lease,
                message.Attempt > 1 || message.HandedBack));
        }
        if (!held) _gate.Unheld();
        ExpireDue(now);
        ReadPayloads();
        ReadArchivedPayloads();
    }

    /// <summary>
    /// The rate limit holds dispatch back: a timer for its next token, so the delivery starts then rather than at the
    /// next tick. Waits of a tick or longer are left to the tick, which dispatches too.
    /// </summary>
    private void ArmPermitTimer(DateTime now)
    {
        if (_gate.RetryAt(now) is not { } at || Timers.IsTimerActive(PermitTick.Key)) return;
        var delay = at - now;
        if (delay < TickInterval) Timers.StartSingleTimer(PermitTick.Key, PermitTick.Instance, delay > TimeSpan.Zero ? delay : TimeSpan.Zero);
    }

    // ---------------------------------------------------------------- worker reports and leases

    private void OnCompleted(Completed completed)
    {
        if (ResultTooLarge(completed) || !FromHolder(completed.MessageId, completed.Attempt)) return;
        if (!_state.TryBeginCompletion(completed.MessageId, completed.Attempt, out var message))
        {
            _log.Debug("Queue {0}: ignoring a stale completion of message {1} attempt {2}", _queueId, completed.MessageId, completed.Attempt);
            return;
        }
        var now = Now;
        _pool.Release(message.WorkerSlot);
        _metrics.RecordService(completed.ServiceTime, now);
        _writer.BufferAck(new AckedMessage(message.Id, completed.Attempt, completed.Result, now));
        Flush();
        Dispatch();
    }

    private void OnFailed(Failed failed)
    {
        if (!FromHolder(failed.MessageId, failed.Attempt)) return;
        if (!_state.TryBeginFailure(failed.MessageId, failed.Attempt, out var message))
        {
            _log.Debug("Queue {0}: ignoring a stale failure of message {1} attempt {2}", _queueId, failed.MessageId, failed.Attempt);
            return;
        }
        _pool.Release(message.WorkerSlot);
        if (failed.ServiceTime > TimeSpan.Zero) _metrics.RecordService(failed.ServiceTime, Now);
        Decide(message, failed.Error, failed.Requested, failed.RetryAfter);
        Dispatch();
    }

    private void Decide(StoredMessage message, ErrorInfo error, RequestedFailureAction requested, TimeSpan? retryAfter)
    {
        var decision = _state.DecideFailure(message, error, requested, retryAfter, Now, _random.NextDouble());
        if (decision is DeadLettered dead)
            _log.Warning("Queue {0}: message {1} ({2}) dead-lettered after attempt {3}: {4} ({5})", _queueId, message.Id, message.Type, dead.Attempt, dead.Reason, error.Type);
        _writer.BufferDecision(decision);
        Flush();
    }

    /// <summary>
    /// A lease ran out on the worker at <paramref name="slot"/>: its handler may ignore its cancellation token and run on,
    /// and a worker runs one handler at a time, so it would look idle to nobody and hold up what it was given next. It
    /// is stopped (its handler's token fires; a late report is fenced by the attempt number) and replaced, and what else
    /// it held goes back to the queue now.
    /// </summary>
    private void AbandonWorker(int slot)
    {
        if (_pool.Abandon(slot) is not { } worker) return;
        _log.Warning("Queue {0}: worker {1} let a lease run out; it is stopped and replaced ({2} abandoned so far)", _queueId, worker.Path, _pool.AbandonedCount);
        Context.Stop(worker);
        TakeBack(slot, new ErrorInfo("WorkerAbandoned", "The worker was stopped when another delivery it held ran out of lease.", null, worker.Path.ToString(), Now));
        ReplaceWorker();
    }
}

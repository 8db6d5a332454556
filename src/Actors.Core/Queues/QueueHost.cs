using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Protocol;
using Akka.Actor;
using Akka.Event;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueQueries;

namespace Actors.Queues;

/// <summary>
/// The home of one queue: on a standalone node a child of the <see cref="QueueManager"/>, in a cluster a sharding
/// entity. It starts the <see cref="QueueActor"/>, forwards every message to it, and restarts it with exponential
/// backoff when it stops (a journal failure stops it). While the queue is down, its commands are answered at once
/// with a clear <see cref="RejectionCode.JournalUnavailable"/> instead of timing out.
/// <para>In a cluster, sharding hands the queue over to another node (the node leaves, or shards rebalance) by
/// sending <see cref="HandOff"/>: the queue drains its in-flight deliveries first, so the new home starts without
/// a redelivery storm, and then the host stops.</para>
/// <para>Before the queue first starts, a <see cref="PartitionCheck"/> makes sure no partition above the declared count
/// holds messages (commands wait meanwhile); if one does, the host refuses every command with the reason and never
/// starts the queue.</para>
/// <para>The host remembers the consumers attached through it (see <see cref="ConsumerProtocol"/>) until they detach or
/// stop, and attaches them to each new incarnation of a queue that restarts in place.</para>
/// </summary>
internal sealed class QueueHost : ReceiveActor, IWithTimers, IWithStash
{
    private static readonly TimeSpan CheckRetry = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    /// <summary>Restarts in place of a crashed queue within <see cref="CrashWindow"/>; past them it stops and restarts with backoff.</summary>
    public const int CrashRestarts = 3;

    /// <summary>The window <see cref="CrashRestarts"/> counts crashes in.</summary>
    public static readonly TimeSpan CrashWindow = TimeSpan.FromMinutes(1);

    /// <summary>How long a queue must run after recovering for its restart backoff to start over.</summary>
    public static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(30);

    private readonly string _queueId;
    private Func<Props>? _queueProps;
    private Func<Props>? _checkProps;
    private readonly Resolver? _resolver;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IActorRef? _queue;
    private bool _queueAvailable;
    private int _restarts;
    private DateTime? _recoveredAt;
    private int _incarnation;
    private readonly List<IActorRef> _drainRequesters = new();
    private readonly Dictionary<IActorRef, ConsumerProtocol.Attach> _consumers = new();
    private bool _draining;
    private bool _handingOff;

    public QueueHost(string queueId, Func<Props>? queueProps, Func<Props>? checkProps, Resolver? resolver = null)
    {
        _queueId = queueId;
        _queueProps = queueProps;
        _checkProps = checkProps;
        _resolver = queueProps is null ? resolver : null;
        if (_resolver is not null) Resolving();
        else if (_queueProps is not null && _checkProps is not null) Checking();
        else Hosting();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    /// <summary>
    /// A queue that crashes (an exception, not a journal failure) restarts in place at most <see cref="CrashRestarts"/>
    /// times within <see cref="CrashWindow"/>; one that crashes more often stops, and the host restarts it with backoff.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(CrashRestarts, CrashWindow, _ => Directive.Restart);

    /// <summary>Props for the host of one queue.</summary>
    /// <param name="queueId">The queue's name.</param>
    /// <param name="queueProps">Props of the queue actor, called for each (re)start; null for a queue this node does not declare.</param>
    /// <param name="checkProps">Props of the <see cref="PartitionCheck"/> to pass before the queue first starts; null for none.</param>
    public static Props Props(string queueId, Func<Props>? queueProps, Func<Props>? checkProps = null) =>
        Akka.Actor.Props.Create(() => new QueueHost(queueId, queueProps, checkProps, null));

    /// <summary>
    /// Props for the host of a sharding entity whose queue this node does not know (yet): the host asks the queue registry
    /// (see <see cref="Resolving"/>) and starts the queue if it was declared at run time.
    /// </summary>
    /// <param name="queueId">The entity id (the queue's name, or <c>name#p</c>).</param>
    /// <param name="resolver">Where to ask, and how to make the props from the options found.</param>
    public static Props Resolve(string queueId, Resolver resolver) =>
        Akka.Actor.Props.Create(() => new QueueHost(queueId, null, null, resolver));

    protected override void PreStart()
    {
        if (_resolver is not null)
        {
            _resolver.Registry.Tell(new QueueRegistryProtocol.FindDeclared(Partitions.Parse(_queueId).Queue));
            Timers.StartSingleTimer("resolve", ResolveTimedOut.Instance, _resolver.Timeout);
        }
        else if (_checkProps is not null && _queueProps is not null) StartCheck();
        else Start();
    }

    /// <summary>
    /// A sharding entity for a name this node's catalog lacks: a queue declared at run time that this node has not heard
    /// of yet, or no queue at all. Commands wait in the stash while the registry is asked; a queue it knows starts as
    /// usual (after its partition check), and for a name it does not know every command is answered "unknown queue" and
    /// the host passivates, so a later message makes a new host that asks again.
    /// </summary>
    private void Resolving()
    {
        Receive<QueueRegistryProtocol.DeclaredQueueFound>(found =>
        {
            Timers.Cancel("resolve");
            if (found.Options is { } options && _resolver!.PropsFor(options) is { } props)
            {
                _log.Info("Queue {0}: declared at run time, found in the queue registry", _queueId);
                _queueProps = props.Queue;
                _checkProps = props.Check;
                if (_checkProps is not null)
                {
                    Become(Checking);
                    StartCheck();
                }
                else
                {
                    Become(Hosting);
                    Start();
                }
            }
            else Unresolved(RejectionCode.UnknownQueue, $"Queue '{Partitions.Parse(_queueId).Queue}' does not exist.");
            Stash.UnstashAll();
        });
        Receive<ResolveTimedOut>(_ =>
        {
            Unresolved(RejectionCode.JournalUnavailable, $"Queue '{_queueId}' is starting and the queue registry did not answer; retry shortly.");
            Stash.UnstashAll();
        });
        Receive<WakeUp>(_ => { });
        ReceiveDrainAndHandOff();
        Receive<IWithQueueId>(_ => Stash.Stash());
    }

    /// <summary>Answers every command with <paramref name="code"/> and passivates (the shard buffers what arrives meanwhile).</summary>
    private void Unresolved(RejectionCode code, string reason)
    {
        Become(() =>
        {
            Receive<WakeUp>(_ => { });
            Receive<StopUnresolved>(_ => Context.Stop(Self));
            Receive<QueueLifecycle.PartitionGone>(_ => { });
            ReceiveDrainAndHandOff();
            Receive<IWithQueueId>(message => Answer(message, code, reason));
        });
        Context.Parent.Tell(new Akka.Cluster.Sharding.Passivate(StopUnresolved.Instance));
    }

    /// <summary>Waiting for the <see cref="PartitionCheck"/>: commands wait in the stash; a drain or hand-off needs no queue.</summary>
    private void Checking()
    {
        Receive<PartitionCheck.Checked>(checkedOut =>
        {
            // The check answered and stops itself: its Terminated is not needed.
            Context.Unwatch(Sender);
            if (checkedOut.Refusal is { } refusal)
            {
                _log.Error("Queue {0} does not start: {1}", _queueId, refusal);
                Become(() => Refused(refusal));
            }
            else
            {
                Become(Hosting);
                Start();
            }
            Stash.UnstashAll();
        });
        Receive<PartitionCheck.CheckFailed>(failed =>
        {
            Context.Unwatch(Sender);
            _log.Warning(failed.Cause, "Queue {0}: could not check the journal for partitions above the declared count; checking again in {1}", _queueId, CheckRetry);
            CheckLater();
        });
        Receive<Terminated>(_ =>
        {
            // The check stopped without an answer (it crashed past its restart limit).
            _log.Warning("Queue {0}: the partition check stopped without an answer; checking again in {1}", _queueId, CheckRetry);
            CheckLater();
        });
        Receive<WakeUp>(_ => { });
        ReceiveDrainAndHandOff();
        Receive<IWithQueueId>(_ => Stash.Stash());
    }

    /// <summary>Starts a <see cref="PartitionCheck"/>, watched: one that stops without answering is retried like a failed one.</summary>
    private void StartCheck() => Context.Watch(Context.ActorOf(_checkProps!()));

    private void CheckLater()
    {
        Become(CheckFailed);
        Stash.UnstashAll();
        Timers.StartSingleTimer("check", RetryCheck.Instance, CheckRetry);
    }

    /// <summary>The journal could not be checked: commands are answered at once until the next check.</summary>
    private void CheckFailed()
    {
        Receive<RetryCheck>(_ =>
        {
            Become(Checking);
            StartCheck();
        });
        Receive<WakeUp>(_ => { });
        ReceiveDrainAndHandOff();
        Receive<IWithQueueId>(message => Answer(message, RejectionCode.JournalUnavailable, $"Queue '{_queueId}' is starting and could not check its journal yet; retry shortly."));
    }

    /// <summary>Partitions above the declared count hold messages: the queue never starts, and every command hears why.</summary>
    private void Refused(string reason)
    {
        Receive<WakeUp>(_ => { });
        ReceiveDrainAndHandOff();
        Receive<IWithQueueId>(message => Answer(message, RejectionCode.JournalUnavailable, reason));
    }

    /// <summary>A drain or hand-off while no queue runs: answered (or the host stops) at once, and the queue never starts.</summary>
    private void ReceiveDrainAndHandOff()
    {
        Receive<Drain>(_ => BeginDrain(Sender));
        Receive<HandOff>(_ =>
        {
            _handingOff = true;
            BeginDrain(ActorRefs.Nobody);
        });
    }

    /// <summary>The queue runs (or restarts after a failure, or drains).</summary>
    private void Hosting()
    {
        Receive<WakeUp>(_ => { });
        Receive<QueueRecovered>(_ => _recoveredAt = DateTime.UtcNow);
        Receive<QueueStopping>(_ =>
        {
            // From now on answer at once; what was already forwarded is answered by the stopping queue.
            if (Sender.Equals(_queue)) _queueAvailable = false;
        });
        Receive<Terminated>(OnTerminated);
        Receive<QueueRetired>(_ => Retire());
        Receive<RestartQueue>(_ => Start());
        Receive<Drain>(_ => BeginDrain(Sender));
        Receive<HandOff>(_ =>
        {
            _handingOff = true;
            BeginDrain(ActorRefs.Nobody);
        });
        Receive<Drained>(OnDrained);
        // The answers of the queue to the attachments the host repeats after a restart.
        Receive<ConsumerProtocol.Attached>(_ => { });
        // A deleted queue's name declared again and started before the deletion's last word: this queue is the new one.
        Receive<QueueLifecycle.PartitionGone>(_ => { });
        Receive<IWithQueueId>(Route);
    }

    /// <summary>
    /// The queue deleted its journal (its queue is being deleted): the host stops it, forgets its consumers, and answers
    /// "unknown queue" from now on (see <see cref="Retired"/>).
    /// </summary>
    private void Retire()
    {
        if (!Sender.Equals(_queue)) return;
        Context.Unwatch(_queue);
        Context.Stop(_queue);
        _queue = null;
        _queueAvailable = false;
        Timers.Cancel("restart");
        foreach (var consumer in _consumers.Keys) Context.Unwatch(consumer);
        _consumers.Clear();
        Become(Retired);
        Timers.StartSingleTimer("passivate", PassivateRetired.Instance, RetiredFor);
        // A drain that began meanwhile is over: nothing of this queue is left to finish.
        if (_draining) FinishDrain(0);
    }

    /// <summary>
    /// A retired queue: every command hears "unknown queue". The queue registry removes the queue next, and every manager
    /// forgets it (a standalone node's manager stops this host; a sharding entity passivates when the deletion tells it,
    /// <see cref="QueueLifecycle.PartitionGone"/>). After <see cref="RetiredFor"/> a sharding entity still here
    /// passivates anyway, and a standalone host whose manager still knows the queue (the registry did not store the removal)
    /// starts it again, empty.
    /// </summary>
    private void Retired()
    {
        Receive<WakeUp>(_ => { });
        Receive<Terminated>(_ => { });
        Receive<PassivateRetired>(_ => Context.Parent.Tell(new Akka.Cluster.Sharding.Passivate(StopUnresolved.Instance)));
        Receive<QueueLifecycle.PartitionGone>(_ => Context.Parent.Tell(new Akka.Cluster.Sharding.Passivate(StopUnresolved.Instance)));
        Receive<StopUnresolved>(_ => Context.Stop(Self));
        Receive<Reopen>(_ =>
        {
            Become(Hosting);
            Start();
        });
        ReceiveDrainAndHandOff();
        Receive<IWithQueueId>(message => Answer(message, RejectionCode.UnknownQueue, $"Queue '{Partitions.Parse(_queueId).Queue}' does not exist."));
    }

    /// <summary>How long a retired host answers "unknown queue" before it passivates (or, standalone, asks its manager).</summary>
    private static readonly TimeSpan RetiredFor = TimeSpan.FromSeconds(10);

    private void Start()
    {
        if (_draining || _queueProps is null) return;
        _queue = Context.ActorOf(_queueProps(), _incarnation++ == 0 ? "queue" : $"queue-{_incarnation}");
        _queueAvailable = true;
        Context.Watch(_queue);
        foreach (var attach in _consumers.Values) _queue.Tell(attach);
    }

    /// <summary>Remembers an attachment for the next incarnation of the queue, or forgets a detached consumer.</summary>
    private void Remember(IWithQueueId message)
    {
        switch (message)
        {
            case ConsumerProtocol.Attach attach:
                if (!_consumers.ContainsKey(attach.Consumer)) Context.Watch(attach.Consumer);
                _consumers[attach.Consumer] = attach;
                break;
            case ConsumerProtocol.Detach detach when _consumers.Remove(detach.Consumer):
                Context.Unwatch(detach.Consumer);
                break;
        }
    }

    private void Route(IWithQueueId message)
    {
        if (_queueProps is not null && message is ConsumerProtocol.Attach or ConsumerProtocol.Detach) Remember(message);
        if (_queue is not null && _queueAvailable)
        {
            _queue.Forward(message);
            return;
        }
        var (code, reason) = _queueProps is null ? (RejectionCode.UnknownQueue, $"Queue '{_queueId}' does not exist.")
            : _draining ? (RejectionCode.ShuttingDown, $"Queue '{_queueId}' is shutting down.")
            : (RejectionCode.JournalUnavailable, $"Queue '{_queueId}' is restarting after a journal failure; retry shortly.");
        Answer(message, code, reason);
    }

    private void Answer(IWithQueueId message, RejectionCode code, string reason)
    {
        if (Unavailable(message, code, reason) is { } reply) Sender.Tell(reply);
        else _log.Warning("Dropping {0} for queue {1}: {2}", message.GetType().Name, _queueId, reason);
    }

    /// <summary>The answer to <paramref name="message"/> when its queue cannot take it; null for messages nobody waits on.</summary>
    public static object? Unavailable(IWithQueueId message, RejectionCode code, string reason) => message switch
    {
        Enqueue e => new Rejected(e.QueueId, code, reason, e.CorrelationId),
        EnqueueBatch b => new BatchResult(b.QueueId, b.Messages.Select(_ => new EnqueueOutcome(null, code, reason)).ToImmutableArray(), b.CorrelationId),
        CancelMessage c when code != RejectionCode.UnknownQueue => new CancelResult(c.QueueId, c.MessageId, CancelOutcome.JournalUnavailable, null, c.CorrelationId),
        KeyCommands.ChangeKey k when code != RejectionCode.UnknownQueue => new KeyCommands.KeyChanged(k.QueueId, k.Key, k.Operation, KeyChangeOutcome.JournalUnavailable, [], k.CorrelationId),
        GetMessage or CancelMessage or KeyCommands.ChangeKey or PauseCommands.Pause or PauseCommands.Resume or FindByIdempotencyKey or OutcomeWaits.WaitForOutcome or GetStats or GetPlacement or DeadLetterCommands.ListDeadLetters or DeadLetterCommands.GroupDeadLetters
            or DeadLetterCommands.RedriveDeadLetters or DeadLetterCommands.PurgeDeadLetters or QueueLifecycle.Purge or QueueLifecycle.RetirePartition or RedriveJobs.ListRedriveJobs or RedriveJobs.CancelRedriveJob
            or ConsumerProtocol.Attach or ConsumerProtocol.Detach =>
            code == RejectionCode.UnknownQueue ? new QueueNotFound(message.QueueId) : new QueueUnavailable(message.QueueId, reason),
        _ => null,
    };

    private void OnTerminated(Terminated terminated)
    {
        if (_consumers.Remove(terminated.ActorRef)) return;
        if (!terminated.ActorRef.Equals(_queue)) return;
        _queue = null;
        if (_draining)
        {
            FinishDrain(0);
            return;
        }
        // The backoff starts over only after a queue that ran for a while: one that fails again soon after it recovered
        // (a recurring journal failure, a crash on every start) waits longer each time.
        if (_recoveredAt is { } recoveredAt && DateTime.UtcNow - recoveredAt >= StableAfter) _restarts = 0;
        _recoveredAt = null;
        _restarts++;
        var backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, MinBackoff.Ticks * (1L << Math.Min(_restarts - 1, 20))));
        backoff += TimeSpan.FromTicks((long)(backoff.Ticks * 0.2 * Random.Shared.NextDouble()));
        _log.Warning("Queue {0} stopped; restarting in {1} (restart {2})", _queueId, backoff, _restarts);
        Timers.StartSingleTimer("restart", RestartQueue.Instance, backoff);
    }

    private void BeginDrain(IActorRef requester)
    {
        if (!requester.IsNobody()) _drainRequesters.Add(requester);
        if (_draining) return;
        _draining = true;
        Timers.Cancel("restart");
        if (_queue is null) FinishDrain(0);
        else _queue.Tell(Drain.Instance);
    }

    private void OnDrained(Drained drained)
    {
        if (_draining) FinishDrain(drained.Unfinished);
    }

    private void FinishDrain(int unfinished)
    {
        foreach (var requester in _drainRequesters) requester.Tell(new Drained(_queueId, unfinished));
        _drainRequesters.Clear();
        if (_handingOff) Context.Stop(Self);
    }

    /// <summary>A queue finished recovery; its restart backoff resets once it has run for <see cref="StableAfter"/>.</summary>
    internal sealed record QueueRecovered(string QueueId);

    /// <summary>
    /// A queue is about to stop on a journal failure. Sent before it answers its producers, so a producer's retry
    /// reaches the host after it stopped forwarding (and is answered at once) instead of a stopped actor.
    /// </summary>
    internal sealed record QueueStopping(string QueueId);

    /// <summary>The queue deleted its journal and snapshots for a delete of its queue; the host stops it for good.</summary>
    internal sealed record QueueRetired(string QueueId);

    /// <summary>A standalone manager's answer to a retired host's passivation: its queue is still declared, start it again.</summary>
    internal sealed class Reopen
    {
        public static readonly Reopen Instance = new();
        private Reopen() { }
    }

    private sealed class PassivateRetired : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly PassivateRetired Instance = new();
        private PassivateRetired() { }
    }

    /// <summary>Sharding's stop message for a queue being handed over to another node: drain, then stop.</summary>
    internal sealed class HandOff
    {
        public static readonly HandOff Instance = new();
        private HandOff() { }
    }

    /// <summary>How a host resolves a queue it does not know (see <see cref="Resolve"/>).</summary>
    /// <param name="Registry">The queue registry (its singleton proxy).</param>
    /// <param name="PropsFor">The queue's and its check's props from the options found; null when the entity's partition is above the queue's count.</param>
    /// <param name="Timeout">How long to wait for the registry.</param>
    internal sealed record Resolver(IActorRef Registry, Func<QueueOptions, (Func<Props> Queue, Func<Props>? Check)?> PropsFor, TimeSpan Timeout);

    private sealed class ResolveTimedOut : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly ResolveTimedOut Instance = new();
        private ResolveTimedOut() { }
    }

    private sealed class StopUnresolved
    {
        public static readonly StopUnresolved Instance = new();
        private StopUnresolved() { }
    }

    private sealed class RetryCheck
    {
        public static readonly RetryCheck Instance = new();
        private RetryCheck() { }
    }

    private sealed class RestartQueue
    {
        public static readonly RestartQueue Instance = new();
        private RestartQueue() { }
    }
}

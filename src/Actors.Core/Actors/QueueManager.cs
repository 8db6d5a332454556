using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Handlers;
using Actors.Protocol;
using Akka.Actor;
using Akka.Event;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueQueries;

namespace Actors.Actors;

/// <summary>
/// The top-level actor of a node's queues: starts one <see cref="QueueActor"/> per declared queue, routes every
/// <see cref="IWithQueueId"/> message to it, and restarts a queue that stopped (a journal failure stops it) with
/// exponential backoff. While a queue is down, its commands are answered at once with a clear
/// <see cref="RejectionCode.JournalUnavailable"/> instead of timing out.
/// </summary>
internal sealed class QueueManager : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    private readonly IReadOnlyDictionary<string, QueueOptions> _queues;
    private readonly HandlerRegistry _handlers;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;
    private readonly TimeSpan _drainTimeout;
    private readonly Dictionary<string, QueueEntry> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, string> _names = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private DrainAll? _drain;

    public QueueManager(IReadOnlyDictionary<string, QueueOptions> queues, HandlerRegistry handlers, IServiceProvider services, TimeProvider time, TimeSpan drainTimeout)
    {
        _queues = queues;
        _handlers = handlers;
        _services = services;
        _time = time;
        _drainTimeout = drainTimeout;

        Receive<IWithQueueId>(Route);
        Receive<ListQueues>(_ => Sender.Tell(new QueueNames(_entries.Keys.Order(StringComparer.Ordinal).ToImmutableArray())));
        Receive<QueueRecovered>(r =>
        {
            if (_entries.TryGetValue(r.QueueId, out var entry)) entry.Restarts = 0;
        });
        Receive<Terminated>(OnTerminated);
        Receive<RestartQueue>(r => Start(r.QueueId));
        Receive<Drain>(_ => OnDrain());
        Receive<Drained>(OnQueueDrained);
        Receive<DrainTimedOut>(_ => FinishDrain());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props for the manager of a node's queues.</summary>
    public static Props Props(IReadOnlyDictionary<string, QueueOptions> queues, HandlerRegistry handlers, IServiceProvider services, TimeProvider time, TimeSpan drainTimeout) =>
        Akka.Actor.Props.Create(() => new QueueManager(queues, handlers, services, time, drainTimeout));

    protected override void PreStart()
    {
        foreach (var name in _queues.Keys) Start(name);
    }

    private void Start(string queueId)
    {
        if (!_entries.TryGetValue(queueId, out var entry))
        {
            entry = new QueueEntry();
            _entries[queueId] = entry;
        }
        if (_drain is not null) return;
        var queue = Context.ActorOf(QueueActor.Props(queueId, _queues[queueId], _handlers, _services, _time, _drainTimeout), queueId);
        Context.Watch(queue);
        entry.Ref = queue;
        _names[queue] = queueId;
    }

    private void Route(IWithQueueId message)
    {
        if (!_entries.TryGetValue(message.QueueId, out var entry))
        {
            ReplyUnavailable(message, RejectionCode.UnknownQueue, $"Queue '{message.QueueId}' does not exist.");
            return;
        }
        if (entry.Ref is null)
        {
            var reason = _drain is not null
                ? $"Queue '{message.QueueId}' is shutting down."
                : $"Queue '{message.QueueId}' is restarting after a journal failure; retry shortly.";
            ReplyUnavailable(message, _drain is not null ? RejectionCode.ShuttingDown : RejectionCode.JournalUnavailable, reason);
            return;
        }
        entry.Ref.Forward(message);
    }

    private void ReplyUnavailable(IWithQueueId message, RejectionCode code, string reason)
    {
        object? reply = message switch
        {
            Enqueue e => new Rejected(e.QueueId, code, reason, e.CorrelationId),
            EnqueueBatch b => new BatchResult(b.QueueId,
                b.Messages.Select(_ => new EnqueueOutcome(null, code, reason)).ToImmutableArray(), b.CorrelationId),
            GetMessage or GetStats or DeadLetterCommands.ListDeadLetters or DeadLetterCommands.GroupDeadLetters
                or DeadLetterCommands.RedriveDeadLetters or DeadLetterCommands.PurgeDeadLetters =>
                code == RejectionCode.UnknownQueue ? new QueueNotFound(message.QueueId) : new QueueUnavailable(message.QueueId, reason),
            _ => null,
        };
        if (reply is not null) Sender.Tell(reply);
        else _log.Warning("Dropping {0} for queue {1}: {2}", message.GetType().Name, message.QueueId, reason);
    }

    private void OnTerminated(Terminated terminated)
    {
        if (!_names.Remove(terminated.ActorRef, out var queueId)) return;
        var entry = _entries[queueId];
        entry.Ref = null;
        if (_drain is not null)
        {
            _drain.Pending.Remove(queueId);
            if (_drain.Pending.Count == 0) FinishDrain();
            return;
        }
        entry.Restarts++;
        var backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, MinBackoff.Ticks * (1L << Math.Min(entry.Restarts - 1, 20))));
        backoff += TimeSpan.FromTicks((long)(backoff.Ticks * 0.2 * Random.Shared.NextDouble()));
        _log.Warning("Queue {0} stopped; restarting in {1} (restart {2})", queueId, backoff, entry.Restarts);
        Timers.StartSingleTimer("restart-" + queueId, new RestartQueue(queueId), backoff);
    }

    private void OnDrain()
    {
        if (_drain is not null)
        {
            _drain.Requesters.Add(Sender);
            return;
        }
        _drain = new DrainAll();
        _drain.Requesters.Add(Sender);
        foreach (var (name, entry) in _entries)
        {
            Timers.Cancel("restart-" + name);
            if (entry.Ref is null) continue;
            _drain.Pending.Add(name);
            entry.Ref.Tell(Drain.Instance);
        }
        Timers.StartSingleTimer("drain", DrainTimedOut.Instance, _drainTimeout + TimeSpan.FromSeconds(1));
        if (_drain.Pending.Count == 0) FinishDrain();
    }

    private void OnQueueDrained(Drained drained)
    {
        if (_drain is null) return;
        _drain.Unfinished += drained.Unfinished;
        _drain.Pending.Remove(drained.QueueId);
        if (_drain.Pending.Count == 0) FinishDrain();
    }

    private void FinishDrain()
    {
        if (_drain is null || _drain.Finished) return;
        _drain.Finished = true;
        Timers.Cancel("drain");
        foreach (var requester in _drain.Requesters) requester.Tell(new Drained("*", _drain.Unfinished + _drain.Pending.Count));
    }

    /// <summary>A queue finished recovery; its restart backoff resets.</summary>
    internal sealed record QueueRecovered(string QueueId);

    private sealed record RestartQueue(string QueueId);

    private sealed class DrainTimedOut
    {
        public static readonly DrainTimedOut Instance = new();
        private DrainTimedOut() { }
    }

    private sealed class QueueEntry
    {
        public IActorRef? Ref { get; set; }
        public int Restarts { get; set; }
    }

    private sealed class DrainAll
    {
        public HashSet<string> Pending { get; } = new(StringComparer.Ordinal);
        public List<IActorRef> Requesters { get; } = new();
        public int Unfinished { get; set; }
        public bool Finished { get; set; }
    }
}

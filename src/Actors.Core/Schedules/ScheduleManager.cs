using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using static Actors.Schedules.ScheduleCommands;

namespace Actors.Schedules;

/// <summary>
/// The entry point to a node's schedules: every <see cref="IWithScheduleId"/> command goes through it. It refuses a
/// definition whose queue is not declared, and forwards the rest to the schedule: on a standalone node its child
/// (created on demand), in a cluster the schedules' shard region (a sharding entity per schedule).
/// <para>Which schedules exist is read from the journal itself: the persistence ids that start with
/// <c>schedule-</c> (<see cref="ScheduleActor.PersistenceIdPrefix"/>), so nothing else has to be kept in step. At
/// start, and in a cluster whenever a member is removed and every <see cref="RefreshInterval"/>, the manager reads
/// them and wakes each schedule; in a cluster it also wakes the ids it knows every <see cref="WakeInterval"/>, so a
/// schedule whose node died resumes on its shard's new node within the failover time. A deleted schedule answers a
/// wake with <see cref="ScheduleGone"/> and is not woken again by this node.</para>
/// <para>Schedules declared in configuration are upserted at start (an unchanged one stays as it is).</para>
/// </summary>
internal sealed class ScheduleManager : ReceiveActor, IWithTimers
{
    /// <summary>How often, in a cluster, the known schedules are woken (cheap: one message each).</summary>
    public static readonly TimeSpan WakeInterval = TimeSpan.FromSeconds(5);

    /// <summary>How soon a failed read of the schedule ids is tried again.</summary>
    public static readonly TimeSpan ReadRetryDelay = TimeSpan.FromSeconds(2);

    /// <summary>How often, in a cluster, the list of schedules is read again from the journal.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(5);

    private static readonly TimeSpan RestartDelay = TimeSpan.FromSeconds(1);

    private readonly Func<string, bool> _queueExists;
    private readonly Func<string, Props> _scheduleProps;
    private readonly IActorRef? _region;
    private readonly IReadOnlyDictionary<string, ScheduleDefinition> _declared;
    private readonly Dictionary<string, IActorRef> _children = new(StringComparer.Ordinal);
    // Standalone: children asked to stop, by ref, with what arrived for their id meanwhile (delivered to a new child
    // once the old one has stopped, so two actors never write the same schedule's journal at once).
    private readonly Dictionary<IActorRef, (string Id, List<(object Message, IActorRef Sender)> Waiting)> _passivating = new();
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);
    private readonly HashSet<string> _gone = new(StringComparer.Ordinal);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IMaterializer _materializer = Context.Materializer();

    public ScheduleManager(Func<string, bool> queueExists, Func<string, Props> scheduleProps, IActorRef? region, IReadOnlyDictionary<string, ScheduleDefinition> declared)
    {
        _queueExists = queueExists;
        _scheduleProps = scheduleProps;
        _region = region;
        _declared = declared;

        Receive<ScheduleAccepted>(a => _log.Info("Schedule {0} from configuration: {1}", a.ScheduleId, a.Created ? "created" : a.Changed ? "updated" : "unchanged"));
        Receive<ScheduleRejected>(r => _log.Error("Schedule {0} from configuration refused: {1}", r.ScheduleId, r.Reason));
        Receive<ScheduleGone>(g =>
        {
            _gone.Add(g.ScheduleId);
            _known.Remove(g.ScheduleId);
        });
        Receive<DefineSchedule>(OnDefine);
        Receive<IWithScheduleId>(m => Send(m.ScheduleId, m));
        Receive<ListSchedules>(_ => ReadIds(Sender));
        Receive<IdsRead>(OnIdsRead);
        Receive<IdsReadFailed>(OnIdsReadFailed);
        Receive<Passivate>(p =>
        {
            // Standalone: a child that does not exist (or was deleted) asks to stop, as a sharding entity would.
            var id = _children.FirstOrDefault(c => c.Value.Equals(Sender)).Key;
            if (id is null || _passivating.ContainsKey(Sender)) return;
            _children.Remove(id);
            _passivating[Sender] = (id, new List<(object, IActorRef)>());
            Sender.Tell(p.StopMessage);
        });
        Receive<Terminated>(OnTerminated);
        Receive<Restart>(r =>
        {
            if (!_children.ContainsKey(r.ScheduleId)) Target(r.ScheduleId).Tell(new WakeSchedule(r.ScheduleId));
        });
        Receive<WakeKnown>(_ => WakeAll(_known));
        Receive<RefreshIds>(_ => ReadIds(ActorRefs.Nobody));
        Receive<ClusterEvent.MemberRemoved>(_ => ReadIds(ActorRefs.Nobody));
        Receive<ClusterEvent.IMemberEvent>(_ => { });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props for the manager of a node's schedules.</summary>
    /// <param name="queueExists">Whether a queue exists, configured or declared at run time (a definition naming another queue is refused).</param>
    /// <param name="scheduleProps">Props of a schedule by id (standalone: started here as children).</param>
    /// <param name="region">In a cluster, the schedules' shard region or proxy; null on a standalone node.</param>
    /// <param name="declared">Schedules declared in configuration, upserted at start.</param>
    public static Props Props(Func<string, bool> queueExists, Func<string, Props> scheduleProps, IActorRef? region, IReadOnlyDictionary<string, ScheduleDefinition> declared) =>
        Akka.Actor.Props.Create(() => new ScheduleManager(queueExists, scheduleProps, region, declared));

    protected override void PreStart()
    {
        foreach (var (id, definition) in _declared) Self.Tell(new DefineSchedule(id, definition));
        // Read from the first message, not here: opening the read journal can fail while the journal starts (a slow
        // database), and a failure in PreStart would stop the manager with the declared schedules undelivered.
        Self.Tell(RefreshIds.Instance);
        if (_region is null) return;
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberRemoved));
        Timers.StartPeriodicTimer("wake", WakeKnown.Instance, WakeInterval);
        Timers.StartPeriodicTimer("refresh", RefreshIds.Instance, RefreshInterval);
    }

    protected override void PostStop()
    {
        if (_region is not null) Cluster.Get(Context.System).Unsubscribe(Self);
    }

    private void OnDefine(DefineSchedule define)
    {
        if (!_queueExists(define.Definition.Queue))
        {
            Sender.Tell(new ScheduleRejected(define.ScheduleId, ScheduleErrorCode.UnknownQueue, $"Queue '{define.Definition.Queue}' does not exist."));
            return;
        }
        _known.Add(define.ScheduleId);
        _gone.Remove(define.ScheduleId);
        Send(define.ScheduleId, define);
    }

    /// <summary>Forwards to the schedule's actor; while its previous actor is stopping, holds the message until it has.</summary>
    private void Send(string id, object message)
    {
        if (_region is null)
        {
            foreach (var (_, stopping) in _passivating)
            {
                if (stopping.Id != id) continue;
                stopping.Waiting.Add((message, Sender));
                return;
            }
        }
        Target(id).Forward(message);
    }

    private IActorRef Target(string id)
    {
        if (_region is not null) return _region;
        if (_children.TryGetValue(id, out var child)) return child;
        child = Context.ActorOf(_scheduleProps(id), Uri.EscapeDataString(id) + "-" + Guid.NewGuid().ToString("N")[..6]);
        Context.Watch(child);
        _children[id] = child;
        return child;
    }

    private void OnTerminated(Terminated terminated)
    {
        if (_passivating.Remove(terminated.ActorRef, out var stopped))
        {
            foreach (var (message, sender) in stopped.Waiting) Target(stopped.Id).Tell(message, sender);
            return;
        }
        var id = _children.FirstOrDefault(c => c.Value.Equals(terminated.ActorRef)).Key;
        if (id is null) return;
        // Stopped by a journal failure: start it again shortly; it recovers from the journal.
        _children.Remove(id);
        Timers.StartSingleTimer("restart-" + id, new Restart(id), RestartDelay);
    }

    private void ReadIds(IActorRef requester)
    {
        try
        {
            var journal = PersistenceQuery.Get(Context.System).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
            journal.CurrentPersistenceIds()
                .Where(id => id.StartsWith(ScheduleActor.PersistenceIdPrefix, StringComparison.Ordinal))
                .Select(id => id[ScheduleActor.PersistenceIdPrefix.Length..])
                .RunWith(Sink.Seq<string>(), _materializer)
                .PipeTo(Self, success: ids => new IdsRead(ids.ToImmutableArray(), requester), failure: e => new IdsReadFailed(e, requester));
        }
        catch (Exception e) when (e is TimeoutException or AggregateException or InvalidOperationException or Akka.Actor.AskTimeoutException)
        {
            OnIdsReadFailed(new IdsReadFailed(e, requester));
        }
    }

    /// <summary>The journal could not list the schedules: answer with what is known, and try again shortly.</summary>
    private void OnIdsReadFailed(IdsReadFailed failed)
    {
        _log.Warning("Reading the schedule ids from the journal failed ({0}); trying again in {1}", failed.Cause.Message, ReadRetryDelay);
        if (!failed.Requester.IsNobody()) OnIdsRead(new IdsRead(ImmutableArray<string>.Empty, failed.Requester));
        Timers.StartSingleTimer("read-ids", RefreshIds.Instance, ReadRetryDelay);
    }

    private void OnIdsRead(IdsRead read)
    {
        foreach (var id in read.Ids)
        {
            if (!_gone.Contains(id)) _known.Add(id);
        }
        if (!read.Requester.IsNobody())
        {
            var ids = read.Ids.Concat(_known).Concat(_declared.Keys).Where(id => !_gone.Contains(id)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
            read.Requester.Tell(new ScheduleIds(ids.ToImmutableArray()));
            return;
        }
        WakeAll(_known);
    }

    private void WakeAll(IEnumerable<string> ids)
    {
        foreach (var id in ids.ToList())
        {
            if (_region is null && _children.ContainsKey(id)) continue;
            Target(id).Tell(new WakeSchedule(id));
        }
    }

    private sealed record IdsRead(ImmutableArray<string> Ids, IActorRef Requester);

    private sealed record IdsReadFailed(Exception Cause, IActorRef Requester);

    private sealed record Restart(string ScheduleId);

    private sealed class WakeKnown : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly WakeKnown Instance = new();
        private WakeKnown() { }
    }

    private sealed class RefreshIds : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly RefreshIds Instance = new();
        private RefreshIds() { }
    }
}

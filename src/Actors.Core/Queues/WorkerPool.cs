using Akka.Actor;

namespace Actors.Queues;

/// <summary>
/// The queue's view of its consumer pool: the pool router, one slot per live worker it learned, each slot's
/// outstanding deliveries, the choice of the next worker within prefetch, the pace of replacements, and retirement
/// when the queue drains. It creates and watches nothing: the actor does, with what this class tells it.
/// <para>A slot names the holder of its deliveries while any is outstanding; once its worker stopped and every
/// delivery it held was taken back, the slot is free for the next worker learned, so the slots never outnumber the
/// workers the pool has had at once. A stopped worker is remembered (never learned again from a router's stale list)
/// only until its router no longer lists it.</para>
/// <para>Every live worker is active (may be picked) unless an autoscaler set an active target (see WorkerPool.Active.cs).</para>
/// <para>Attached consumers (see WorkerPool.Consumers.cs) take slots too, each with its own prefetch: they are picked
/// like workers, but are not the pool's (they count in neither its size nor its active set, are never replaced or
/// abandoned, and hand back what they hold when they go).</para>
/// </summary>
internal sealed partial class WorkerPool
{
    private readonly List<WorkerSlot> _slots = new();
    private readonly Dictionary<IActorRef, int> _slotOf = new();
    private readonly HashSet<IActorRef> _stopped = new();
    private readonly int _prefetch;
    private int _nextSlot;
    private int _routerIncarnation;
    private int _replacementStreak;
    private DateTime _lastReplacementAt;

    /// <summary>Replacements in quick succession that are asked for at once; later ones wait (see <see cref="ScheduleReplacement"/>).</summary>
    public const int ImmediateReplacements = 3;

    /// <summary>Time without a replacement after which replacements are asked for at once again.</summary>
    public static readonly TimeSpan ReplacementCalm = TimeSpan.FromMinutes(1);

    /// <summary>First wait before a replacement beyond <see cref="ImmediateReplacements"/>; it doubles up to <see cref="MaxReplacementDelay"/>.</summary>
    public static readonly TimeSpan MinReplacementDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest wait before a replacement.</summary>
    public static readonly TimeSpan MaxReplacementDelay = TimeSpan.FromSeconds(10);

    /// <summary>Restarts of one worker within <see cref="RestartWindow"/> after which it is stopped and replaced.</summary>
    public const int RestartsPerWindow = 10;

    /// <summary>The window <see cref="RestartsPerWindow"/> counts restarts in.</summary>
    public static readonly TimeSpan RestartWindow = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How the pool router supervises its workers: a crashed worker restarts (its deliveries go back to the queue
    /// first), at most <see cref="RestartsPerWindow"/> times within <see cref="RestartWindow"/>; one that crashes more
    /// often is stopped, and the queue replaces it at the pace of <see cref="ScheduleReplacement"/>.
    /// </summary>
    public static SupervisorStrategy Supervision() => new OneForOneStrategy(RestartsPerWindow, RestartWindow, _ => Directive.Restart);

    /// <summary>A pool that gives each worker at most <paramref name="prefetch"/> deliveries at once.</summary>
    public WorkerPool(int prefetch) => _prefetch = prefetch;

    /// <summary>The current pool router (Nobody before the first one starts).</summary>
    public IActorRef Router { get; private set; } = ActorRefs.Nobody;

    /// <summary>
    /// Set once the queue drains: a retired pool takes no new deliveries and is not replenished when workers or its
    /// router stop. Persist callbacks, which run outside the actor's behaviours, read it.
    /// </summary>
    public bool Retired { get; private set; }

    /// <summary>Slots in use or free for reuse.</summary>
    public int SlotCount => _slots.Count;

    /// <summary>Stopped workers remembered until their router no longer lists them.</summary>
    public int StoppedCount => _stopped.Count;

    /// <summary>Workers stopped because a lease ran out on them (see <see cref="Abandon"/>), since the queue started.</summary>
    public long AbandonedCount { get; private set; }

    /// <summary>Replacement workers decided on and not asked for yet (see <see cref="TakeReplacements"/>).</summary>
    public int PendingReplacements { get; private set; }

    /// <summary>Workers learned and not stopped (attached consumers are not counted).</summary>
    public int AliveCount
    {
        get
        {
            var alive = 0;
            foreach (var slot in _slots) if (slot.Alive && !slot.External) alive++;
            return alive;
        }
    }

    /// <summary>Deliveries held by live workers and attached consumers.</summary>
    public int Outstanding
    {
        get
        {
            var outstanding = 0;
            foreach (var slot in _slots) if (slot.Alive) outstanding += slot.Outstanding;
            return outstanding;
        }
    }

    /// <summary>Workers learned and not stopped, in slot order (attached consumers are not listed).</summary>
    public IEnumerable<IActorRef> AliveWorkers
    {
        get
        {
            foreach (var slot in _slots) if (slot.Alive && !slot.External) yield return slot.Ref;
        }
    }

    /// <summary>The child name for the next pool router: "workers", then "workers-2", "workers-3"...</summary>
    public string NextRouterName() => _routerIncarnation++ == 0 ? "workers" : $"workers-{_routerIncarnation}";

    /// <summary>Uses <paramref name="router"/> as the pool's router from now on.</summary>
    public void UseRouter(IActorRef router) => Router = router;

    /// <summary>Whether <paramref name="actor"/> is the current pool router.</summary>
    public bool IsRouter(IActorRef actor) => actor.Equals(Router);

    /// <summary>
    /// Learns the routees a router reported: returns the new ones (the caller watches them). Stopped workers the
    /// report no longer lists are forgotten: their router removed them, so no later report brings them back.
    /// </summary>
    public List<IActorRef> Learn(IReadOnlyCollection<IActorRef> routees)
    {
        if (_stopped.Count > 0)
        {
            var listed = routees as ISet<IActorRef> ?? new HashSet<IActorRef>(routees);
            _stopped.RemoveWhere(worker => !listed.Contains(worker));
        }
        var added = new List<IActorRef>();
        foreach (var worker in routees)
            if (TryAdd(worker)) added.Add(worker);
        if (added.Count > 0) Rebalance();
        return added;
    }

    /// <summary>
    /// Learns a routee into a free slot or a new one; true when it is new (the caller watches it), false when known or
    /// already stopped. Under an active target it starts inactive, until <see cref="Rebalance"/> picks it.
    /// </summary>
    public bool TryAdd(IActorRef worker)
    {
        if (_slotOf.ContainsKey(worker) || _stopped.Contains(worker)) return false;
        Place(new WorkerSlot(worker, _prefetch) { Active = _activeTarget is null });
        return true;
    }

    /// <summary>Puts <paramref name="added"/> into a free slot (one whose holder is gone and holds nothing) or a new one.</summary>
    private int Place(WorkerSlot added)
    {
        var slot = _slots.FindIndex(static s => !s.Alive && s.Outstanding <= 0);
        if (slot < 0)
        {
            slot = _slots.Count;
            _slots.Add(added);
        }
        else _slots[slot] = added;
        _slotOf[added.Ref] = slot;
        return slot;
    }

    /// <summary>
    /// The active worker or attached consumer with the fewest outstanding deliveries below its prefetch, rotating among
    /// equals; -1 when all are full or the pool is retired.
    /// </summary>
    public int PickWorker()
    {
        if (Retired) return -1;
        var best = -1;
        var count = _slots.Count;
        for (var i = 0; i < count; i++)
        {
            var slot = (_nextSlot + i) % count;
            var worker = _slots[slot];
            if (!worker.Active || worker.Outstanding >= worker.Prefetch) continue;
            if (best < 0 || worker.Outstanding < _slots[best].Outstanding) best = slot;
            if (worker.Outstanding == 0) break;
        }
        if (best >= 0) _nextSlot = (best + 1) % count;
        return best;
    }

    /// <summary>Counts one more delivery at <paramref name="slot"/> (one <see cref="PickWorker"/> returned) and returns its worker.</summary>
    public IActorRef Take(int slot)
    {
        var worker = _slots[slot];
        worker.Outstanding++;
        return worker.Ref;
    }

    /// <summary>Counts one delivery at <paramref name="slot"/> finished; a slot this pool never had is ignored.</summary>
    public void Release(int slot)
    {
        if (slot >= 0 && slot < _slots.Count) _slots[slot].Outstanding--;
    }

    /// <summary>The worker that holds (or held, if it stopped since) the deliveries of <paramref name="slot"/>; null for a slot this pool does not have.</summary>
    public IActorRef? HolderOf(int slot) => slot >= 0 && slot < _slots.Count ? _slots[slot].Ref : null;

    /// <summary>
    /// A worker stopped: its slot takes no more deliveries and the worker is never learned again. Returns false for an
    /// actor that is not a known live worker; otherwise <paramref name="slot"/> is where its deliveries are held.
    /// </summary>
    public bool TryRemove(IActorRef worker, out int slot)
    {
        if (!_slotOf.TryGetValue(worker, out slot) || _slots[slot].External) return false;
        _slotOf.Remove(worker);
        _stopped.Add(worker);
        _slots[slot].Alive = false;
        _slots[slot].Active = false;
        Rebalance();
        return true;
    }

    /// <summary>
    /// The worker at <paramref name="slot"/> let a lease run out: it is taken for wedged (a handler that ignores its
    /// cancellation token) and treated as stopped at once, so its slot attracts no new delivery. Returns the worker, for
    /// the caller to stop and replace; null when the slot holds no live worker.
    /// </summary>
    public IActorRef? Abandon(int slot)
    {
        if (slot < 0 || slot >= _slots.Count || !_slots[slot].Alive || _slots[slot].External) return null;
        var worker = _slots[slot].Ref;
        TryRemove(worker, out _);
        AbandonedCount++;
        return worker;
    }

    /// <summary>
    /// Counts one replacement worker to ask the router for and says when: at once for the first
    /// <see cref="ImmediateReplacements"/> in a row, then after a wait that doubles from <see cref="MinReplacementDelay"/>
    /// to <see cref="MaxReplacementDelay"/>, so a worker that keeps dying does not spin; a <see cref="ReplacementCalm"/>
    /// without replacements starts over.
    /// </summary>
    public TimeSpan ScheduleReplacement(DateTime now)
    {
        if (now - _lastReplacementAt >= ReplacementCalm) _replacementStreak = 0;
        _lastReplacementAt = now;
        _replacementStreak++;
        PendingReplacements++;
        if (_replacementStreak <= ImmediateReplacements) return TimeSpan.Zero;
        var doublings = Math.Min(_replacementStreak - ImmediateReplacements - 1, 20);
        return TimeSpan.FromTicks(Math.Min(MaxReplacementDelay.Ticks, MinReplacementDelay.Ticks << doublings));
    }

    /// <summary>The replacements to ask for now (zero when none are pending or the pool is retired); they are no longer pending.</summary>
    public int TakeReplacements()
    {
        var count = Retired ? 0 : PendingReplacements;
        PendingReplacements = 0;
        return count;
    }

    /// <summary>Retires the pool for a drain (see <see cref="Retired"/>).</summary>
    public void Retire() => Retired = true;

    private sealed class WorkerSlot(IActorRef worker, int prefetch, bool external = false)
    {
        public IActorRef Ref { get; } = worker;

        /// <summary>Most deliveries it may hold at once.</summary>
        public int Prefetch { get; set; } = prefetch;

        /// <summary>An attached consumer, not one of the pool's workers.</summary>
        public bool External { get; } = external;

        public int Outstanding { get; set; }
        public bool Alive { get; set; } = true;

        /// <summary>Alive and in the active set: it may get new deliveries.</summary>
        public bool Active { get; set; } = true;
    }
}

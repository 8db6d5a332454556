using Akka.Actor;

namespace Actors.Queues;

/// <summary>
/// The queue's view of its consumer pool: the pool router, one slot per worker it learned (a slot is never reused, so
/// a delivery's slot names its holder for good), each slot's outstanding deliveries, the choice of the next worker
/// within prefetch, and retirement when the queue drains. It creates and watches nothing: the actor does, with what
/// this class tells it.
/// </summary>
internal sealed class WorkerPool
{
    private readonly List<WorkerSlot> _slots = new();
    private readonly Dictionary<IActorRef, int> _slotOf = new();
    private readonly HashSet<IActorRef> _stopped = new();
    private readonly int _prefetch;
    private int _nextSlot;
    private int _routerIncarnation;

    /// <summary>A pool that gives each worker at most <paramref name="prefetch"/> deliveries at once.</summary>
    public WorkerPool(int prefetch) => _prefetch = prefetch;

    /// <summary>The current pool router (Nobody before the first one starts).</summary>
    public IActorRef Router { get; private set; } = ActorRefs.Nobody;

    /// <summary>
    /// Set once the queue drains: a retired pool takes no new deliveries and is not replenished when workers or its
    /// router stop. Persist callbacks, which run outside the actor's behaviours, read it.
    /// </summary>
    public bool Retired { get; private set; }

    /// <summary>Slots learned so far, live or not.</summary>
    public int SlotCount => _slots.Count;

    /// <summary>Workers learned and not stopped.</summary>
    public int AliveCount
    {
        get
        {
            var alive = 0;
            foreach (var slot in _slots) if (slot.Alive) alive++;
            return alive;
        }
    }

    /// <summary>Deliveries held by live workers.</summary>
    public int Outstanding
    {
        get
        {
            var outstanding = 0;
            foreach (var slot in _slots) if (slot.Alive) outstanding += slot.Outstanding;
            return outstanding;
        }
    }

    /// <summary>Workers learned and not stopped, in slot order.</summary>
    public IEnumerable<IActorRef> AliveWorkers
    {
        get
        {
            foreach (var slot in _slots) if (slot.Alive) yield return slot.Ref;
        }
    }

    /// <summary>The child name for the next pool router: "workers", then "workers-2", "workers-3"...</summary>
    public string NextRouterName() => _routerIncarnation++ == 0 ? "workers" : $"workers-{_routerIncarnation}";

    /// <summary>Uses <paramref name="router"/> as the pool's router from now on.</summary>
    public void UseRouter(IActorRef router) => Router = router;

    /// <summary>Whether <paramref name="actor"/> is the current pool router.</summary>
    public bool IsRouter(IActorRef actor) => actor.Equals(Router);

    /// <summary>Learns a routee; true when it is new (the caller watches it), false when known or already stopped.</summary>
    public bool TryAdd(IActorRef worker)
    {
        if (_slotOf.ContainsKey(worker) || _stopped.Contains(worker)) return false;
        _slotOf[worker] = _slots.Count;
        _slots.Add(new WorkerSlot(worker));
        return true;
    }

    /// <summary>
    /// The live worker with the fewest outstanding deliveries below prefetch, rotating among equals; -1 when all are
    /// full or the pool is retired.
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
            if (!worker.Alive || worker.Outstanding >= _prefetch) continue;
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

    /// <summary>The worker that holds (or held, if it stopped since) the deliveries of <paramref name="slot"/>; null for a slot this pool never had.</summary>
    public IActorRef? HolderOf(int slot) => slot >= 0 && slot < _slots.Count ? _slots[slot].Ref : null;

    /// <summary>
    /// A worker stopped: its slot takes no more deliveries and the worker is never learned again. Returns false for an
    /// actor that is not a known live worker; otherwise <paramref name="slot"/> is where its deliveries are held.
    /// </summary>
    public bool TryRemove(IActorRef worker, out int slot)
    {
        if (!_slotOf.Remove(worker, out slot)) return false;
        _stopped.Add(worker);
        _slots[slot].Alive = false;
        return true;
    }

    /// <summary>Retires the pool for a drain (see <see cref="Retired"/>).</summary>
    public void Retire() => Retired = true;

    private sealed class WorkerSlot(IActorRef worker)
    {
        public IActorRef Ref { get; } = worker;
        public int Outstanding { get; set; }
        public bool Alive { get; set; } = true;
    }
}

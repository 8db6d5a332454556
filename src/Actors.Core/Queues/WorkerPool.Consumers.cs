using Akka.Actor;

namespace Actors.Queues;

/// <summary>
/// Attached consumers (see <see cref="Protocol.ConsumerProtocol"/>): actors outside the pool that take deliveries like
/// its workers. Each has a slot with its own prefetch and is always active; it is not learned from a router, never
/// remembered as stopped (it may attach again), replaced or abandoned. Detached, its slot takes no more deliveries and
/// is free once what it held is handed back.
/// </summary>
internal sealed partial class WorkerPool
{
    /// <summary>Consumers attached now.</summary>
    public int ConsumerCount { get; private set; }

    /// <summary>Whether a consumer was ever attached (until then no report needs its sender checked).</summary>
    public bool HadConsumers { get; private set; }

    /// <summary>The consumers attached now.</summary>
    public IEnumerable<IActorRef> Consumers => _slots.Where(s => s.External && s.Alive).Select(s => s.Ref);

    /// <summary>
    /// Attaches <paramref name="consumer"/> with <paramref name="prefetch"/> (at least 1): true when it is new (the caller
    /// watches it); false when it was attached already, and only its prefetch changes.
    /// </summary>
    public bool Attach(IActorRef consumer, int prefetch)
    {
        prefetch = Math.Max(1, prefetch);
        if (_slotOf.TryGetValue(consumer, out var known))
        {
            if (!_slots[known].External) return false;
            _slots[known].Prefetch = prefetch;
            return false;
        }
        Place(new WorkerSlot(consumer, prefetch, external: true));
        ConsumerCount++;
        HadConsumers = true;
        return true;
    }

    /// <summary>
    /// Detaches <paramref name="consumer"/>: its slot takes no more deliveries. False when it is not an attached consumer;
    /// otherwise <paramref name="slot"/> is where its deliveries are held (the caller hands them back).
    /// </summary>
    public bool TryDetach(IActorRef consumer, out int slot)
    {
        if (!_slotOf.TryGetValue(consumer, out slot) || !_slots[slot].External) return false;
        _slotOf.Remove(consumer);
        _slots[slot].Alive = false;
        _slots[slot].Active = false;
        ConsumerCount--;
        return true;
    }

    /// <summary>Whether <paramref name="slot"/> is (or was) an attached consumer's.</summary>
    public bool IsConsumerSlot(int slot) => slot >= 0 && slot < _slots.Count && _slots[slot].External;

    /// <summary>
    /// Whether a report from <paramref name="sender"/> about a delivery held at <paramref name="slot"/> counts: a
    /// consumer's delivery only from that consumer while it is attached (a report from one that detached, about a
    /// delivery handed back and given to another, is stale); a pool worker's from anyone, as the attempt fences it.
    /// </summary>
    public bool AcceptsReport(int slot, IActorRef sender)
    {
        if (!IsConsumerSlot(slot)) return true;
        var holder = _slots[slot];
        return holder.Alive && holder.Ref.Equals(sender);
    }
}

using System.Collections.Immutable;
using Actors.Configuration;

namespace Actors.Queues;

/// <summary>
/// The queues a node knows: the ones declared in configuration (fixed at start) and the ones declared at run time (see
/// <see cref="Protocol.QueueRegistryProtocol"/>), which the node's queue manager adds as it hears of them from the queue
/// registry. Read from any thread (queue hosts' props, continuation checks, partition checks); a queue once added is
/// never changed, and removed only when it is deleted (<see cref="Remove"/>).
/// </summary>
internal sealed class QueueCatalog
{
    private readonly ImmutableDictionary<string, QueueOptions> _configured;
    private ImmutableDictionary<string, QueueOptions> _all;

    /// <summary>A catalog of the queues declared in configuration.</summary>
    public QueueCatalog(IEnumerable<KeyValuePair<string, QueueOptions>> configured)
    {
        _configured = ImmutableDictionary.CreateRange(StringComparer.Ordinal, configured);
        _all = _configured;
    }

    /// <summary>Every queue known now, configured and declared at run time.</summary>
    public ImmutableDictionary<string, QueueOptions> Queues => Volatile.Read(ref _all);

    /// <summary>True when <paramref name="queue"/> is known.</summary>
    public bool Contains(string queue) => Queues.ContainsKey(queue);

    /// <summary>True when <paramref name="queue"/> is declared in configuration.</summary>
    public bool IsConfigured(string queue) => _configured.ContainsKey(queue);

    /// <summary>The options of a known queue.</summary>
    public bool TryGet(string queue, out QueueOptions options) => Queues.TryGetValue(queue, out options!);

    /// <summary>Removes a queue declared at run time (it was deleted); false for a configured or unknown one.</summary>
    public bool Remove(string queue)
    {
        if (_configured.ContainsKey(queue)) return false;
        while (true)
        {
            var current = Volatile.Read(ref _all);
            if (!current.ContainsKey(queue)) return false;
            if (Interlocked.CompareExchange(ref _all, current.Remove(queue), current) == current) return true;
        }
    }

    /// <summary>
    /// Adds a queue declared at run time; false (and nothing changes) when the name is already known, configured or
    /// not: the first options a name got are the ones it keeps.
    /// </summary>
    public bool Add(string queue, QueueOptions options)
    {
        while (true)
        {
            var current = Volatile.Read(ref _all);
            if (current.ContainsKey(queue)) return false;
            if (Interlocked.CompareExchange(ref _all, current.Add(queue, options), current) == current) return true;
        }
    }
}

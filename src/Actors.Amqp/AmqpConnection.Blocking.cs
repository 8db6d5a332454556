using Actors.Amqp.Codec;
using Actors.Client;
using Actors.Protocol;
using static Actors.Amqp.Codec.AmqpMethod;

namespace Actors.Amqp;

/// <summary>
/// <c>connection.blocked</c> and <c>connection.unblocked</c>, for a client that announced the capability: a publish a
/// queue refuses because it is full blocks the connection, with a reason naming the queue; it is unblocked once every
/// such queue accepts again, which a probe of the queue's statistics each second sees (it holds fewer messages than
/// when the probe first looked) or a later publish that the queue stores shows. The notices are advice, as RabbitMQ's
/// are to a client: the server keeps reading, and a publish to a full queue is still nacked.
/// </summary>
internal sealed partial class AmqpConnection
{
    private static readonly TimeSpan BlockedProbeInterval = TimeSpan.FromSeconds(1);
    private readonly object _blockGate = new();
    // Each full queue, with what it held at the first probe (null until then).
    private readonly Dictionary<string, long?> _full = new(StringComparer.Ordinal);
    private volatile int _fullCount;
    private bool _probing;
    private bool _blockedSent;

    /// <summary>Whether the client's <c>capabilities</c> include <c>connection.blocked</c> (set by the handshake).</summary>
    public bool NotifiesBlocked { get; private set; }

    private static bool AnnouncesBlocked(IReadOnlyDictionary<string, object?> clientProperties) =>
        clientProperties.TryGetValue("capabilities", out var capabilities)
        && capabilities is IReadOnlyDictionary<string, object?> table
        && table.TryGetValue("connection.blocked", out var blocked) && blocked is true;

    /// <summary>A publish on this connection was refused because <paramref name="queue"/> is full.</summary>
    public void QueueFull(string queue)
    {
        if (!NotifiesBlocked || _closing) return;
        lock (_blockGate)
        {
            _full.TryAdd(queue, null);
            _fullCount = _full.Count;
            if (_probing) return;
            _probing = true;
        }
        _ = ProbeFullQueuesAsync();
    }

    /// <summary>A publish on this connection was stored by <paramref name="queue"/>: it is not full.</summary>
    public void QueueAccepted(string queue)
    {
        if (_fullCount == 0) return;
        lock (_blockGate)
        {
            _full.Remove(queue);
            _fullCount = _full.Count;
        }
    }

    private async Task ProbeFullQueuesAsync()
    {
        try
        {
            using var timer = new PeriodicTimer(BlockedProbeInterval);
            while (true)
            {
                await SendAsync(0, BlockedNotice);
                string[] queues;
                lock (_blockGate) queues = [.. _full.Keys];
                foreach (var queue in queues)
                {
                    var held = await HeldAsync(queue);
                    lock (_blockGate)
                    {
                        if (!_full.TryGetValue(queue, out var first)) continue;
                        if (held is null || held < first) _full.Remove(queue);
                        else if (first is null) _full[queue] = held;
                        _fullCount = _full.Count;
                    }
                }
                lock (_blockGate)
                {
                    if (_full.Count == 0)
                    {
                        _probing = false;
                        break;
                    }
                }
                if (!await timer.WaitForNextTickAsync(Closed)) return;
            }
            await SendAsync(0, UnblockedNotice);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>What the queue holds (ready, in flight, scheduled): what its MaxLength counts; null when it is gone.</summary>
    private async Task<long?> HeldAsync(string queue)
    {
        try
        {
            var stats = await Queues.GetStatsAsync(queue, Closed);
            return stats.Depth + stats.InFlight + stats.Scheduled;
        }
        catch (QueueException e) when (e.Code is RejectionCode.UnknownQueue or RejectionCode.InvalidQueueName)
        {
            return null;
        }
        catch (QueueException)
        {
            // Unavailable for the moment: still full as far as the probe knows.
            return long.MaxValue;
        }
    }

    // Made under the write lock, so blocked and unblocked go out in the order the state changes and never twice in a row.
    private IAmqpMethod? BlockedNotice()
    {
        lock (_blockGate)
        {
            if (_blockedSent || _full.Count == 0) return null;
            _blockedSent = true;
            return new Connection.Blocked(ReplyCodes.Fit($"queue '{_full.Keys.First()}' is full: publishes to it are refused until it drains"));
        }
    }

    private IAmqpMethod? UnblockedNotice()
    {
        lock (_blockGate)
        {
            if (!_blockedSent || _full.Count > 0) return null;
            _blockedSent = false;
            return Connection.Unblocked.Instance;
        }
    }
}

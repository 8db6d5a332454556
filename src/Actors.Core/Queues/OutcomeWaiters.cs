using Actors.Protocol;
using Akka.Actor;
using static Actors.Protocol.QueueEvents;

namespace Actors.Queues;

/// <summary>
/// The callers of one queue partition waiting for messages' outcomes (see <see cref="OutcomeWaits.WaitForOutcome"/>):
/// at most a fixed number at once, each with a deadline. The queue takes a message's waiters when the event that
/// makes it final is stored (<see cref="FinishedBy"/>), the expired ones on its tick, and all of them when it stops.
/// </summary>
internal sealed class OutcomeWaiters
{
    /// <summary>Longest wait the queue keeps a waiter for, whatever the caller asked.</summary>
    public static readonly TimeSpan LongestWait = TimeSpan.FromMinutes(10);

    private readonly int _max;
    private readonly Dictionary<long, List<Waiter>> _byMessage = new();
    private DateTime _nextDeadline = DateTime.MaxValue;

    /// <summary>A registry that holds at most <paramref name="max"/> waiters.</summary>
    public OutcomeWaiters(int max) => _max = max;

    /// <summary>Waiters held now.</summary>
    public int Count { get; private set; }

    /// <summary>Registers a waiter until <paramref name="deadline"/>; false (nothing registered) when <see cref="Count"/> is at the maximum.</summary>
    public bool TryAdd(long messageId, long correlationId, IActorRef replyTo, DateTime deadline)
    {
        if (Count >= _max) return false;
        if (!_byMessage.TryGetValue(messageId, out var waiters)) _byMessage[messageId] = waiters = new List<Waiter>(1);
        waiters.Add(new Waiter(messageId, correlationId, replyTo, deadline));
        Count++;
        if (deadline < _nextDeadline) _nextDeadline = deadline;
        return true;
    }

    /// <summary>True when someone waits for <paramref name="messageId"/>.</summary>
    public bool IsWaitedFor(long messageId) => _byMessage.ContainsKey(messageId);

    /// <summary>Forgets the waiter <paramref name="correlationId"/> of <paramref name="messageId"/>; false when there is none.</summary>
    public bool Remove(long messageId, long correlationId)
    {
        if (!_byMessage.TryGetValue(messageId, out var waiters)) return false;
        var index = waiters.FindIndex(w => w.CorrelationId == correlationId);
        if (index < 0) return false;
        waiters.RemoveAt(index);
        if (waiters.Count == 0) _byMessage.Remove(messageId);
        Count--;
        return true;
    }

    /// <summary>Removes and returns every waiter of <paramref name="messageId"/> (empty when none).</summary>
    public List<Waiter> Take(long messageId)
    {
        if (!_byMessage.Remove(messageId, out var waiters)) return [];
        Count -= waiters.Count;
        return waiters;
    }

    /// <summary>Removes and returns the waiters whose deadline is at or before <paramref name="now"/>.</summary>
    public List<Waiter> TakeExpired(DateTime now)
    {
        var expired = new List<Waiter>();
        if (now < _nextDeadline) return expired;
        var next = DateTime.MaxValue;
        var emptied = new List<long>();
        foreach (var (messageId, waiters) in _byMessage)
        {
            for (var i = waiters.Count - 1; i >= 0; i--)
            {
                var waiter = waiters[i];
                if (waiter.Deadline <= now)
                {
                    expired.Add(waiter);
                    waiters.RemoveAt(i);
                }
                else if (waiter.Deadline < next) next = waiter.Deadline;
            }
            if (waiters.Count == 0) emptied.Add(messageId);
        }
        foreach (var id in emptied) _byMessage.Remove(id);
        Count -= expired.Count;
        _nextDeadline = next;
        return expired;
    }

    /// <summary>Removes and returns every waiter.</summary>
    public List<Waiter> TakeAll()
    {
        var all = _byMessage.Values.SelectMany(w => w).ToList();
        _byMessage.Clear();
        Count = 0;
        _nextDeadline = DateTime.MaxValue;
        return all;
    }

    /// <summary>
    /// The messages <paramref name="evt"/> can make final once stored: acknowledged, dead-lettered, discarded, cancelled
    /// or expired ones (the caller checks the status, as a message may have been finished before).
    /// </summary>
    public static IEnumerable<long> FinishedBy(IQueueEvent evt) => evt switch
    {
        MessagesAcked acked => acked.Acks.Select(a => a.Id),
        DeadLettered dead => [dead.Id],
        Discarded discarded => [discarded.Id],
        MessageCancelled cancelled => [cancelled.Id],
        MessagesExpired expired => expired.Ids,
        MessagesPurged purged => purged.Ids,
        _ => [],
    };

    /// <summary>One caller waiting for <paramref name="MessageId"/> until <paramref name="Deadline"/>.</summary>
    public sealed record Waiter(long MessageId, long CorrelationId, IActorRef ReplyTo, DateTime Deadline);
}

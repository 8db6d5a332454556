using Actors.Protocol;

namespace Actors.Queues;

/// <summary>
/// Which of a queue's pending follow-ups (see <see cref="State.QueueState.PendingFollowUps"/>) to send now: at most
/// <see cref="MaxInFlight"/> requests at once, each answered or timed out; after a refusal that may pass (the target is
/// full, restarting or shutting down) or a timeout, sending pauses with a capped exponential backoff. An accepted one
/// is being recorded until its <see cref="QueueEvents.FollowUpsSent"/> is stored; a rejected write sends it again.
/// No <c>Context</c>: the actor tells, persists and passes the clock.
/// </summary>
internal sealed class FollowUpOutbox
{
    /// <summary>Most follow-up requests in flight at once.</summary>
    public const int MaxInFlight = 64;

    /// <summary>A request not answered within this long counts as failed; the follow-up is sent again (the target's de-duplication absorbs a late first one).</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The first pause after a failure; it doubles with each failure in a row.</summary>
    public static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest pause.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly Dictionary<long, Request> _inFlight = new();
    private readonly Dictionary<(long Id, FollowUpKind Kind), long> _byKey = new();
    private readonly HashSet<(long Id, FollowUpKind Kind)> _recording = new();
    private long _nextCorrelation;
    private int _failures;
    private DateTime _pausedUntil = DateTime.MinValue;

    /// <summary>Requests in flight.</summary>
    public int InFlight => _inFlight.Count;

    /// <summary>Failures in a row (reset by an acceptance).</summary>
    public int Failures => _failures;

    /// <summary>
    /// The pending follow-ups to send now, each with the correlation id its request carries: those neither in flight nor
    /// being recorded, oldest first, up to the free places; none while paused.
    /// </summary>
    public List<(PendingFollowUp FollowUp, long CorrelationId)> TakeDue(IEnumerable<PendingFollowUp> pending, DateTime now)
    {
        var due = new List<(PendingFollowUp, long)>();
        if (now < _pausedUntil) return due;
        foreach (var followUp in pending)
        {
            if (_inFlight.Count >= MaxInFlight) break;
            var key = (followUp.Id, followUp.Kind);
            if (_byKey.ContainsKey(key) || _recording.Contains(key)) continue;
            var correlation = ++_nextCorrelation;
            _inFlight[correlation] = new Request(key, now);
            _byKey[key] = correlation;
            due.Add((followUp, correlation));
        }
        return due;
    }

    /// <summary>
    /// The target stored the follow-up of request <paramref name="correlationId"/>: true, with its key, when it is to be
    /// recorded now (false for a stale or repeated answer).
    /// </summary>
    public bool Accepted(long correlationId, out (long Id, FollowUpKind Kind) key)
    {
        if (!Take(correlationId, out key)) return false;
        _failures = 0;
        _pausedUntil = DateTime.MinValue;
        return _recording.Add(key);
    }

    /// <summary>The target refused request <paramref name="correlationId"/>: true, with its key, when it is this queue's request.</summary>
    public bool Refused(long correlationId, out (long Id, FollowUpKind Kind) key) => Take(correlationId, out key);

    /// <summary>A refusal that may pass, or a timeout: sending pauses (capped exponential backoff).</summary>
    public TimeSpan Pause(DateTime now)
    {
        _failures++;
        var backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, MinBackoff.Ticks << Math.Min(_failures - 1, 20)));
        _pausedUntil = now + backoff;
        return backoff;
    }

    /// <summary>Requests older than <see cref="RequestTimeout"/>: forgotten (a late answer is ignored); returns how many.</summary>
    public int TimeOut(DateTime now)
    {
        var expired = _inFlight.Where(p => now - p.Value.SentAt >= RequestTimeout).Select(p => p.Key).ToList();
        foreach (var correlation in expired) Take(correlation, out _);
        return expired.Count;
    }

    /// <summary>The <see cref="QueueEvents.FollowUpsSent"/> of <paramref name="key"/> was stored, or was not (it is sent again).</summary>
    public void RecordingEnded((long Id, FollowUpKind Kind) key) => _recording.Remove(key);

    /// <summary>Forgets every request (the queue restarts; the pending follow-ups are sent again after recovery).</summary>
    public void Clear()
    {
        _inFlight.Clear();
        _byKey.Clear();
        _recording.Clear();
    }

    private bool Take(long correlationId, out (long Id, FollowUpKind Kind) key)
    {
        if (!_inFlight.Remove(correlationId, out var request))
        {
            key = default;
            return false;
        }
        key = request.Key;
        _byKey.Remove(key);
        return true;
    }

    private sealed record Request((long Id, FollowUpKind Kind) Key, DateTime SentAt);
}

namespace Actors.State;

/// <summary>
/// A token bucket on the caller's clock: it gains <c>permits</c> tokens per <c>period</c>, holds at most <c>burst</c>,
/// and starts full. The arithmetic is exact: time is counted in ticks × permits, so one token costs one period's
/// ticks. A token comes at the first whole tick it is due, and the part of a token that tick brings beyond it is kept
/// even when the bucket is full (less than one token, so it never holds more than <c>burst</c> whole tokens): no
/// rounding drifts however long it runs. A clock that steps back adds nothing.
/// </summary>
internal sealed class TokenBucket
{
    private readonly long _permits;
    private readonly long _cost;
    private readonly long _capacity;
    private long _level;
    private DateTime _at;

    /// <summary>A full bucket at <paramref name="now"/>.</summary>
    public TokenBucket(int permits, TimeSpan period, int burst, DateTime now)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(permits, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero);
        _permits = permits;
        _cost = period.Ticks;
        // Within range: burst ≤ 10⁶ and a period ≤ 1 day (8.64 × 10¹¹ ticks), so the capacity is below 10¹⁸.
        _level = checked(burst * _cost);
        _capacity = _level + Math.Min(_permits, _cost) - 1;
        _at = now;
    }

    /// <summary>Whole tokens in the bucket at <paramref name="now"/>.</summary>
    public long Available(DateTime now)
    {
        Refill(now);
        return _level / _cost;
    }

    /// <summary>Takes a token if there is one at <paramref name="now"/>.</summary>
    public bool TryTake(DateTime now)
    {
        Refill(now);
        if (_level < _cost) return false;
        _level -= _cost;
        return true;
    }

    /// <summary>The earliest time at or after <paramref name="now"/> when a token is there to take.</summary>
    public DateTime NextTokenAt(DateTime now)
    {
        Refill(now);
        var missing = _cost - _level;
        return missing <= 0 ? now : now + TimeSpan.FromTicks(CeilDiv(missing, _permits));
    }

    private void Refill(DateTime now)
    {
        if (now <= _at) return;
        var elapsed = (now - _at).Ticks;
        // Compared before multiplying, so a long quiet spell cannot overflow.
        _level = elapsed >= CeilDiv(_capacity - _level, _permits) ? _capacity : _level + elapsed * _permits;
        _at = now;
    }

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;
}

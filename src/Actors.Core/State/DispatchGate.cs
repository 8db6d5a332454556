using Actors.Configuration;
using static Actors.Protocol.QueueQueries;

namespace Actors.State;

/// <summary>
/// The limits on starting deliveries that one queue partition enforces besides worker credit:
/// <see cref="QueueOptions.MaxConcurrency"/> (deliveries in flight) and <see cref="QueueOptions.RateLimit"/> (a
/// <see cref="TokenBucket"/>), each the partition's share of the queue's limit. Before each delivery the queue asks
/// <see cref="MayStart"/>; when one started it says <see cref="Started"/>, which takes a token; when the rate holds
/// dispatch back, <see cref="RetryAt"/> says when to look again, so the queue sets a timer instead of spinning. A
/// concurrency hold ends when a delivery is reported, which dispatches anyway.
/// <para>
/// It counts the deliveries that started after waiting at a limit: from the moment a limit holds dispatch back until
/// dispatch stops for another reason (nothing ready, no worker free, see <see cref="Unheld"/>), every start waited.
/// The counters are volatile, like the rest of the delivery bookkeeping.
/// </para>
/// </summary>
internal sealed class DispatchGate
{
    private readonly RateLimitOptions? _rate;
    private readonly TokenBucket? _bucket;
    private Hold _hold;

    /// <summary>The gate of one partition of a queue with <paramref name="options"/>; a rate limit's bucket starts full at <paramref name="now"/>.</summary>
    public DispatchGate(QueueOptions options, DateTime now)
    {
        _rate = options.RateLimit?.ShareFor(options.Partitions);
        if (_rate is not null) _bucket = new TokenBucket(_rate.Permits, _rate.Period, _rate.EffectiveBurst, now);
        MaxConcurrency = options.MaxConcurrency is { } max ? global::Actors.Partitions.ShareOf(max, options.Partitions) : null;
    }

    /// <summary>Whether any limit is set; without one, <see cref="MayStart"/> is always true.</summary>
    public bool Limited => _bucket is not null || MaxConcurrency is not null;

    /// <summary>This partition's share of the queue's <see cref="QueueOptions.MaxConcurrency"/>, if set.</summary>
    public int? MaxConcurrency { get; }

    /// <summary>This partition's share of the queue's <see cref="QueueOptions.RateLimit"/> in deliveries per second, if set.</summary>
    public double? RatePerSecond => _rate is { } rate ? rate.Permits / rate.Period.TotalSeconds : null;

    /// <summary>Deliveries that started after waiting for the rate limit.</summary>
    public long WaitedForRate { get; private set; }

    /// <summary>Deliveries that started after waiting for the concurrency limit.</summary>
    public long WaitedForConcurrency { get; private set; }

    /// <summary>Whether one more delivery may start at <paramref name="now"/> while <paramref name="inFlight"/> are out; when not, the gate holds until it may.</summary>
    public bool MayStart(int inFlight, DateTime now)
    {
        if (MaxConcurrency is { } max && inFlight >= max) _hold = Hold.Concurrency;
        else if (_bucket is { } bucket && bucket.Available(now) == 0) _hold = Hold.Rate;
        else return true;
        return false;
    }

    /// <summary>A delivery started at <paramref name="now"/>: it takes a token, and counts as having waited while the gate held.</summary>
    public void Started(DateTime now)
    {
        _bucket?.TryTake(now);
        if (_hold == Hold.Rate) WaitedForRate++;
        else if (_hold == Hold.Concurrency) WaitedForConcurrency++;
    }

    /// <summary>Dispatch stopped for another reason than a limit: what starts next did not wait at the gate.</summary>
    public void Unheld() => _hold = Hold.None;

    /// <summary>When the rate limit holds dispatch back, the time its next token comes; otherwise null.</summary>
    public DateTime? RetryAt(DateTime now) => _hold == Hold.Rate && _bucket is { } bucket ? bucket.NextTokenAt(now) : null;

    /// <summary>The limits and counters for the queue's statistics; null when the queue has no limit.</summary>
    public DispatchLimitStats? Stats() => Limited
        ? new DispatchLimitStats(_rate?.Permits, _rate?.Period, _rate?.EffectiveBurst, MaxConcurrency, WaitedForRate, WaitedForConcurrency)
        : null;

    private enum Hold
    {
        None,
        Rate,
        Concurrency,
    }
}

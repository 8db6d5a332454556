namespace Actors.Configuration;

/// <summary>
/// A token-bucket rate limit on the deliveries a queue starts: the bucket gains <see cref="Permits"/> tokens per
/// <see cref="Period"/>, holds at most <see cref="Burst"/>, and each delivery takes one. Bind from configuration, e.g.
/// <c>{ "Permits": 100, "Period": "00:00:01", "Burst": 100 }</c>.
/// </summary>
public sealed class RateLimitOptions
{
    /// <summary>Most permits one partition may get (and largest burst).</summary>
    public const int MaxPermits = 1_000_000;

    /// <summary>Deliveries allowed per <see cref="Period"/>. Required (no default); range 1–1,000,000.</summary>
    public int Permits { get; set; }

    /// <summary>The period <see cref="Permits"/> are counted over. Default 1 s; range 1 ms – 1 day.</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Most deliveries that may start at once after a quiet spell: the bucket's size. The bucket starts full (also after
    /// a restart or a failover). Default null: <see cref="Permits"/>; range 1–1,000,000.
    /// </summary>
    public int? Burst { get; set; }

    /// <summary>The bucket's size: <see cref="Burst"/>, or <see cref="Permits"/> when it is not set.</summary>
    public int EffectiveBurst => Burst ?? Permits;

    /// <summary>Throws <see cref="ArgumentException"/> when a value is out of range.</summary>
    public void Validate(string queue)
    {
        if (Permits is < 1 or > MaxPermits) throw new ArgumentException($"Queue '{queue}': RateLimit.Permits must be 1–1,000,000, was {Permits}.");
        if (Period < TimeSpan.FromMilliseconds(1) || Period > TimeSpan.FromDays(1)) throw new ArgumentException($"Queue '{queue}': RateLimit.Period must be 1 ms – 1 day, was {Period}.");
        if (Burst is < 1 or > MaxPermits) throw new ArgumentException($"Queue '{queue}': RateLimit.Burst must be 1–1,000,000, was {Burst}.");
    }

    /// <summary>
    /// One partition's share of the limit when the queue has <paramref name="partitions"/>: permits and burst divided by
    /// the number of partitions, rounded up, at least 1; the same period.
    /// </summary>
    public RateLimitOptions ShareFor(int partitions) => new()
    {
        Permits = global::Actors.Partitions.ShareOf(Permits, partitions),
        Period = Period,
        Burst = global::Actors.Partitions.ShareOf(EffectiveBurst, partitions),
    };
}

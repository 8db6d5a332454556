namespace Actors.Configuration;

/// <summary>
/// Sizes a queue's consumer pool by Little's Law: the pool deploys <see cref="MaxWorkers"/> workers (per node with the
/// worker role, in a cluster) and the queue keeps N of them active, N = ⌈(λ + B/T)·S/ρ⌉ for the smoothed arrival rate
/// λ, the backlog B, the drain target T (<see cref="DrainTarget"/>), the mean service time S and the target utilisation
/// ρ (<see cref="TargetUtilisation"/>), within <see cref="MinWorkers"/>–<see cref="MaxWorkers"/>. A worker taken out of
/// the active set gets no new deliveries and finishes what it holds; it stays idle, never stopped, so nothing it held
/// is redelivered. Bind from configuration, e.g. <c>{ "MinWorkers": 1, "MaxWorkers": 32 }</c>.
/// </summary>
public sealed class AutoscaleOptions
{
    /// <summary>Fewest active workers (per partition). Default 1; range 1–1024, at most <see cref="MaxWorkers"/>.</summary>
    public int MinWorkers { get; set; } = 1;

    /// <summary>
    /// Workers deployed (per partition, and per node with the worker role in a cluster): the most that can be active.
    /// Default 16; range 1–1024.
    /// </summary>
    public int MaxWorkers { get; set; } = 16;

    /// <summary>ρ: the fraction of the active workers' time the pool is sized to keep busy. Default 0.8; range 0.1–1.</summary>
    public double TargetUtilisation { get; set; } = 0.8;

    /// <summary>
    /// How long the need must stay below the active count before the pool shrinks; it then shrinks by at most 20% per
    /// <see cref="Interval"/>, to the highest need seen within this window. Default 60 s; range 0 – 1 h.
    /// </summary>
    public TimeSpan ScaleDownAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>T: the time a backlog should be drained in, on top of the arrivals (the B/T term). Default 30 s; range 1 s – 1 day.</summary>
    public TimeSpan DrainTarget { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the pool's size is evaluated. Default 1 s; range 100 ms – 1 min.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws <see cref="ArgumentException"/> when a value is out of range.</summary>
    public void Validate(string queue)
    {
        if (MaxWorkers is < 1 or > 1024) throw new ArgumentException($"Queue '{queue}': Autoscale.MaxWorkers must be 1–1024, was {MaxWorkers}.");
        if (MinWorkers < 1 || MinWorkers > MaxWorkers) throw new ArgumentException($"Queue '{queue}': Autoscale.MinWorkers must be 1–MaxWorkers ({MaxWorkers}), was {MinWorkers}.");
        if (!(TargetUtilisation is >= 0.1 and <= 1)) throw new ArgumentException($"Queue '{queue}': Autoscale.TargetUtilisation must be 0.1–1, was {TargetUtilisation}.");
        if (ScaleDownAfter < TimeSpan.Zero || ScaleDownAfter > TimeSpan.FromHours(1)) throw new ArgumentException($"Queue '{queue}': Autoscale.ScaleDownAfter must be 0 – 1 h, was {ScaleDownAfter}.");
        if (DrainTarget < TimeSpan.FromSeconds(1) || DrainTarget > TimeSpan.FromDays(1)) throw new ArgumentException($"Queue '{queue}': Autoscale.DrainTarget must be 1 s – 1 day, was {DrainTarget}.");
        if (Interval < TimeSpan.FromMilliseconds(100) || Interval > TimeSpan.FromMinutes(1)) throw new ArgumentException($"Queue '{queue}': Autoscale.Interval must be 100 ms – 1 min, was {Interval}.");
    }
}

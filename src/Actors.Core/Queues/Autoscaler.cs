using Actors.Configuration;
using static Actors.Protocol.QueueQueries;

namespace Actors.Queues;

/// <summary>
/// Decides how many of a queue partition's workers are active, by Little's Law: the need is
/// N = ⌈(λ + B/T)·S/ρ⌉ — the workers that keep the arrivals λ plus the backlog B drained within T busy at the
/// utilisation ρ, each taking S per message — capped by what can run at once (the deployed workers and
/// <see cref="QueueOptions.MaxConcurrency"/>) and by the rate limit (arrivals beyond it cannot start sooner), and
/// kept within MinWorkers–MaxWorkers. It grows fast and shrinks slowly: up at once, at most doubling (or by a quarter
/// of the most) per evaluation; down only once the need stayed below the active count for
/// <see cref="AutoscaleOptions.ScaleDownAfter"/>, then to the highest need of that window, by at most 20% (at least
/// one worker) per evaluation. Pure: the caller passes the measurements and the time, and applies the target.
/// </summary>
internal sealed class Autoscaler
{
    private readonly AutoscaleOptions _options;
    private readonly Queue<(DateTime At, int Need)> _recentNeeds = new();
    private DateTime? _lowSince;
    private TimeSpan _knownService;

    /// <summary>A scaler that starts at <paramref name="initial"/> active workers (kept within MinWorkers–MaxWorkers).</summary>
    public Autoscaler(AutoscaleOptions options, int initial)
    {
        _options = options;
        Target = Math.Clamp(initial, options.MinWorkers, options.MaxWorkers);
    }

    /// <summary>The active workers decided on last.</summary>
    public int Target { get; private set; }

    /// <summary>The last evaluation; null before the first.</summary>
    public AutoscaleDecision? Last { get; private set; }

    /// <summary>
    /// The workers needed for the smoothed arrival rate <paramref name="lambda"/> (per second), the mean service time
    /// <paramref name="service"/> and the <paramref name="backlog"/> of waiting messages, before the steps and the
    /// stabilisation window; at most <paramref name="limit"/> (and at least MinWorkers). With no service time measured
    /// yet, the need is the current target while there is work, MinWorkers when there is none.
    /// </summary>
    public int Need(double lambda, TimeSpan service, long backlog, int limit, double? ratePerSecond)
    {
        var demand = lambda + backlog / _options.DrainTarget.TotalSeconds;
        if (ratePerSecond is { } rate) demand = Math.Min(demand, rate);
        int need;
        if (service <= TimeSpan.Zero) need = demand > 0 ? Target : _options.MinWorkers;
        // The small tolerance keeps an exact quotient (200/s × 20 ms ÷ 0.8 = 5) from rounding up on a floating-point error.
        else need = (int)Math.Min(int.MaxValue, Math.Ceiling(demand * service.TotalSeconds / _options.TargetUtilisation - 1e-9));
        return Math.Max(_options.MinWorkers, Math.Min(need, Math.Max(_options.MinWorkers, limit)));
    }

    /// <summary>
    /// Evaluates the target at <paramref name="now"/> from the measurements (see <see cref="Need"/>); <paramref name="limit"/>
    /// is the most workers that can be active (MaxWorkers per node with workers, and MaxConcurrency), and a target above
    /// a limit that fell is lowered to it at once. A zero <paramref name="service"/> (none measured lately) stands for the
    /// last one measured.
    /// </summary>
    public AutoscaleDecision Evaluate(double lambda, TimeSpan service, long backlog, int limit, double? ratePerSecond, DateTime now)
    {
        // A queue idle for longer than its service-time window measures none: the last measured time still holds.
        if (service > TimeSpan.Zero) _knownService = service;
        else service = _knownService;
        var need = Need(lambda, service, backlog, limit, ratePerSecond);
        var from = Target;
        var cap = Math.Max(_options.MinWorkers, limit);
        while (_recentNeeds.Count > 0 && _recentNeeds.Peek().At <= now - _options.ScaleDownAfter) _recentNeeds.Dequeue();
        _recentNeeds.Enqueue((now, need));
        AutoscaleStep step;
        if (need > from)
        {
            _lowSince = null;
            var most = from + Math.Max(from, (cap + 3) / 4);
            Target = Math.Min(need, most);
            step = AutoscaleStep.Up;
        }
        else if (need < from)
        {
            _lowSince ??= now;
            if (now - _lowSince.Value >= _options.ScaleDownAfter)
            {
                var windowPeak = _recentNeeds.Max(static n => n.Need);
                Target = Math.Max(windowPeak, from - Math.Max(1, from / 5));
                step = AutoscaleStep.Down;
            }
            else step = AutoscaleStep.Stabilising;
        }
        else
        {
            _lowSince = null;
            step = AutoscaleStep.Hold;
        }
        if (Target > cap)
        {
            Target = cap;
            step = AutoscaleStep.Down;
        }
        if (Target == from && step is AutoscaleStep.Down) step = AutoscaleStep.Hold;
        Last = new AutoscaleDecision(now, from, Target, need, lambda, service, backlog, _options.TargetUtilisation, step);
        return Last;
    }
}

/// <summary>What one evaluation of the <see cref="Autoscaler"/> did.</summary>
internal enum AutoscaleStep
{
    /// <summary>The need equals the target.</summary>
    Hold,

    /// <summary>The target grew towards the need.</summary>
    Up,

    /// <summary>The target shrank towards the need (after the stabilisation window), or to a limit that fell.</summary>
    Down,

    /// <summary>The need is below the target, not yet for the whole stabilisation window.</summary>
    Stabilising,
}

/// <summary>One evaluation: when, the target before and after, the need, and the measurements it used.</summary>
/// <param name="At">When it was made.</param>
/// <param name="From">Active workers decided on before.</param>
/// <param name="To">Active workers decided on now.</param>
/// <param name="Need">Workers the measurements call for, before the steps and the window.</param>
/// <param name="ArrivalRate">λ: the smoothed arrival rate, per second.</param>
/// <param name="Service">S: the mean service time.</param>
/// <param name="Backlog">B: messages waiting.</param>
/// <param name="Utilisation">ρ: the target utilisation.</param>
/// <param name="Step">What it did.</param>
internal sealed record AutoscaleDecision(DateTime At, int From, int To, int Need, double ArrivalRate, TimeSpan Service, long Backlog, double Utilisation, AutoscaleStep Step)
{
    /// <summary>The decision for the queue's statistics, with the workers active and deployed now.</summary>
    public AutoscaleStats ToStats(int active, int deployed, int draining) =>
        new(active, To, deployed, draining, Need, ArrivalRate, Service, Backlog, Utilisation, At);
}

/// <summary>
/// An exponentially smoothed arrival rate from a running count of arrivals: each update weighs the rate since the last
/// one by 1 − e^(−Δt/τ), so a step in the load shows after about τ, and one slow second does not swing it.
/// </summary>
internal sealed class SmoothedRate
{
    private readonly double _timeConstantSeconds;
    private long _lastTotal;
    private DateTime _lastAt;

    /// <summary>A rate with the time constant <paramref name="timeConstant"/>, counting from <paramref name="total"/> arrivals at <paramref name="now"/>.</summary>
    public SmoothedRate(TimeSpan timeConstant, long total, DateTime now)
    {
        _timeConstantSeconds = timeConstant.TotalSeconds;
        _lastTotal = total;
        _lastAt = now;
    }

    /// <summary>The smoothed rate, per second.</summary>
    public double PerSecond { get; private set; }

    /// <summary>Takes in the running count <paramref name="total"/> at <paramref name="now"/> and returns the smoothed rate.</summary>
    public double Update(long total, DateTime now)
    {
        var seconds = (now - _lastAt).TotalSeconds;
        if (seconds <= 0) return PerSecond;
        var recent = Math.Max(0, total - _lastTotal) / seconds;
        PerSecond += (1 - Math.Exp(-seconds / _timeConstantSeconds)) * (recent - PerSecond);
        _lastTotal = total;
        _lastAt = now;
        return PerSecond;
    }
}

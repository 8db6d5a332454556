using Akka.Actor;
using Akka.Event;
using static Actors.Protocol.QueueQueries;

namespace Actors.Queues;

/// <summary>
/// Autoscaling (with <see cref="Configuration.QueueOptions.Autoscale"/> set): every interval the
/// <see cref="Autoscaler"/> sizes the active set of the pool from the smoothed arrival rate, the mean service time and
/// the backlog, and the <see cref="WorkerPool"/> applies it. Scaling changes which deployed workers get new deliveries,
/// nothing else: a worker leaving the set finishes what it holds, so nothing is redelivered. The state is soft:
/// recomputed after a restart, never persisted. Without autoscaling none of this runs.
/// </summary>
internal sealed partial class QueueActor
{
    /// <summary>Smoothing time of the arrival rate, in evaluation intervals.</summary>
    private const int SmoothingIntervals = 3;

    private Autoscaler? _autoscaler;
    private SmoothedRate? _arrivals;

    /// <summary>
    /// Workers the pool deploys: MaxWorkers when autoscaling, else <see cref="Configuration.QueueOptions.Workers"/> (per
    /// node in a cluster); 0 (no pool, only attached consumers) when Workers is 0, whatever the autoscale options say.
    /// </summary>
    private int PoolSize => _options.Workers == 0 ? 0 : _options.Autoscale?.MaxWorkers ?? _options.Workers;

    /// <summary>Starts at <see cref="Configuration.QueueOptions.Workers"/> active workers (within the autoscale range) and evaluates every interval.</summary>
    private void StartAutoscale()
    {
        // A queue without a pool (Workers 0) has nothing to scale.
        if (_options.Autoscale is not { } options || PoolSize == 0) return;
        _autoscaler = new Autoscaler(options, _options.Workers);
        _arrivals = new SmoothedRate(options.Interval * SmoothingIntervals, _state.TotalEnqueued, Now);
        _pool.SetActiveTarget(_autoscaler.Target);
        Timers.StartPeriodicTimer(AutoscaleTick.Key, AutoscaleTick.Instance, options.Interval);
    }

    private void OnAutoscaleTick()
    {
        if (_autoscaler is null || _arrivals is null || _pool.Retired) return;
        var now = Now;
        var lambda = _arrivals.Update(_state.TotalEnqueued, now);
        // A paused queue starts nothing, so its backlog says nothing about the workers it needs: the pool keeps its size.
        if (_state.IsPaused) return;
        var limit = PoolSize * _pool.NodeCount;
        if (_gate.MaxConcurrency is { } concurrency) limit = Math.Min(limit, concurrency);
        var decision = _autoscaler.Evaluate(lambda, _metrics.MeanService(now), _state.ReadyCount, limit, _gate.RatePerSecond, now);
        if (decision.To == decision.From) return;
        var active = _pool.SetActiveTarget(decision.To);
        _log.Info("Queue {0}: autoscale {1} → {2} active workers ({3} now; {4})", _queueId, decision.From, decision.To, active, Reason(decision));
        Dispatch();
    }

    private static string Reason(AutoscaleDecision d) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"λ {d.ArrivalRate:F1}/s, S {d.Service.TotalMilliseconds:F1} ms, B {d.Backlog}, ρ {d.Utilisation}, need {d.Need}");

    /// <summary>The autoscaled pool for the statistics; null when the queue does not autoscale.</summary>
    private AutoscaleStats? AutoscaleReport()
    {
        if (_autoscaler is null) return null;
        var active = _pool.ActiveCount;
        var draining = _pool.DrainingCount;
        var deployed = _pool.AliveCount;
        return _autoscaler.Last is { } last
            ? last.ToStats(active, deployed, draining)
            : new AutoscaleStats(active, _autoscaler.Target, deployed, draining, _autoscaler.Target, 0, TimeSpan.Zero, _state.ReadyCount, _options.Autoscale!.TargetUtilisation, null);
    }

    /// <summary>Workers for the statistics: the active ones when autoscaling, else the live ones.</summary>
    private int StatsWorkers => _autoscaler is null ? _pool.AliveCount : _pool.ActiveCount;

    /// <summary>Time to evaluate the pool's size.</summary>
    private sealed class AutoscaleTick : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public const string Key = "autoscale";
        public static readonly AutoscaleTick Instance = new();
        private AutoscaleTick() { }
    }
}

using Actors.Configuration;
using Actors.Queues;
using Microsoft.Extensions.Configuration;

namespace Actors.Core.Tests;

/// <summary>The pure autoscaler: Little's Law need, bounded steps up, a stabilisation window and 20% steps down, the limits, the smoothed rate and the options.</summary>
public sealed class AutoscalerTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Ms20 = TimeSpan.FromMilliseconds(20);

    private static AutoscaleOptions Options(int min = 1, int max = 16, double rho = 0.8, int downAfterSeconds = 60, int drainSeconds = 30) => new()
    {
        MinWorkers = min,
        MaxWorkers = max,
        TargetUtilisation = rho,
        ScaleDownAfter = TimeSpan.FromSeconds(downAfterSeconds),
        DrainTarget = TimeSpan.FromSeconds(drainSeconds),
    };

    private static DateTime At(double seconds) => T0.AddSeconds(seconds);

    [Fact]
    public void The_need_is_lambda_times_service_over_utilisation_rounded_up()
    {
        var scaler = new Autoscaler(Options(), 1);

        Assert.Equal(5, scaler.Need(200, Ms20, 0, 16, null));   // 200/s × 20 ms ÷ 0.8 = 5 exactly
        Assert.Equal(6, scaler.Need(201, Ms20, 0, 16, null));
        Assert.Equal(1, scaler.Need(0, Ms20, 0, 16, null));     // MinWorkers with no load
        Assert.Equal(4, new Autoscaler(Options(rho: 1), 1).Need(200, Ms20, 0, 16, null));
    }

    [Fact]
    public void A_backlog_adds_the_workers_that_drain_it_within_the_target_time()
    {
        var scaler = new Autoscaler(Options(drainSeconds: 30), 1);

        // (200 + 6000/30) × 0.02 ÷ 0.8 = 10
        Assert.Equal(10, scaler.Need(200, Ms20, 6_000, 16, null));
        // A backlog alone: 3000/30 = 100/s → 2.5 → 3
        Assert.Equal(3, scaler.Need(0, Ms20, 3_000, 16, null));
    }

    [Fact]
    public void The_need_is_capped_by_the_limit_and_the_rate_limit_and_kept_at_least_the_minimum()
    {
        var scaler = new Autoscaler(Options(min: 2, max: 16), 2);

        Assert.Equal(8, scaler.Need(10_000, Ms20, 0, 8, null));
        // A rate limit of 100/s needs 100 × 0.02 ÷ 0.8 = 2.5 → 3, however many arrive.
        Assert.Equal(3, scaler.Need(10_000, Ms20, 50_000, 16, 100));
        Assert.Equal(2, scaler.Need(1, Ms20, 0, 16, null));
        Assert.Equal(2, scaler.Need(10_000, Ms20, 0, 1, null));
    }

    [Fact]
    public void Without_a_measured_service_time_it_holds_while_there_is_work_and_falls_to_the_minimum_without()
    {
        var scaler = new Autoscaler(Options(min: 1), 4);

        Assert.Equal(4, scaler.Need(50, TimeSpan.Zero, 10, 16, null));
        Assert.Equal(1, scaler.Need(0, TimeSpan.Zero, 0, 16, null));
    }

    [Fact]
    public void It_scales_up_at_once_in_bounded_steps_to_the_need()
    {
        var scaler = new Autoscaler(Options(max: 16), 1);

        // Need 25, limit 16 → 16; from 1 a step adds at most max(1, 16/4) = 4.
        var first = scaler.Evaluate(1_000, Ms20, 0, 16, null, At(1));
        Assert.Equal((1, 5, 16, AutoscaleStep.Up), (first.From, first.To, first.Need, first.Step));
        Assert.Equal((1_000.0, Ms20, 0L, 0.8), (first.ArrivalRate, first.Service, first.Backlog, first.Utilisation));
        Assert.Equal(10, scaler.Evaluate(1_000, Ms20, 0, 16, null, At(2)).To);   // doubles
        Assert.Equal(16, scaler.Evaluate(1_000, Ms20, 0, 16, null, At(3)).To);   // capped by the need
        Assert.Equal(AutoscaleStep.Hold, scaler.Evaluate(1_000, Ms20, 0, 16, null, At(4)).Step);

        var step = new Autoscaler(Options(max: 16), 1);
        Assert.Equal(5, step.Evaluate(200, Ms20, 0, 16, null, At(1)).To);
    }

    [Fact]
    public void It_scales_down_only_after_the_need_stayed_lower_for_the_window_and_by_at_most_a_fifth_per_step()
    {
        var scaler = new Autoscaler(Options(max: 32, downAfterSeconds: 10), 20);

        for (var s = 0; s < 10; s++)
        {
            var waiting = scaler.Evaluate(0, Ms20, 0, 32, null, At(s));
            Assert.Equal((20, AutoscaleStep.Stabilising), (waiting.To, waiting.Step));
        }
        var targets = new List<int>();
        for (var s = 10; s < 30; s++) targets.Add(scaler.Evaluate(0, Ms20, 0, 32, null, At(s)).To);

        Assert.Equal(new[] { 16, 13, 11, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1 }, targets.Take(13));
        Assert.Equal(1, scaler.Target);
        var previous = 20;
        foreach (var target in targets)
        {
            Assert.True(previous - target <= Math.Max(1, previous / 5), $"{previous} → {target} is more than a fifth");
            previous = target;
        }
    }

    [Fact]
    public void A_need_back_at_the_target_restarts_the_window_and_the_window_peak_bounds_the_step_down()
    {
        var scaler = new Autoscaler(Options(downAfterSeconds: 10), 10);

        Assert.Equal(AutoscaleStep.Stabilising, scaler.Evaluate(0, Ms20, 0, 16, null, At(0)).Step);
        Assert.Equal(AutoscaleStep.Hold, scaler.Evaluate(400, Ms20, 0, 16, null, At(5)).Step);   // need 10 again
        // Lower from 6 s: needs 5 (200/s) then 1; not yet 10 s below.
        Assert.Equal(10, scaler.Evaluate(200, Ms20, 0, 16, null, At(6)).To);
        Assert.Equal(10, scaler.Evaluate(0, Ms20, 0, 16, null, At(15)).To);
        // 10 s after 6 s: the window (6–16 s] peaked at 1 after 6 s, so the fifth-step bounds it: 10 → 8.
        Assert.Equal(8, scaler.Evaluate(0, Ms20, 0, 16, null, At(16)).To);

        var peaked = new Autoscaler(Options(downAfterSeconds: 10), 10);
        peaked.Evaluate(0, Ms20, 0, 16, null, At(0));
        peaked.Evaluate(360, Ms20, 0, 16, null, At(5));   // need 9, in the window
        Assert.Equal(9, peaked.Evaluate(0, Ms20, 0, 16, null, At(10)).To);
    }

    [Fact]
    public void An_idle_queue_that_no_longer_measures_a_service_time_still_shrinks_on_the_last_one_measured()
    {
        var scaler = new Autoscaler(Options(downAfterSeconds: 0), 1);
        Assert.Equal(5, scaler.Evaluate(200, Ms20, 0, 16, null, At(0)).To);

        // Past the service-time window nothing finished: S reads zero, and λ has decayed to almost nothing.
        var idle = scaler.Evaluate(0.001, TimeSpan.Zero, 0, 16, null, At(120));

        Assert.Equal((1, Ms20, AutoscaleStep.Down), (idle.Need, idle.Service, idle.Step));
        Assert.Equal(4, idle.To);
    }

    [Fact]
    public void A_limit_that_falls_below_the_target_lowers_it_at_once()
    {
        var scaler = new Autoscaler(Options(max: 16), 12);

        var decision = scaler.Evaluate(1_000, Ms20, 0, 6, null, At(1));

        Assert.Equal((12, 6, AutoscaleStep.Down), (decision.From, decision.To, decision.Step));
    }

    [Fact]
    public void The_initial_target_is_kept_within_the_range()
    {
        Assert.Equal(16, new Autoscaler(Options(max: 16), 100).Target);
        Assert.Equal(2, new Autoscaler(Options(min: 2), 1).Target);
    }

    [Fact]
    public void The_smoothed_rate_follows_a_step_within_a_few_time_constants_and_decays_after_it()
    {
        var rate = new SmoothedRate(TimeSpan.FromSeconds(3), 0, T0);
        long total = 0;
        double seen = 0;
        for (var s = 1; s <= 15; s++) seen = rate.Update(total += 200, At(s));
        Assert.InRange(seen, 198, 200);
        Assert.InRange(new SmoothedRate(TimeSpan.FromSeconds(3), 0, T0).Update(600, At(3)), 126, 127);   // 200 × (1 − e^−1)

        for (var s = 16; s <= 30; s++) seen = rate.Update(total, At(s));
        Assert.InRange(seen, 0, 2);
        Assert.Equal(seen, rate.Update(total, At(30)));   // no time passed
    }

    [Fact]
    public void Options_bind_from_configuration_and_out_of_range_values_are_refused()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Autoscale:MinWorkers"] = "2",
            ["Autoscale:MaxWorkers"] = "24",
            ["Autoscale:TargetUtilisation"] = "0.7",
            ["Autoscale:ScaleDownAfter"] = "00:00:30",
            ["Autoscale:DrainTarget"] = "00:00:10",
            ["Autoscale:Interval"] = "00:00:02",
        }).Build();
        var options = new QueueOptions();
        configuration.Bind(options);
        options.Validate("q");
        Assert.Equal((2, 24, 0.7, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2)),
            (options.Autoscale!.MinWorkers, options.Autoscale.MaxWorkers, options.Autoscale.TargetUtilisation, options.Autoscale.ScaleDownAfter,
             options.Autoscale.DrainTarget, options.Autoscale.Interval));

        Assert.Null(new QueueOptions().Autoscale);
        Assert.Throws<ArgumentException>(() => new QueueOptions { Autoscale = new() { MinWorkers = 5, MaxWorkers = 4 } }.Validate("q"));
        Assert.Throws<ArgumentException>(() => new QueueOptions { Autoscale = new() { MaxWorkers = 2000 } }.Validate("q"));
        Assert.Throws<ArgumentException>(() => new QueueOptions { Autoscale = new() { TargetUtilisation = 1.5 } }.Validate("q"));
        Assert.Throws<ArgumentException>(() => new QueueOptions { Autoscale = new() { TargetUtilisation = double.NaN } }.Validate("q"));
        Assert.Throws<ArgumentException>(() => new QueueOptions { Autoscale = new() { Interval = TimeSpan.FromMilliseconds(10) } }.Validate("q"));
        Assert.Throws<ArgumentException>(() => new QueueOptions { Autoscale = new() { DrainTarget = TimeSpan.Zero } }.Validate("q"));
        Assert.Throws<ArgumentException>(() => new QueueOptions { Autoscale = new() { ScaleDownAfter = TimeSpan.FromHours(2) } }.Validate("q"));
    }
}

using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Queues;
using Actors.State;
using static Actors.Protocol.QueueEvents;

namespace Actors.Core.Tests;

/// <summary>
/// The stats a queue reports against what a steady state actually holds: a simulated queue (pure state and metrics,
/// a clock moved by hand) with bursts of arrivals and fixed service times, where the time-averaged number waiting and
/// in the system are counted directly and must match λ × W and λ × (W + S) as reported.
/// </summary>
public class LittlesLawTests
{
    [Fact]
    public void The_reported_littles_law_matches_the_time_averaged_depth_of_a_steady_state()
    {
        // Every second 10 messages arrive at once; 5 workers take 0.4 s each, so 5 start at once and 5 wait 0.4 s:
        // λ = 10/s, W = 0.2 s, S = 0.4 s; on average 2 wait and 6 are in the system.
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var state = new QueueState("q", new QueueOptions());
        var metrics = new QueueMetrics(start);
        var service = TimeSpan.FromMilliseconds(400);
        var step = TimeSpan.FromMilliseconds(10);
        var busyUntil = new DateTime?[5];
        var running = new StoredMessage?[5];
        long nextId = 0;
        double waitingSum = 0, inSystemSum = 0;
        var samples = 0;

        for (var now = start; now < start.AddSeconds(90); now += step)
        {
            for (var slot = 0; slot < busyUntil.Length; slot++)
            {
                if (busyUntil[slot] is not { } until || until > now) continue;
                var done = running[slot]!;
                Assert.True(state.TryBeginCompletion(done.Id, done.Attempt, out _));
                state.Apply(new MessagesAcked([new AckedMessage(done.Id, done.Attempt, null, now)]));
                metrics.RecordCompletion(now);
                metrics.RecordService(service, now);
                busyUntil[slot] = null;
            }
            if ((now - start).Ticks % TimeSpan.TicksPerSecond == 0)
            {
                var arrivals = Enumerable.Range(0, 10).Select(_ => new EnqueuedMessage(++nextId, "work", new byte[] { 1 }, ImmutableDictionary<string, string>.Empty, now));
                state.Apply(new MessagesEnqueued(arrivals.ToImmutableArray()));
                metrics.RecordArrivals(10, now);
            }
            for (var slot = 0; slot < busyUntil.Length; slot++)
            {
                if (busyUntil[slot] is not null || state.Dispatch(slot, now) is not { } message) continue;
                metrics.RecordWait(now - message.EnqueuedAt, now);
                running[slot] = message;
                busyUntil[slot] = now + service;
            }
            if (now >= start.AddSeconds(60))
            {
                waitingSum += state.ReadyCount;
                inSystemSum += state.ReadyCount + state.InFlightCount;
                samples++;
            }
        }

        var stats = QueueReports.Stats("q", state, metrics, workers: 5, start.AddSeconds(90), accepting: true);
        var waiting = waitingSum / samples;
        var inSystem = inSystemSum / samples;
        Assert.Equal(2.0, waiting, 1);
        Assert.Equal(6.0, inSystem, 1);
        Assert.InRange(stats.ArrivalRate, 9.5, 10.5); // the one-minute window ends just before the next burst
        Assert.InRange(stats.LittlesLawWaiting, waiting * 0.9, waiting * 1.1);
        Assert.InRange(stats.LittlesLawInSystem, inSystem * 0.9, inSystem * 1.1);
        // 5 workers busy 4 s of every 5: utilisation 0.8, and the pool the measured load calls for at 80 % is 5.
        Assert.InRange(stats.Utilization, 0.75, 0.85);
        Assert.Equal(5, stats.SuggestedWorkers);
    }
}

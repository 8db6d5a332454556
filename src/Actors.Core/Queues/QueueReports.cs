using System.Collections.Immutable;
using Actors.State;
using Akka.Actor;
using static Actors.Protocol.QueueQueries;

namespace Actors.Queues;

/// <summary>What a queue partition reports about itself: its statistics (both sides of Little's Law) and its placement.</summary>
internal static class QueueReports
{
    /// <summary>Target consumer utilisation behind the suggested number of workers.</summary>
    public const double TargetUtilization = 0.8;

    /// <summary>The queue's statistics at <paramref name="now"/>, with <paramref name="workers"/> live workers.</summary>
    public static QueueStats Stats(string queueId, QueueState state, QueueMetrics metrics, int workers, DateTime now, bool accepting)
    {
        var lambda = metrics.ArrivalRate(now);
        var completionRate = metrics.CompletionRate(now);
        var wait = metrics.MeanWait(now);
        var service = metrics.MeanService(now);
        var utilization = workers == 0 ? 0 : Math.Min(1, completionRate * service.TotalSeconds / workers);
        var suggested = (int)Math.Ceiling(lambda * service.TotalSeconds / TargetUtilization);
        var oldest = state.OldestReadyEnqueuedAt is { } t ? now - t : TimeSpan.Zero;
        return new QueueStats(queueId, state.ReadyCount, state.InFlightCount, state.ScheduledCount, state.DeadLetterCount,
            state.TotalEnqueued, state.TotalSucceeded, state.TotalFailedAttempts, state.TotalDeadLettered, state.TotalDiscarded,
            lambda, completionRate, wait, service, lambda * wait.TotalSeconds, lambda * (wait + service).TotalSeconds,
            workers, utilization, Math.Max(suggested, lambda > 0 ? 1 : 0), oldest < TimeSpan.Zero ? TimeSpan.Zero : oldest,
            accepting, state.NextDueAt, state.TotalExpired, state.TotalCancelled, state.IdempotencyKeyCount, PendingFollowUps: state.PendingFollowUpCount, Pause: state.Pause)
        {
            Keys = state.ActiveKeys == 0 ? null
                : new KeyStats(state.ActiveKeys, state.ParkedKeys, state.OldestBlockedEnqueuedAt is { } blocked && blocked < now ? now - blocked : TimeSpan.Zero),
        };
    }

    /// <summary>Where the queue lives (<paramref name="self"/>) and how many of <paramref name="workers"/> run on each node.</summary>
    public static QueuePlacement Placement(string queueId, int partition, Address self, IEnumerable<IActorRef> workers)
    {
        var perNode = workers
            .GroupBy(w => w.Path.Address.HasLocalScope ? self.ToString() : w.Path.Address.ToString())
            .ToImmutableSortedDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return new QueuePlacement(queueId, self.ToString(), perNode, partition == 0 ? null : ImmutableSortedDictionary<int, string>.Empty.Add(partition, self.ToString()));
    }
}

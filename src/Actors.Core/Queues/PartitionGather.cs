using System.Collections.Immutable;
using Actors.Protocol;
using Akka.Actor;
using static Actors.Protocol.DeadLetterCommands;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueQueries;

namespace Actors.Queues;

/// <summary>
/// Sends one request to each partition of a queue and answers the requester with the partitions' replies merged
/// into one (a short-lived child of the <see cref="QueueManager"/>, so no actor waits with an Ask). A partition
/// answering that it is unknown or unavailable answers the whole request. When not every partition has answered
/// within the timeout (counted from the start, not from the last reply), the requester gets the request's own
/// failure reply, built from the replies that did arrive: a <see cref="QueueUnavailable"/> for a query, a
/// <see cref="BatchResult"/> whose unanswered items are <see cref="RejectionCode.JournalUnavailable"/> for a batch.
/// The requester is always answered, exactly once.
/// </summary>
internal sealed class PartitionGather : ReceiveActor, IWithTimers
{
    private readonly IReadOnlyList<(IActorRef Target, IWithQueueId Request)> _requests;
    private readonly IActorRef _replyTo;
    private readonly TimeSpan _timeout;
    private readonly List<object> _replies = new();

    public PartitionGather(string queueId, IReadOnlyList<(IActorRef Target, IWithQueueId Request)> requests, Func<IReadOnlyList<object>, object> merge,
        Func<IReadOnlyList<object>, string, object> timedOut, IActorRef replyTo, TimeSpan timeout)
    {
        _requests = requests;
        _replyTo = replyTo;
        _timeout = timeout;
        Receive<QueueNotFound>(Finish);
        Receive<QueueUnavailable>(Finish);
        Receive<GatherTimedOut>(_ => Finish(timedOut(_replies,
            $"{_requests.Count - _replies.Count} of {_requests.Count} partitions of queue '{queueId}' did not answer within {timeout}.")));
        ReceiveAny(reply =>
        {
            _replies.Add(reply);
            if (_replies.Count == _requests.Count) Finish(merge(_replies));
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props for one gathered request.</summary>
    /// <param name="queueId">The queue (its name, not a partition's entity id).</param>
    /// <param name="requests">Where each partition's request goes.</param>
    /// <param name="merge">Every partition's reply → the reply for the whole queue.</param>
    /// <param name="timedOut">The replies that arrived and the reason → the request's failure reply, when the timeout passes first.</param>
    /// <param name="replyTo">Who waits for the answer.</param>
    /// <param name="timeout">How long the partitions have to answer, all together.</param>
    public static Props Props(string queueId, IReadOnlyList<(IActorRef Target, IWithQueueId Request)> requests, Func<IReadOnlyList<object>, object> merge,
        Func<IReadOnlyList<object>, string, object> timedOut, IActorRef replyTo, TimeSpan timeout) =>
        Akka.Actor.Props.Create(() => new PartitionGather(queueId, requests, merge, timedOut, replyTo, timeout));

    protected override void PreStart()
    {
        Timers.StartSingleTimer("timeout", GatherTimedOut.Instance, _timeout);
        foreach (var (target, request) in _requests) target.Tell(request, Self);
    }

    private void Finish(object reply)
    {
        _replyTo.Tell(reply);
        Context.Stop(Self);
    }

    private sealed class GatherTimedOut : INotInfluenceReceiveTimeout
    {
        public static readonly GatherTimedOut Instance = new();
        private GatherTimedOut() { }
    }
}

/// <summary>How the replies of a queue's partitions combine into the reply for the whole queue.</summary>
internal static class PartitionMerge
{
    /// <summary>The merge for a request of this type; null when the request goes to one partition only.</summary>
    public static Func<IReadOnlyList<object>, object>? For(IWithQueueId request, string queueId) => request switch
    {
        GetStats => replies => Stats(queueId, replies.Cast<QueueStats>().ToList()),
        GetPlacement => replies => Placement(queueId, replies.Cast<QueuePlacement>().ToList()),
        ListDeadLetters list => replies => Page(queueId, replies.Cast<DeadLetterPage>().ToList(), Math.Clamp(list.Limit, 1, 1000)),
        GroupDeadLetters => replies => new DeadLetterGroups(queueId, Groups(replies.Cast<DeadLetterGroups>().SelectMany(g => g.Groups))),
        RedriveDeadLetters => replies => new DeadLettersRedriven(queueId, replies.Cast<DeadLettersRedriven>().Sum(r => r.Count),
            MergeRedriveJobs(replies.Cast<DeadLettersRedriven>().Select(r => r.Jobs))),
        RedriveJobs.ListRedriveJobs => replies => new RedriveJobs.RedriveJobList(queueId, MergeRedriveJobs(replies.Cast<RedriveJobs.RedriveJobList>().Select(r => (ImmutableArray<RedriveJobs.RedriveJobStatus>?)r.Jobs)) ?? []),
        RedriveJobs.CancelRedriveJob cancel => replies => CancelResult(queueId, cancel.JobId, replies.Cast<RedriveJobs.RedriveJobCancelResult>().ToList()),
        PurgeDeadLetters => replies => new DeadLettersPurged(queueId, replies.Cast<DeadLettersPurged>().Sum(r => r.Count)),
        QueueLifecycle.RetirePartition => replies => new QueueLifecycle.PartitionRetired(queueId, replies.Cast<QueueLifecycle.PartitionRetired>().Sum(r => r.MessageCount)),
        QueueLifecycle.Purge => replies => new QueueLifecycle.Purged(queueId, replies.Cast<QueueLifecycle.Purged>().Sum(r => r.Count)),
        ConsumerProtocol.Attach => replies => new ConsumerProtocol.Attached(queueId,
            (int)Math.Min(int.MaxValue, replies.Cast<ConsumerProtocol.Attached>().Sum(r => (long)r.ReadyCount)), replies.Cast<ConsumerProtocol.Attached>().Max(r => r.ConsumerCount)),
        ConsumerProtocol.Detach => _ => new ConsumerProtocol.Detached(queueId),
        PauseCommands.Pause or PauseCommands.Resume => replies => new PauseCommands.PauseState(queueId, Pause(replies.Cast<PauseCommands.PauseState>().Select(r => r.Pause))),
        // An idempotency key is remembered by the partition its message went to (its ordering key's, else the idempotency key's).
        FindByIdempotencyKey find => replies => replies.OfType<IdempotencyKeyFound>().FirstOrDefault() as object
            ?? new IdempotencyKeyNotFound(queueId, find.Key),
        _ => null,
    };

    /// <summary>Counts and rates add up; mean wait and service are weighted by the rates they were measured at.</summary>
    public static QueueStats Stats(string queueId, IReadOnlyList<QueueStats> parts)
    {
        var lambda = parts.Sum(p => p.ArrivalRate);
        var completion = parts.Sum(p => p.CompletionRate);
        var wait = Weighted(parts, p => p.MeanWait, p => p.ArrivalRate);
        var service = Weighted(parts, p => p.MeanService, p => p.CompletionRate);
        var workers = parts.Sum(p => p.Workers);
        return new QueueStats(queueId,
            parts.Sum(p => p.Depth), parts.Sum(p => p.InFlight), parts.Sum(p => p.Scheduled), parts.Sum(p => p.DeadLettered),
            parts.Sum(p => p.TotalEnqueued), parts.Sum(p => p.TotalSucceeded), parts.Sum(p => p.TotalFailedAttempts),
            parts.Sum(p => p.TotalDeadLettered), parts.Sum(p => p.TotalDiscarded),
            lambda, completion, wait, service, lambda * wait.TotalSeconds, lambda * (wait + service).TotalSeconds,
            workers, workers == 0 ? 0 : Math.Min(1, completion * service.TotalSeconds / workers), parts.Sum(p => p.SuggestedWorkers),
            parts.Max(p => p.OldestMessageAge), parts.All(p => p.AcceptingWork),
            parts.Min(p => p.NextDueAt ?? DateTime.MaxValue) is var due && due != DateTime.MaxValue ? due : null,
            parts.Sum(p => p.TotalExpired), parts.Sum(p => p.TotalCancelled), parts.Sum(p => p.IdempotencyKeys),
            MergeRedriveJobs(parts.Select(p => p.RedriveJobs)), DispatchLimitStats.Sum(parts.Select(p => p.Limits)), KeyStats.Sum(parts.Select(p => p.Keys)),
            parts.Sum(p => p.PendingFollowUps), Pause(parts.Select(p => p.Pause)), AutoscaleStats.Sum(parts.Select(p => p.Autoscale)),
            parts.Count == 0 ? 0 : parts.Max(p => p.Consumers));
    }

    /// <summary>A queue is paused while any partition is: the earliest pause in force, or null when none is.</summary>
    public static QueuePause? Pause(IEnumerable<QueuePause?> parts) => parts.OfType<QueuePause>().MinBy(p => p.Since);

    private static TimeSpan Weighted(IReadOnlyList<QueueStats> parts, Func<QueueStats, TimeSpan> value, Func<QueueStats, double> weight)
    {
        var total = parts.Sum(weight);
        return total > 0
            ? TimeSpan.FromTicks((long)(parts.Sum(p => value(p).Ticks * weight(p)) / total))
            : TimeSpan.FromTicks((long)parts.Average(p => value(p).Ticks));
    }

    /// <summary>Every partition's redrive jobs, by partition; null when there are none.</summary>
    public static ImmutableArray<RedriveJobs.RedriveJobStatus>? MergeRedriveJobs(IEnumerable<ImmutableArray<RedriveJobs.RedriveJobStatus>?> parts)
    {
        var jobs = parts.SelectMany(p => p ?? []).OrderBy(j => j.StartedAt).ThenBy(j => j.Partition).ToImmutableArray();
        return jobs.IsEmpty ? null : jobs;
    }

    /// <summary>A job runs in every partition that had dead letters to redrive: cancelled where it was active; its statuses add up.</summary>
    public static RedriveJobs.RedriveJobCancelResult CancelResult(string queueId, string jobId, IReadOnlyList<RedriveJobs.RedriveJobCancelResult> parts)
    {
        var jobs = parts.Where(p => p.Job is not null).Select(p => p.Job!).ToList();
        var job = jobs.Count == 0 ? null : jobs[0] with { Total = jobs.Sum(j => j.Total), Redriven = jobs.Sum(j => j.Redriven), StartedAt = jobs.Min(j => j.StartedAt) };
        return new RedriveJobs.RedriveJobCancelResult(queueId, jobId, parts.Any(p => p.Cancelled), job);
    }

    /// <summary>Partition 0's node, every partition's node, and the workers of all partitions per node.</summary>
    public static QueuePlacement Placement(string queueId, IReadOnlyList<QueuePlacement> parts)
    {
        var nodes = parts.ToImmutableSortedDictionary(p => p.PartitionNodes?.Keys.Single() ?? 0, p => p.Node);
        var workers = parts.SelectMany(p => p.WorkersByNode)
            .GroupBy(w => w.Key, StringComparer.Ordinal)
            .ToImmutableSortedDictionary(g => g.Key, g => g.Sum(w => w.Value), StringComparer.Ordinal);
        return new QueuePlacement(queueId, nodes[0], workers, nodes);
    }

    /// <summary>Ids order partitions (partition in the high bits), so the merged page is the first <paramref name="limit"/> by id.</summary>
    public static DeadLetterPage Page(string queueId, IReadOnlyList<DeadLetterPage> parts, int limit)
    {
        var all = parts.SelectMany(p => p.Items).OrderBy(i => i.MessageId).ToList();
        var items = all.Take(limit).ToImmutableArray();
        var more = all.Count > limit || parts.Any(p => p.NextAfterId is not null);
        return new DeadLetterPage(queueId, items, parts.Sum(p => p.TotalMatching), more && items.Length > 0 ? items[^1].MessageId : null);
    }

    /// <summary>The same fingerprint in several partitions is one group.</summary>
    public static ImmutableArray<DeadLetterGroup> Groups(IEnumerable<DeadLetterGroup> groups) =>
        groups.GroupBy(g => g.Fingerprint, StringComparer.Ordinal)
            .Select(g => new DeadLetterGroup(g.Key, g.First().ErrorType, g.First().SampleMessage, g.Sum(x => x.Count),
                g.SelectMany(x => x.Types).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToImmutableArray(),
                g.Min(x => x.FirstAt), g.Max(x => x.LastAt)))
            .OrderByDescending(g => g.Count).ThenBy(g => g.Fingerprint, StringComparer.Ordinal)
            .ToImmutableArray();

    /// <summary>
    /// The batch's outcomes in its own order, from sub-batches that each carried the indices in <paramref name="indices"/>;
    /// an item whose sub-batch did not answer (<paramref name="missing"/> says why) is <see cref="RejectionCode.JournalUnavailable"/>:
    /// it may or may not be stored, so a retry should carry an idempotency key.
    /// </summary>
    public static BatchResult Batch(string queueId, long correlationId, int count, IReadOnlyList<int[]> indices, IReadOnlyList<object> replies, string? missing = null)
    {
        var outcomes = new EnqueueOutcome[count];
        foreach (var result in replies.OfType<BatchResult>())
        {
            var map = indices[(int)result.CorrelationId];
            for (var i = 0; i < map.Length; i++) outcomes[map[i]] = result.Outcomes[i];
        }
        var unanswered = new EnqueueOutcome(null, RejectionCode.JournalUnavailable, missing ?? "The partition did not answer.");
        for (var i = 0; i < count; i++) outcomes[i] ??= unanswered;
        return new BatchResult(queueId, ImmutableArray.Create(outcomes), correlationId);
    }
}

using System.Collections.Immutable;

namespace Actors.Protocol;

/// <summary>Where a message is in its life.</summary>
public enum MessageStatus
{
    /// <summary>Stored and waiting for a worker.</summary>
    Queued = 0,
    /// <summary>Delivered to a worker that has not answered yet.</summary>
    InFlight = 1,
    /// <summary>Handled successfully (kept for a retention window).</summary>
    Succeeded = 2,
    /// <summary>An attempt failed; the next one is scheduled.</summary>
    FailedRetrying = 3,
    /// <summary>Out of attempts (or not retryable); kept for an operator.</summary>
    DeadLettered = 4,
    /// <summary>Dropped by a discard rule of the retry policy (recorded and counted).</summary>
    Discarded = 5,

    /// <summary>Stored and waiting for its delivery time.</summary>
    Scheduled = 6,

    /// <summary>Not started before its expiry; not run (dead-lettered or dropped per the queue's <c>ExpiredAction</c>).</summary>
    Expired = 7,

    /// <summary>Cancelled by a producer or operator; never runs again.</summary>
    Cancelled = 8,

    /// <summary>
    /// Out of attempts and keeping its ordering key parked: a dead letter that nothing of its key overtakes until an
    /// operator releases, skips or purges the key.
    /// </summary>
    Parked = 9,
}

/// <summary>Queries a queue answers from its state.</summary>
public static class QueueQueries
{
    /// <summary>Ask a queue for one message; answered with <see cref="MessageInfo"/> or <see cref="MessageNotFound"/>.</summary>
    public sealed record GetMessage(string QueueId, long MessageId) : IWithQueueId, IQueueMessage;

    /// <summary>What a queue knows of one message.</summary>
    /// <param name="QueueId">The queue.</param>
    /// <param name="MessageId">The message id.</param>
    /// <param name="Type">The message type name.</param>
    /// <param name="Status">Where the message is.</param>
    /// <param name="Attempts">Attempts started so far (including one in flight).</param>
    /// <param name="EnqueuedAt">When it was accepted.</param>
    /// <param name="NextAttemptAt">When the next attempt is due, for a scheduled retry.</param>
    /// <param name="FinishedAt">When it succeeded, was dead-lettered or discarded.</param>
    /// <param name="Errors">Every failed attempt's error, oldest first (capped).</param>
    /// <param name="Result">What the handler returned, for a succeeded message.</param>
    /// <param name="Payload">The payload, while the message is still held by the queue.</param>
    /// <param name="Headers">The headers.</param>
    /// <param name="FollowUp">The follow-up its outcome called for (see <see cref="Continuation"/>), once it is final; null when none.</param>
    public sealed record MessageInfo(
        string QueueId,
        long MessageId,
        string Type,
        MessageStatus Status,
        int Attempts,
        DateTime EnqueuedAt,
        DateTime? NextAttemptAt,
        DateTime? FinishedAt,
        ImmutableList<ErrorInfo> Errors,
        ReadOnlyMemory<byte>? Result,
        ReadOnlyMemory<byte>? Payload,
        ImmutableDictionary<string, string> Headers,
        FollowUpRef? FollowUp = null) : IWithQueueId, IQueueMessage;

    /// <summary>The queue does not hold the message (never existed, or succeeded longer ago than the retention).</summary>
    public sealed record MessageNotFound(string QueueId, long MessageId) : IWithQueueId, IQueueMessage;

    /// <summary>
    /// Ask a queue which message an idempotency key stored, while the queue remembers the key (its de-duplication
    /// window); answered with <see cref="IdempotencyKeyFound"/> or <see cref="IdempotencyKeyNotFound"/>.
    /// </summary>
    public sealed record FindByIdempotencyKey(string QueueId, string Key) : IWithQueueId, IQueueMessage;

    /// <summary>
    /// The message an idempotency key stored: its id, when it was accepted, and its status while the queue still holds
    /// or retains it (null after that, though the key is still remembered).
    /// </summary>
    public sealed record IdempotencyKeyFound(string QueueId, string Key, long MessageId, DateTime AcceptedAt, MessageInfo? Message) : IWithQueueId, IQueueMessage;

    /// <summary>The queue does not remember the key (never used, or longer ago than its de-duplication window).</summary>
    public sealed record IdempotencyKeyNotFound(string QueueId, string Key) : IWithQueueId, IQueueMessage;

    /// <summary>Ask a queue for its statistics; answered with <see cref="QueueStats"/>.</summary>
    public sealed record GetStats(string QueueId) : IWithQueueId, IQueueMessage;

    /// <summary>
    /// A queue's numbers. Little's Law (L = λW) ties them: <see cref="LittlesLawWaiting"/> = λ × mean wait should
    /// match the measured <see cref="Depth"/>, and λ × (wait + service) should match depth + in-flight.
    /// </summary>
    /// <param name="QueueId">The queue.</param>
    /// <param name="Depth">Messages waiting for a worker (L, measured).</param>
    /// <param name="InFlight">Messages a worker is running.</param>
    /// <param name="Scheduled">Messages waiting for a retry's due time.</param>
    /// <param name="DeadLettered">Messages in the dead-letter set.</param>
    /// <param name="TotalEnqueued">Messages accepted since the queue was created.</param>
    /// <param name="TotalSucceeded">Messages handled successfully since the queue was created.</param>
    /// <param name="TotalFailedAttempts">Failed attempts since the queue was created.</param>
    /// <param name="TotalDeadLettered">Messages dead-lettered since the queue was created.</param>
    /// <param name="TotalDiscarded">Messages discarded by policy since the queue was created.</param>
    /// <param name="ArrivalRate">λ: messages accepted per second over the last minute.</param>
    /// <param name="CompletionRate">Messages finished per second over the last minute.</param>
    /// <param name="MeanWait">W: mean time from enqueue to the start of a delivery, over the last minute.</param>
    /// <param name="MeanService">Mean handler time, over the last minute.</param>
    /// <param name="LittlesLawWaiting">λ × W: the depth Little's Law predicts.</param>
    /// <param name="LittlesLawInSystem">λ × (W + service): the depth + in-flight Little's Law predicts.</param>
    /// <param name="Workers">Workers in the consumer pool (with autoscaling, the active ones: those that get new deliveries).</param>
    /// <param name="Utilization">Fraction of worker capacity busy over the last minute (completion rate × service ÷ workers).</param>
    /// <param name="SuggestedWorkers">Workers the measured λ and service time call for at 80 % utilisation.</param>
    /// <param name="OldestMessageAge">Age of the oldest waiting message.</param>
    /// <param name="AcceptingWork">False while the queue drains for shutdown.</param>
    /// <param name="NextDueAt">When the next scheduled message (delayed, or a retry) is due, if any.</param>
    /// <param name="TotalExpired">Messages that expired before they started, since the queue was created.</param>
    /// <param name="TotalCancelled">Messages cancelled since the queue was created.</param>
    /// <param name="IdempotencyKeys">Idempotency keys remembered within the de-duplication window.</param>
    /// <param name="RedriveJobs">Active redrive jobs with their progress, oldest first; null when there are none.</param>
    /// <param name="Limits">The queue's rate and concurrency limits and the deliveries that waited for them; null when it has none.</param>
    /// <param name="Keys">The queue's ordering keys: active, parked, and the oldest message waiting behind its key; null when it holds no keyed message.</param>
    /// <param name="PendingFollowUps">Follow-ups owed (see <see cref="Continuation"/>) and not yet stored by their target queues.</param>
    /// <param name="Pause">The pause in force (see <see cref="PauseCommands"/>): since when, by whom, why; null while the queue runs.</param>
    /// <param name="Autoscale">The autoscaler's last decision and the pool it shaped; null when the queue does not autoscale.</param>
    /// <param name="Consumers">Consumers attached from outside the pool (see <see cref="ConsumerProtocol"/>; with partitions, the most any partition has).</param>
    public sealed record QueueStats(
        string QueueId,
        long Depth,
        long InFlight,
        long Scheduled,
        long DeadLettered,
        long TotalEnqueued,
        long TotalSucceeded,
        long TotalFailedAttempts,
        long TotalDeadLettered,
        long TotalDiscarded,
        double ArrivalRate,
        double CompletionRate,
        TimeSpan MeanWait,
        TimeSpan MeanService,
        double LittlesLawWaiting,
        double LittlesLawInSystem,
        int Workers,
        double Utilization,
        int SuggestedWorkers,
        TimeSpan OldestMessageAge,
        bool AcceptingWork,
        DateTime? NextDueAt = null,
        long TotalExpired = 0,
        long TotalCancelled = 0,
        long IdempotencyKeys = 0,
        ImmutableArray<Actors.Protocol.RedriveJobs.RedriveJobStatus>? RedriveJobs = null,
        DispatchLimitStats? Limits = null,
        KeyStats? Keys = null,
        long PendingFollowUps = 0,
        QueuePause? Pause = null,
        AutoscaleStats? Autoscale = null,
        int Consumers = 0) : IWithQueueId, IQueueMessage
    {
        /// <summary>True while the queue is paused: it accepts messages and starts no deliveries.</summary>
        public bool Paused => Pause is not null;
    }

    /// <summary>
    /// An autoscaled pool (summed over a queue's partitions): its workers and the last decision, with the λ, S and B it
    /// used (see <see cref="Configuration.AutoscaleOptions"/>).
    /// </summary>
    /// <param name="Active">Workers that get new deliveries.</param>
    /// <param name="Target">Active workers the last decision asked for.</param>
    /// <param name="Deployed">Workers deployed (active, draining and idle).</param>
    /// <param name="Draining">Workers taken out of the active set that still finish deliveries they hold.</param>
    /// <param name="Need">Workers the last measurements called for, before the steps and the stabilisation window.</param>
    /// <param name="ArrivalRate">λ the last decision used: the smoothed arrival rate, per second.</param>
    /// <param name="MeanService">S the last decision used: the mean service time.</param>
    /// <param name="Backlog">B the last decision used: messages waiting.</param>
    /// <param name="TargetUtilisation">ρ the decision sizes for.</param>
    /// <param name="DecidedAt">When the last decision was made; null before the first.</param>
    public sealed record AutoscaleStats(int Active, int Target, int Deployed, int Draining, int Need, double ArrivalRate, TimeSpan MeanService, long Backlog, double TargetUtilisation, DateTime? DecidedAt)
    {
        /// <summary>The partitions' pools together (counts and rates add up; S is weighted by λ); null when none autoscales.</summary>
        public static AutoscaleStats? Sum(IEnumerable<AutoscaleStats?> parts)
        {
            var present = parts.OfType<AutoscaleStats>().ToList();
            if (present.Count == 0) return null;
            var lambda = present.Sum(p => p.ArrivalRate);
            var service = lambda > 0
                ? TimeSpan.FromTicks((long)(present.Sum(p => p.MeanService.Ticks * p.ArrivalRate) / lambda))
                : TimeSpan.FromTicks((long)present.Average(p => p.MeanService.Ticks));
            return new AutoscaleStats(present.Sum(p => p.Active), present.Sum(p => p.Target), present.Sum(p => p.Deployed), present.Sum(p => p.Draining),
                present.Sum(p => p.Need), lambda, service, present.Sum(p => p.Backlog), present[0].TargetUtilisation, present.Max(p => p.DecidedAt));
        }
    }

    /// <summary>A queue's ordering keys (summed over its partitions); null on a queue that holds no keyed message.</summary>
    /// <param name="ActiveKeys">Keys with at least one message not yet final.</param>
    /// <param name="ParkedKeys">Keys parked behind a dead letter, waiting for an operator.</param>
    /// <param name="OldestBlockedAge">How long the oldest message waiting behind another of its key (or its parked key) has waited.</param>
    public sealed record KeyStats(long ActiveKeys, long ParkedKeys, TimeSpan OldestBlockedAge)
    {
        /// <summary>The keys of a queue's partitions together; null when none has any.</summary>
        public static KeyStats? Sum(IEnumerable<KeyStats?> parts)
        {
            var present = parts.OfType<KeyStats>().ToList();
            return present.Count == 0 ? null
                : new KeyStats(present.Sum(k => k.ActiveKeys), present.Sum(k => k.ParkedKeys), present.Max(k => k.OldestBlockedAge));
        }
    }

    /// <summary>
    /// A queue's dispatch limits (a partition's share of them, or their sum over the partitions in a queue's merged
    /// statistics) and how many deliveries started after waiting for each since the partition started.
    /// </summary>
    /// <param name="RatePermits">Permits per <paramref name="RatePeriod"/>; null without a rate limit.</param>
    /// <param name="RatePeriod">The rate limit's period.</param>
    /// <param name="RateBurst">The rate limit's burst (its bucket's size).</param>
    /// <param name="MaxConcurrency">Most deliveries in flight at once; null without a concurrency limit.</param>
    /// <param name="WaitedForRate">Deliveries that started after waiting for the rate limit.</param>
    /// <param name="WaitedForConcurrency">Deliveries that started after waiting for the concurrency limit.</param>
    public sealed record DispatchLimitStats(int? RatePermits, TimeSpan? RatePeriod, int? RateBurst, int? MaxConcurrency, long WaitedForRate, long WaitedForConcurrency)
    {
        /// <summary>The partitions' limits added up (they share the period); null when none has a limit.</summary>
        public static DispatchLimitStats? Sum(IEnumerable<DispatchLimitStats?> parts)
        {
            DispatchLimitStats? total = null;
            foreach (var part in parts)
            {
                if (part is null) continue;
                total = total is null ? part : new DispatchLimitStats(total.RatePermits + part.RatePermits, total.RatePeriod ?? part.RatePeriod,
                    total.RateBurst + part.RateBurst, total.MaxConcurrency + part.MaxConcurrency,
                    total.WaitedForRate + part.WaitedForRate, total.WaitedForConcurrency + part.WaitedForConcurrency);
            }
            return total;
        }
    }

    /// <summary>Ask the queue manager which queues it hosts; answered with <see cref="QueueNames"/>.</summary>
    public sealed class ListQueues : IQueueMessage
    {
        /// <summary>The single instance.</summary>
        public static readonly ListQueues Instance = new();
        private ListQueues() { }
    }

    /// <summary>The names of the declared queues, sorted.</summary>
    public sealed record QueueNames(ImmutableArray<string> Names) : IQueueMessage;

    /// <summary>
    /// Ask the queue manager whether the queue partitions this node hosts have recovered and answer; answered with
    /// <see cref="LocalQueuesStatus"/>. Only this node's partitions are asked, so a queue on another node that is
    /// failing over does not make this one unready.
    /// </summary>
    /// <remarks>Local to a node: never sent between nodes, so not serialized.</remarks>
    public sealed class CheckLocalQueues
    {
        /// <summary>The single instance.</summary>
        public static readonly CheckLocalQueues Instance = new();
        private CheckLocalQueues() { }
    }

    /// <summary>The queue partitions this node hosts, and those that did not answer (restarting, recovering, or stuck).</summary>
    /// <param name="Hosted">The entity ids (<c>queue</c> or <c>queue#partition</c>) hosted here; none on a node without the queue role.</param>
    /// <param name="NotReady">The hosted ones that did not answer with their statistics, each with the reason.</param>
    /// <param name="MemberStatus">In a cluster, this node's membership status (<c>Up</c> when it serves); null on a standalone node.</param>
    public sealed record LocalQueuesStatus(ImmutableArray<string> Hosted, ImmutableArray<string> NotReady, string? MemberStatus)
    {
        /// <summary>True when every hosted partition answered and, in a cluster, the node is <c>Up</c>.</summary>
        public bool IsReady => NotReady.IsEmpty && MemberStatus is null or "Up";
    }

    /// <summary>A query could not be answered because the queue is restarting after a failure.</summary>
    public sealed record QueueUnavailable(string QueueId, string Reason) : IWithQueueId, IQueueMessage;

    /// <summary>A query named a queue this node does not declare.</summary>
    public sealed record QueueNotFound(string QueueId) : IWithQueueId, IQueueMessage;

    /// <summary>Ask a queue where it lives; answered with <see cref="QueuePlacement"/>.</summary>
    public sealed record GetPlacement(string QueueId) : IWithQueueId, IQueueMessage;

    /// <summary>Where a queue lives and where its workers run.</summary>
    /// <param name="QueueId">The queue.</param>
    /// <param name="Node">The address of the node hosting the queue actor.</param>
    /// <param name="WorkersByNode">Live workers of the queue's pool per node address (summed over partitions).</param>
    /// <param name="PartitionNodes">For a partitioned queue, the node of each partition; <paramref name="Node"/> is partition 0's.</param>
    public sealed record QueuePlacement(string QueueId, string Node, ImmutableSortedDictionary<string, int> WorkersByNode,
        ImmutableSortedDictionary<int, string>? PartitionNodes = null) : IWithQueueId, IQueueMessage;
}

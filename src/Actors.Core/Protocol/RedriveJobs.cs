using System.Collections.Immutable;

namespace Actors.Protocol;

/// <summary>
/// Persisted redrive jobs: a redrive larger than one chunk is a job of its queue partition, stored with its selection
/// and progress in its own journal stream, so it resumes after a restart or failover and can be listed and cancelled.
/// </summary>
public static class RedriveJobs
{
    /// <summary>A fresh job id: 12 hex digits.</summary>
    public static string NewJobId() => Guid.NewGuid().ToString("N")[..12];

    /// <summary>One redrive job as reported: how far it is.</summary>
    /// <param name="JobId">The job's id (unique; the same in every partition a redrive started a job in).</param>
    /// <param name="Partition">The queue partition the job runs in.</param>
    /// <param name="Total">Dead letters the job selected.</param>
    /// <param name="Redriven">Of those, how many it has handled so far (ones no longer dead-lettered are skipped, not counted again).</param>
    /// <param name="StartedAt">When the job was requested (UTC).</param>
    /// <param name="RequestedBy">Who asked for it, when known.</param>
    public sealed record RedriveJobStatus(string JobId, int Partition, int Total, int Redriven, DateTime StartedAt, string? RequestedBy)
    {
        /// <summary>Dead letters the job has still to handle.</summary>
        public int Remaining => Total - Redriven;
    }

    /// <summary>The queue's active redrive jobs; answered with <see cref="RedriveJobList"/>.</summary>
    public sealed record ListRedriveJobs(string QueueId) : IWithQueueId, IQueueMessage;

    /// <summary>Active redrive jobs, oldest first (jobs run one at a time per partition, in that order).</summary>
    public sealed record RedriveJobList(string QueueId, ImmutableArray<RedriveJobStatus> Jobs) : IWithQueueId, IQueueMessage;

    /// <summary>Stops a redrive job (persisted): what it has not redriven stays dead-lettered. Answered with <see cref="RedriveJobCancelResult"/>.</summary>
    public sealed record CancelRedriveJob(string QueueId, string JobId, string? RequestedBy = null) : IWithQueueId, IQueueMessage;

    /// <summary>Whether the job was active and is now cancelled (false: no such active job); <paramref name="Job"/> is its last status.</summary>
    public sealed record RedriveJobCancelResult(string QueueId, string JobId, bool Cancelled, RedriveJobStatus? Job) : IWithQueueId, IQueueMessage;

    /// <summary>Marker for the events of a redrive-job journal stream (<c>queue-{name}-{partition}-redrive</c>).</summary>
    public interface IRedriveJobEvent : IQueueMessage;

    /// <summary>A job was started for these dead letters (sorted ids).</summary>
    public sealed record RedriveJobStarted(string JobId, ImmutableArray<long> Ids, DateTime RequestedAt, string? RequestedBy) : IRedriveJobEvent;

    /// <summary>The job's ids before <paramref name="Position"/> are redriven (their queue write committed).</summary>
    public sealed record RedriveChunkDone(string JobId, int Position) : IRedriveJobEvent;

    /// <summary>The job handled its last id.</summary>
    public sealed record RedriveJobFinished(string JobId, DateTime At) : IRedriveJobEvent;

    /// <summary>An operator cancelled the job.</summary>
    public sealed record RedriveJobCancelled(string JobId, DateTime At, string? CancelledBy) : IRedriveJobEvent;

    /// <summary>One active job in a snapshot.</summary>
    public sealed record RedriveJobRecord(string JobId, ImmutableArray<long> Ids, int Position, DateTime RequestedAt, string? RequestedBy);

    /// <summary>The active jobs of a partition, saved when a job ends so the stream's events can be deleted.</summary>
    public sealed record RedriveJobsSnapshot(ImmutableArray<RedriveJobRecord> Jobs) : IQueueMessage;
}

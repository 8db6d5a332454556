using System.Collections.Immutable;
using static Actors.Protocol.RedriveJobs;

namespace Actors.State;

/// <summary>
/// The active redrive jobs of one queue partition, oldest first: each job's selection (sorted ids) and how far it
/// is. Pure: rebuilt from the redrive-job events and snapshot, it says which chunk runs next. Jobs run one at a
/// time, in the order they were started.
/// </summary>
internal sealed class RedriveJobBook
{
    private readonly int _partition;
    private readonly List<Job> _jobs = new();

    /// <summary>An empty book for <paramref name="partition"/>.</summary>
    public RedriveJobBook(int partition) => _partition = partition;

    /// <summary>Whether no job is active.</summary>
    public bool IsEmpty => _jobs.Count == 0;

    /// <summary>The book a snapshot describes.</summary>
    public static RedriveJobBook FromSnapshot(int partition, RedriveJobsSnapshot snapshot)
    {
        var book = new RedriveJobBook(partition);
        foreach (var job in snapshot.Jobs) book._jobs.Add(new Job(job.JobId, job.Ids, job.RequestedAt, job.RequestedBy) { Position = job.Position });
        return book;
    }

    /// <summary>The active jobs with their selections and positions.</summary>
    public RedriveJobsSnapshot ToSnapshot() =>
        new(_jobs.Select(j => new RedriveJobRecord(j.JobId, j.Ids, j.Position, j.RequestedAt, j.RequestedBy)).ToImmutableArray());

    /// <summary>Applies one event; an event naming a job that is not active changes nothing.</summary>
    public void Apply(IRedriveJobEvent evt)
    {
        switch (evt)
        {
            case RedriveJobStarted started when Find(started.JobId) is null:
                _jobs.Add(new Job(started.JobId, started.Ids, started.RequestedAt, started.RequestedBy));
                break;
            case RedriveChunkDone done when Find(done.JobId) is { } job:
                job.Position = Math.Clamp(done.Position, job.Position, job.Ids.Length);
                break;
            case RedriveJobFinished finished:
                _jobs.RemoveAll(j => j.JobId == finished.JobId);
                break;
            case RedriveJobCancelled cancelled:
                _jobs.RemoveAll(j => j.JobId == cancelled.JobId);
                break;
        }
    }

    /// <summary>
    /// The next chunk of the oldest job: at most <paramref name="size"/> ids from its position, and the position after
    /// them. Null when no job is active. A job whose ids are all handled gives an empty chunk (it is to be finished).
    /// </summary>
    public RedriveChunkPlan? NextChunk(int size)
    {
        if (_jobs.Count == 0) return null;
        var job = _jobs[0];
        var count = Math.Min(size, job.Ids.Length - job.Position);
        return new RedriveChunkPlan(job.JobId, job.Position + count, job.Ids.AsSpan(job.Position, count).ToImmutableArray());
    }

    /// <summary>Whether <paramref name="jobId"/> is active and has handled every id.</summary>
    public bool IsComplete(string jobId) => Find(jobId) is { } job && job.Position == job.Ids.Length;

    /// <summary>The status of an active job; null when it is not active.</summary>
    public RedriveJobStatus? Status(string jobId) => Find(jobId) is { } job ? StatusOf(job) : null;

    /// <summary>Every active job's status, oldest first.</summary>
    public ImmutableArray<RedriveJobStatus> Statuses() => _jobs.Select(StatusOf).ToImmutableArray();

    private RedriveJobStatus StatusOf(Job job) => new(job.JobId, _partition, job.Ids.Length, job.Position, job.RequestedAt, job.RequestedBy);

    private Job? Find(string jobId) => _jobs.Find(j => j.JobId == jobId);

    private sealed class Job(string jobId, ImmutableArray<long> ids, DateTime requestedAt, string? requestedBy)
    {
        public string JobId { get; } = jobId;
        public ImmutableArray<long> Ids { get; } = ids;
        public DateTime RequestedAt { get; } = requestedAt;
        public string? RequestedBy { get; } = requestedBy;
        public int Position { get; set; }
    }
}

/// <summary>One chunk of a redrive job: its ids, and the job's position once they are redriven.</summary>
internal sealed record RedriveChunkPlan(string JobId, int End, ImmutableArray<long> Ids);

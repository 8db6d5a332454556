using System.Collections.Immutable;

namespace Actors.Protocol;

/// <summary>Operator commands and queries over a queue's dead letters.</summary>
public static class DeadLetterCommands
{
    /// <summary>Which dead letters a query, redrive or purge applies to. Empty filters match everything.</summary>
    /// <param name="Ids">Only these message ids (empty: any).</param>
    /// <param name="Type">Only this message type.</param>
    /// <param name="ErrorType">Only messages whose last error has this exception type (full or short name).</param>
    /// <param name="Fingerprint">Only messages whose last error has this fingerprint.</param>
    /// <param name="Since">Only messages dead-lettered at or after this time.</param>
    /// <param name="Until">Only messages dead-lettered before this time.</param>
    public sealed record DeadLetterFilter(
        ImmutableArray<long> Ids = default,
        string? Type = null,
        string? ErrorType = null,
        string? Fingerprint = null,
        DateTime? Since = null,
        DateTime? Until = null)
    {
        /// <summary>Matches every dead letter.</summary>
        public static readonly DeadLetterFilter All = new();

        /// <summary>Only these message ids (empty: any); never a default array, so the filter serializes between nodes.</summary>
        public ImmutableArray<long> Ids { get; init; } = Ids.IsDefault ? [] : Ids;
    }

    /// <summary>A page of dead letters in id order, after <paramref name="AfterId"/>; answered with <see cref="DeadLetterPage"/>.</summary>
    public sealed record ListDeadLetters(string QueueId, DeadLetterFilter Filter, long AfterId = 0, int Limit = 100) : IWithQueueId, IQueueMessage;

    /// <summary>One dead letter in a listing; the full message (payload, every error) comes from <c>GetMessage</c>.</summary>
    public sealed record DeadLetterSummary(long MessageId, string Type, int Attempts, DateTime EnqueuedAt, DateTime? DeadLetteredAt, string Reason, ErrorInfo? LastError, string Fingerprint);

    /// <summary>A page of dead letters; <paramref name="NextAfterId"/> is null on the last page.</summary>
    public sealed record DeadLetterPage(string QueueId, ImmutableArray<DeadLetterSummary> Items, int TotalMatching, long? NextAfterId) : IWithQueueId, IQueueMessage;

    /// <summary>Dead letters grouped by failure fingerprint; answered with <see cref="DeadLetterGroups"/>.</summary>
    public sealed record GroupDeadLetters(string QueueId) : IWithQueueId, IQueueMessage;

    /// <summary>One failure fingerprint: "412 × TimeoutException: connection to smtp timed out after # ms".</summary>
    public sealed record DeadLetterGroup(string Fingerprint, string ErrorType, string SampleMessage, int Count, ImmutableArray<string> Types, DateTime? FirstAt, DateTime? LastAt);

    /// <summary>The groups, largest first.</summary>
    public sealed record DeadLetterGroups(string QueueId, ImmutableArray<DeadLetterGroup> Groups) : IWithQueueId, IQueueMessage;

    /// <summary>
    /// Moves matching dead letters back to the ready set with a fresh attempt count. A selection that fits in one
    /// chunk (the queue's <c>RedrivePerSecond</c> / 10 per partition) is one write, answered with
    /// <see cref="DeadLettersRedriven"/> after it commits. A larger one becomes a persisted redrive job
    /// (<see cref="RedriveJobs"/>) that runs at the redrive rate and survives restarts; the answer comes once the job
    /// is stored, with its status in <see cref="DeadLettersRedriven.Jobs"/>.
    /// </summary>
    /// <param name="QueueId">The queue.</param>
    /// <param name="Filter">Which dead letters.</param>
    /// <param name="JobId">The id a job gets (the same in every partition); null: one is made up.</param>
    /// <param name="RequestedBy">Who asks, recorded with a job.</param>
    public sealed record RedriveDeadLetters(string QueueId, DeadLetterFilter Filter, string? JobId = null, string? RequestedBy = null) : IWithQueueId, IQueueMessage;

    /// <summary>
    /// How many dead letters went back to the ready set now (<paramref name="Count"/>), and the redrive jobs started
    /// for the rest (null when none: the redrive is complete).
    /// </summary>
    public sealed record DeadLettersRedriven(string QueueId, int Count, ImmutableArray<RedriveJobs.RedriveJobStatus>? Jobs = null) : IWithQueueId, IQueueMessage
    {
        /// <summary>Dead letters selected: those redriven now and those the started jobs redrive.</summary>
        public int Selected => Count + (Jobs?.Sum(j => j.Total) ?? 0);
    }

    /// <summary>Deletes matching dead letters for good (persisted). Answered with <see cref="DeadLettersPurged"/>.</summary>
    public sealed record PurgeDeadLetters(string QueueId, DeadLetterFilter Filter) : IWithQueueId, IQueueMessage;

    /// <summary>How many dead letters were deleted.</summary>
    public sealed record DeadLettersPurged(string QueueId, int Count) : IWithQueueId, IQueueMessage;
}

using Actors.Schedules;

namespace Actors.Client;

/// <summary>
/// Manage cron and interval schedules in-process (the HTTP API's <c>/schedules</c> routes use it). Every method is
/// safe to call concurrently; refusals throw <see cref="ScheduleException"/>.
/// </summary>
public interface IScheduleClient
{
    /// <summary>Creates or replaces a schedule; the same definition again changes nothing.</summary>
    /// <exception cref="ScheduleException">Bad id or definition (invalid cron, unknown time zone, interval under 1 s, …), unknown queue, or no answer.</exception>
    Task<ScheduleUpsert> PutAsync(string id, ScheduleOptions schedule, CancellationToken cancellationToken = default);

    /// <summary>A schedule's status: definition, next occurrences, last fires, missed and skipped counts; null when there is none.</summary>
    Task<ScheduleStatus?> GetAsync(string id, int next = 5, CancellationToken cancellationToken = default);

    /// <summary>Every schedule's status, by id.</summary>
    Task<IReadOnlyList<ScheduleStatus>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Deletes a schedule; false when there was none.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Pauses a schedule and returns its status; null when there is none.</summary>
    Task<ScheduleStatus?> PauseAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Resumes a schedule and returns its status; null when there is none.</summary>
    Task<ScheduleStatus?> ResumeAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Fires a schedule once now and returns the stored message; null when there is no such schedule.</summary>
    /// <exception cref="ScheduleException">The target queue refused the message.</exception>
    Task<ScheduleCommands.ScheduleTriggered?> TriggerAsync(string id, CancellationToken cancellationToken = default);
}

/// <summary>The outcome of <see cref="IScheduleClient.PutAsync"/>.</summary>
/// <param name="Created">There was no such schedule.</param>
/// <param name="Changed">The definition differed from the stored one (always true when created).</param>
/// <param name="Status">The schedule's status afterwards.</param>
public sealed record ScheduleUpsert(bool Created, bool Changed, ScheduleStatus Status);

/// <summary>A schedule request was refused; <see cref="Code"/> says why.</summary>
public sealed class ScheduleException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ScheduleException(ScheduleErrorCode code, string message) : base(message) => Code = code;

    /// <summary>Creates the exception.</summary>
    public ScheduleException(ScheduleErrorCode code, string message, Exception innerException) : base(message, innerException) => Code = code;

    /// <summary>Creates an exception with code <see cref="ScheduleErrorCode.Unavailable"/>.</summary>
    public ScheduleException() : this(ScheduleErrorCode.Unavailable, "The schedule is unavailable.") { }

    /// <summary>Creates an exception with code <see cref="ScheduleErrorCode.Unavailable"/>.</summary>
    public ScheduleException(string message) : this(ScheduleErrorCode.Unavailable, message) { }

    /// <summary>Creates an exception with code <see cref="ScheduleErrorCode.Unavailable"/>.</summary>
    public ScheduleException(string message, Exception innerException) : this(ScheduleErrorCode.Unavailable, message, innerException) { }

    /// <summary>Why the request was refused.</summary>
    public ScheduleErrorCode Code { get; }
}

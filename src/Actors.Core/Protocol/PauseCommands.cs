namespace Actors.Protocol;

/// <summary>
/// Pausing a queue: a paused queue keeps accepting messages but starts no new deliveries (in-flight ones finish, due
/// messages wait) until it is resumed. The pause is an event in the queue's journal, so it survives a restart.
/// </summary>
public static class PauseCommands
{
    /// <summary>
    /// Pause a queue (every partition of it); answered with <see cref="PauseState"/> once the pause is stored, or with
    /// the current state when the queue is already paused.
    /// </summary>
    /// <param name="QueueId">The queue.</param>
    /// <param name="Reason">Why, for the operators who see the pause; optional.</param>
    /// <param name="RequestedBy">Who paused it (an API key's name, a user); optional.</param>
    public sealed record Pause(string QueueId, string? Reason = null, string? RequestedBy = null) : IWithQueueId, IQueueMessage;

    /// <summary>Resume a paused queue; answered with <see cref="PauseState"/> once stored (or at once when it is not paused).</summary>
    /// <param name="QueueId">The queue.</param>
    /// <param name="RequestedBy">Who resumed it; optional.</param>
    public sealed record Resume(string QueueId, string? RequestedBy = null) : IWithQueueId, IQueueMessage;

    /// <summary>A queue's pause state after a <see cref="Pause"/> or <see cref="Resume"/>.</summary>
    /// <param name="QueueId">The queue.</param>
    /// <param name="Pause">The pause in force; null when the queue runs.</param>
    public sealed record PauseState(string QueueId, QueuePause? Pause) : IWithQueueId, IQueueMessage
    {
        /// <summary>True while the queue starts no deliveries.</summary>
        public bool Paused => Pause is not null;
    }

    /// <summary>Longest pause reason, in characters.</summary>
    public const int MaxReasonLength = 500;
}

/// <summary>A pause in force: since when, by whom and why.</summary>
/// <param name="Since">When the pause was stored (UTC).</param>
/// <param name="By">Who paused the queue, if given.</param>
/// <param name="Reason">Why, if given.</param>
public sealed record QueuePause(DateTime Since, string? By, string? Reason);

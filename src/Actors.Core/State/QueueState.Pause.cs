using Actors.Protocol;
using static Actors.Protocol.QueueEvents;

namespace Actors.State;

/// <summary>
/// The pause: a paused queue accepts and schedules messages as usual, and <see cref="Dispatch"/> starts none until it
/// is resumed. Deliveries in flight finish; due messages become ready and wait.
/// </summary>
internal sealed partial class QueueState
{
    /// <summary>The pause in force; null while the queue runs.</summary>
    public QueuePause? Pause { get; private set; }

    /// <summary>True while the queue starts no deliveries.</summary>
    public bool IsPaused => Pause is not null;

    /// <summary>The event that pauses the queue, or null when it is already paused.</summary>
    public QueuePaused? DecidePause(string? by, string? reason, DateTime now) => IsPaused ? null : new QueuePaused(by, reason, now);

    /// <summary>The event that resumes the queue, or null when it is not paused.</summary>
    public QueueResumed? DecideResume(string? by, DateTime now) => IsPaused ? new QueueResumed(by, now) : null;

    private void ApplyPause(QueuePaused e) => Pause ??= new QueuePause(e.At, e.By, e.Reason);

    private void ApplyResume() => Pause = null;
}

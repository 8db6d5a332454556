namespace Actors.Protocol;

/// <summary>Waiting for a message's outcome: commands a caller sends to the message's queue partition.</summary>
public static class OutcomeWaits
{
    /// <summary>
    /// Answer with the message's <see cref="QueueQueries.MessageInfo"/> once it is final (see <see cref="IsFinal"/>): at
    /// once when it already is, else when its outcome is stored, or with its status then when <paramref name="Timeout"/>
    /// passes first. An unknown message is answered at once with <see cref="QueueQueries.MessageNotFound"/>; a queue that
    /// holds its <c>MaxWaiters</c> already answers <see cref="QueueCommands.Rejected"/> with
    /// <see cref="RejectionCode.TooManyWaiters"/>; a queue that stops meanwhile answers
    /// <see cref="QueueQueries.QueueUnavailable"/> (wait again).
    /// </summary>
    /// <param name="QueueId">The queue (the message id names the partition).</param>
    /// <param name="MessageId">The message.</param>
    /// <param name="Timeout">Longest wait, counted from the queue's receipt; zero answers at once, like a status query.</param>
    /// <param name="CorrelationId">Names this wait for <see cref="StopWaiting"/>; echoed in a refusal.</param>
    public sealed record WaitForOutcome(string QueueId, long MessageId, TimeSpan Timeout, long CorrelationId = 0) : IWithQueueId, IQueueMessage;

    /// <summary>The caller gave up a <see cref="WaitForOutcome"/> before its timeout: the queue forgets the waiter, answering nothing.</summary>
    public sealed record StopWaiting(string QueueId, long MessageId, long CorrelationId) : IWithQueueId, IQueueMessage;

    /// <summary>True for a status a message never leaves by itself: succeeded, dead-lettered, discarded, expired, cancelled.</summary>
    public static bool IsFinal(MessageStatus status) =>
        status is MessageStatus.Succeeded or MessageStatus.DeadLettered or MessageStatus.Discarded or MessageStatus.Expired or MessageStatus.Cancelled;
}

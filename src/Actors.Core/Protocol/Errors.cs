namespace Actors.Protocol;

/// <summary>Why a queue refused to accept a message. Stable: HTTP and client errors map from it.</summary>
public enum RejectionCode
{
    /// <summary>No queue of that name is declared on this node.</summary>
    UnknownQueue = 1,
    /// <summary>The queue name breaks the naming rules.</summary>
    InvalidQueueName = 2,
    /// <summary>The message type name is empty or breaks the naming rules.</summary>
    InvalidMessageType = 3,
    /// <summary>The queue declares the types it accepts and this is not one of them.</summary>
    UnknownMessageType = 4,
    /// <summary>The payload is larger than the queue allows.</summary>
    PayloadTooLarge = 5,
    /// <summary>The queue holds its maximum number of messages.</summary>
    QueueFull = 6,
    /// <summary>The journal could not store the message (or the queue is restarting after a journal failure).</summary>
    JournalUnavailable = 7,
    /// <summary>The node is shutting down and no longer accepts work.</summary>
    ShuttingDown = 8,
    /// <summary>Headers are too many or too large.</summary>
    InvalidHeaders = 9,

    /// <summary>The idempotency key was used before, within the queue's window, for a different request.</summary>
    IdempotencyKeyMismatch = 10,

    /// <summary>The first request with this idempotency key is still being written; ask again shortly.</summary>
    IdempotencyKeyInProgress = 11,

    /// <summary>The queue requires an idempotency key and the request has none.</summary>
    IdempotencyKeyRequired = 12,

    /// <summary>The idempotency key is empty or longer than 255 characters.</summary>
    InvalidIdempotencyKey = 13,

    /// <summary>The delivery time, delay, expiry or time to live is contradictory or out of range.</summary>
    InvalidTiming = 14,

    /// <summary>The delivery time is further away than the queue's <c>MaxDelay</c>.</summary>
    DelayTooLong = 15,

    /// <summary>The queue partition already holds its <c>MaxWaiters</c> callers waiting for outcomes; wait again shortly.</summary>
    TooManyWaiters = 16,

    /// <summary>
    /// A queue delete was refused: the queue comes from configuration, or consumers are attached (if-unused), or it holds
    /// messages (if-empty). Nothing changed.
    /// </summary>
    DeleteRefused = 17,
}

/// <summary>One failed attempt: what went wrong, where and when.</summary>
/// <param name="Type">The exception's full type name, or a reason code such as <c>LeaseExpired</c>.</param>
/// <param name="Message">The exception message.</param>
/// <param name="StackTrace">The stack trace when there is one.</param>
/// <param name="Worker">The worker that ran the attempt, as an actor path.</param>
/// <param name="At">When the failure was observed (UTC).</param>
public sealed record ErrorInfo(string Type, string Message, string? StackTrace, string? Worker, DateTime At)
{
    /// <summary>Builds an error record from an exception.</summary>
    public static ErrorInfo FromException(Exception exception, string? worker, DateTime at)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var inner = exception is AggregateException { InnerExceptions.Count: 1 } agg ? agg.InnerExceptions[0] : exception;
        return new ErrorInfo(inner.GetType().FullName ?? inner.GetType().Name, inner.Message, inner.StackTrace, worker, at);
    }
}

/// <summary>What a handler asks the queue to do with a failed message, overriding the retry policy.</summary>
public enum RequestedFailureAction
{
    /// <summary>Follow the queue's retry policy.</summary>
    FollowPolicy = 0,
    /// <summary>Retry after the given delay (counts as an attempt).</summary>
    RetryAfter = 1,
    /// <summary>Dead-letter now; retrying cannot help.</summary>
    DeadLetter = 2,
    /// <summary>
    /// The handler pushed back (<c>RetryLaterException</c>, a webhook's 429): retry after the given delay. It counts as
    /// an attempt, like <see cref="RetryAfter"/>, unless the queue's <c>RetryLaterCountsAsAttempt</c> is false.
    /// </summary>
    RetryLater = 3,
}

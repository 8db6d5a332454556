using System.Collections.Immutable;

namespace Actors.Handlers;

/// <summary>
/// Handles messages of one type. Resolved from dependency injection in a new scope per message (or created with
/// its constructor dependencies from that scope when it is not registered). Throw to fail the attempt: the queue's
/// retry policy decides what happens next. Throw <see cref="RetryLaterException"/> or
/// <see cref="DeadLetterException"/> to decide yourself.
/// </summary>
/// <typeparam name="TPayload">The payload type, deserialized from JSON (or <see cref="ReadOnlyMemory{T}"/> of bytes for raw payloads).</typeparam>
public interface IMessageHandler<in TPayload>
{
    /// <summary>Runs one message. The returned value (if not null) is serialized to JSON and stored with the message as its result.</summary>
    /// <param name="payload">The message payload.</param>
    /// <param name="context">The message's id, attempt, headers and queue.</param>
    /// <param name="cancellationToken">Fires when the delivery's lease expires or the node shuts down.</param>
    ValueTask<object?> HandleAsync(TPayload payload, MessageContext context, CancellationToken cancellationToken);
}

/// <summary>What a handler knows about the message it runs.</summary>
/// <param name="QueueId">The queue.</param>
/// <param name="MessageId">The message id within the queue.</param>
/// <param name="Attempt">1 for the first delivery, then 2, 3, …</param>
/// <param name="Type">The message type name.</param>
/// <param name="Headers">The message's headers.</param>
/// <param name="EnqueuedAt">When the message was accepted (UTC).</param>
public sealed record MessageContext(string QueueId, long MessageId, int Attempt, string Type, ImmutableDictionary<string, string> Headers, DateTime EnqueuedAt);

/// <summary>Thrown by a handler to fail this attempt and retry after <see cref="Delay"/>, whatever the backoff says.</summary>
public sealed class RetryLaterException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RetryLaterException(TimeSpan delay, string message = "The handler asked to retry later.") : base(message) => Delay = delay;

    /// <summary>Creates the exception with no delay.</summary>
    public RetryLaterException() : this(TimeSpan.Zero) { }

    /// <summary>Creates the exception with no delay.</summary>
    public RetryLaterException(string message) : this(TimeSpan.Zero, message) { }

    /// <summary>Creates the exception with no delay.</summary>
    public RetryLaterException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>How long to wait before the next attempt.</summary>
    public TimeSpan Delay { get; }
}

/// <summary>Thrown by a handler to dead-letter the message at once: no retry can help.</summary>
public sealed class DeadLetterException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DeadLetterException() : base("The handler dead-lettered the message.") { }

    /// <summary>Creates the exception.</summary>
    public DeadLetterException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public DeadLetterException(string message, Exception innerException) : base(message, innerException) { }
}

using System.Collections;

namespace Actors.Handlers;

/// <summary>
/// Handles messages of one type several at a time: a worker hands it up to <see cref="BatchOptions.BatchSize"/>
/// messages it holds, waiting at most <see cref="BatchOptions.BatchWait"/> for a batch to fill. The handler reports an
/// outcome per message (<see cref="BatchItem{TPayload}.Succeed"/>, <see cref="BatchItem{TPayload}.Fail"/>): the ones
/// that succeeded complete, the ones that failed are retried or dead-lettered one by one by the queue's policy, each
/// with its own attempt. A message left unreported fails with <see cref="BatchOutcomeMissingException"/>; an exception
/// thrown by the handler fails every message of the batch with it. Resolved from dependency injection in a new scope
/// per batch, like <see cref="IMessageHandler{TPayload}"/>.
/// </summary>
/// <typeparam name="TPayload">The payload type, deserialized from JSON (or <see cref="ReadOnlyMemory{T}"/> of bytes for raw payloads).</typeparam>
public interface IBatchMessageHandler<TPayload>
{
    /// <summary>Runs one batch; report each item's outcome before returning (outcomes reported later are ignored).</summary>
    /// <param name="batch">The messages, in the order the worker received them; never empty, never two with the same ordering key.</param>
    /// <param name="cancellationToken">Fires when the lease of any message of the batch expires, or the node shuts down.</param>
    ValueTask HandleAsync(MessageBatch<TPayload> batch, CancellationToken cancellationToken);
}

/// <summary>How a batch handler's batches are formed.</summary>
public sealed class BatchOptions
{
    /// <summary>The largest <see cref="BatchSize"/>: 1000 (the largest queue prefetch).</summary>
    public const int MaxBatchSize = 1000;

    /// <summary>The longest <see cref="BatchWait"/>: 10 s.</summary>
    public static readonly TimeSpan MaxBatchWait = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Most messages in one batch. A queue whose node registered batch handlers lets each worker hold at least the
    /// largest batch size of the types it accepts, whatever its <c>Prefetch</c>. Default 10; range 1–1000.
    /// </summary>
    public int BatchSize { get; set; } = 10;

    /// <summary>
    /// Longest a worker waits for more messages of the type once it holds fewer than <see cref="BatchSize"/>; the
    /// wait counts against the messages' lease. Zero runs what the worker holds at once. Default 100 ms; range 0–10 s.
    /// </summary>
    public TimeSpan BatchWait { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="type"/> when a value is out of range.</summary>
    public void Validate(string type)
    {
        if (BatchSize is < 1 or > MaxBatchSize) throw new ArgumentException($"Batch handler '{type}': BatchSize must be 1–{MaxBatchSize}, was {BatchSize}.");
        if (BatchWait < TimeSpan.Zero || BatchWait > MaxBatchWait) throw new ArgumentException($"Batch handler '{type}': BatchWait must be 0–10 s, was {BatchWait}.");
    }
}

/// <summary>The messages of one batch, in the order the worker received them.</summary>
/// <typeparam name="TPayload">The payload type.</typeparam>
public sealed class MessageBatch<TPayload> : IReadOnlyList<BatchItem<TPayload>>
{
    private readonly IReadOnlyList<BatchItem<TPayload>> _items;

    internal MessageBatch(IReadOnlyList<BatchItem<TPayload>> items) => _items = items;

    /// <inheritdoc />
    public int Count => _items.Count;

    /// <inheritdoc />
    public BatchItem<TPayload> this[int index] => _items[index];

    /// <summary>Reports every item not reported yet as succeeded, with <paramref name="result"/> (null: none) as each one's result.</summary>
    public void SucceedRemaining(object? result = null)
    {
        foreach (var item in _items)
        {
            if (!item.IsReported) item.Succeed(result);
        }
    }

    /// <inheritdoc />
    public IEnumerator<BatchItem<TPayload>> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// One message of a batch and its outcome. Items may be reported from several threads at once (each item once); a
/// second report of the same item replaces the first.
/// </summary>
/// <typeparam name="TPayload">The payload type.</typeparam>
public sealed class BatchItem<TPayload>
{
    private object? _result;
    private Exception? _error;
    private int _reported;

    internal BatchItem(TPayload payload, MessageContext context)
    {
        Payload = payload;
        Context = context;
    }

    /// <summary>The message payload.</summary>
    public TPayload Payload { get; }

    /// <summary>The message's id, attempt, headers and queue.</summary>
    public MessageContext Context { get; }

    /// <summary>True once <see cref="Succeed"/> or <see cref="Fail"/> was called.</summary>
    public bool IsReported => Volatile.Read(ref _reported) != 0;

    /// <summary>The message succeeded; <paramref name="result"/> (if not null) is serialized to JSON and stored with it.</summary>
    public void Succeed(object? result = null)
    {
        _error = null;
        _result = result;
        Volatile.Write(ref _reported, 1);
    }

    /// <summary>
    /// The message failed: the queue's retry policy decides what happens next, as for an exception a single handler
    /// throws (<see cref="RetryLaterException"/> and <see cref="DeadLetterException"/> included).
    /// </summary>
    public void Fail(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        _result = null;
        _error = error;
        Volatile.Write(ref _reported, 1);
    }

    /// <summary>The outcome reported: (result, null), (null, error), or a <see cref="BatchOutcomeMissingException"/> when none was.</summary>
    internal (object? Result, Exception? Error) Outcome() =>
        IsReported
            ? (_result, _error)
            : (null, new BatchOutcomeMissingException($"The batch handler reported no outcome for message {Context.MessageId}."));
}

/// <summary>A batch handler returned without reporting the outcome of a message; it is retried by the queue's policy.</summary>
public sealed class BatchOutcomeMissingException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BatchOutcomeMissingException() { }

    /// <summary>Creates the exception.</summary>
    public BatchOutcomeMissingException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public BatchOutcomeMissingException(string message, Exception innerException) : base(message, innerException) { }
}

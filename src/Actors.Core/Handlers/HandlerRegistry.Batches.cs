using Actors.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Handlers;

/// <summary>One message of a batch as a worker hands it to a <see cref="BatchInvoker"/>.</summary>
internal readonly record struct BatchInput(ReadOnlyMemory<byte> Payload, MessageContext Context);

/// <summary>One message's outcome: its result bytes (or null) when <see cref="Error"/> is null.</summary>
internal readonly record struct BatchOutcome(ReadOnlyMemory<byte>? Result, Exception? Error);

/// <summary>Runs one batch of a registered type; returns one outcome per input, in the same order.</summary>
internal delegate ValueTask<BatchOutcome[]> BatchInvoker(IServiceProvider services, IReadOnlyList<BatchInput> items, CancellationToken cancellationToken);

/// <summary>A batch handler and how its batches are formed.</summary>
internal sealed record BatchRegistration(BatchInvoker Invoke, int BatchSize, TimeSpan BatchWait);

public sealed partial class HandlerRegistry
{
    private readonly Dictionary<string, BatchRegistration> _batches = new(StringComparer.Ordinal);

    /// <summary>
    /// Registers <typeparamref name="THandler"/> for messages of type <paramref name="type"/>, run in batches formed
    /// by <paramref name="options"/> (default: up to 10 messages, waiting at most 100 ms).
    /// </summary>
    public HandlerRegistry AddBatch<TPayload, THandler>(string type, BatchOptions? options = null) where THandler : class, IBatchMessageHandler<TPayload>
    {
        var factory = ActivatorUtilities.CreateFactory(typeof(THandler), Type.EmptyTypes);
        return AddBatch<TPayload>(type, (provider, batch, cancellationToken) =>
        {
            var handler = provider.GetService<THandler>() ?? (THandler)factory(provider, null);
            return handler.HandleAsync(batch, cancellationToken);
        }, options);
    }

    /// <summary>Registers a delegate for batches of messages of type <paramref name="type"/> (see <see cref="IBatchMessageHandler{TPayload}"/>).</summary>
    public HandlerRegistry AddBatch<TPayload>(string type, Func<MessageBatch<TPayload>, CancellationToken, ValueTask> handler, BatchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return AddBatch<TPayload>(type, (_, batch, cancellationToken) => handler(batch, cancellationToken), options);
    }

    /// <summary>Registers a delegate for batches that also receives the batch's service scope, for handlers built from configuration.</summary>
    public HandlerRegistry AddBatch<TPayload>(string type, Func<IServiceProvider, MessageBatch<TPayload>, CancellationToken, ValueTask> handler, BatchOptions? options = null)
    {
        if (!Names.IsValidMessageType(type)) throw new ArgumentException($"'{type}' is not a valid message type name: {Names.TypeNameRule}.", nameof(type));
        ArgumentNullException.ThrowIfNull(handler);
        options ??= new BatchOptions();
        options.Validate(type);
        _invokers.Remove(type);
        _batches[type] = new BatchRegistration(async (services, inputs, cancellationToken) =>
        {
            var outcomes = new BatchOutcome[inputs.Count];
            var items = new List<BatchItem<TPayload>>(inputs.Count);
            var positions = new List<int>(inputs.Count);
            for (var i = 0; i < inputs.Count; i++)
            {
                // A payload the handler cannot read fails alone (dead-lettered); the others still run.
                try
                {
                    items.Add(new BatchItem<TPayload>(DeserializePayload<TPayload>(inputs[i].Payload), inputs[i].Context));
                    positions.Add(i);
                }
                catch (PayloadFormatException e)
                {
                    outcomes[i] = new BatchOutcome(null, e);
                }
            }
            if (items.Count == 0) return outcomes;

            try
            {
                await using var scope = services.CreateAsyncScope();
                await handler(scope.ServiceProvider, new MessageBatch<TPayload>(items), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                foreach (var position in positions) outcomes[position] = new BatchOutcome(null, e);
                return outcomes;
            }
            for (var k = 0; k < items.Count; k++)
            {
                var (result, error) = items[k].Outcome();
                outcomes[positions[k]] = error is null ? OutcomeOf(result) : new BatchOutcome(null, error);
            }
            return outcomes;
        }, options.BatchSize, options.BatchWait);
        return this;
    }

    /// <summary>True when <paramref name="type"/> has a batch handler.</summary>
    public bool IsBatched(string type) => _batches.ContainsKey(type);

    internal bool TryGetBatch(string type, out BatchRegistration batch) => _batches.TryGetValue(type, out batch!);

    /// <summary>
    /// The largest batch size among the batch handlers of the types <paramref name="queue"/> accepts (any type when
    /// its <see cref="QueueOptions.AllowedTypes"/> is empty); 0 when there is none.
    /// </summary>
    internal int LargestBatchSize(QueueOptions queue)
    {
        var largest = 0;
        foreach (var (type, batch) in _batches)
        {
            if (queue.AllowedTypes.Count > 0 && !queue.AllowedTypes.Contains(type)) continue;
            largest = Math.Max(largest, batch.BatchSize);
        }
        return largest;
    }

    private static BatchOutcome OutcomeOf(object? result)
    {
        try
        {
            return new BatchOutcome(SerializeResult(result), null);
        }
        catch (Exception e)
        {
            return new BatchOutcome(null, e);
        }
    }
}

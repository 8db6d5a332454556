using System.Collections.Immutable;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Handlers;

/// <summary>Runs one message of a registered type; returns the result bytes (or null).</summary>
internal delegate ValueTask<ReadOnlyMemory<byte>?> MessageInvoker(IServiceProvider services, ReadOnlyMemory<byte> payload, MessageContext context, CancellationToken cancellationToken);

/// <summary>
/// Maps message type names to handlers, one message at a time or in batches (<see cref="AddBatch{TPayload, THandler}"/>).
/// Built-in types: <c>noop</c> (does nothing) and <c>echo</c> (its result is its payload); registering a handler under
/// any registered name, either kind, replaces it.
/// </summary>
public sealed partial class HandlerRegistry
{
    private readonly Dictionary<string, MessageInvoker> _invokers = new(StringComparer.Ordinal);

    /// <summary>JSON options used for payloads and results: web defaults (camelCase, case-insensitive).</summary>
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    /// <summary>Creates a registry holding the built-in <c>noop</c> and <c>echo</c> handlers.</summary>
    public HandlerRegistry()
    {
        _invokers["noop"] = static (_, _, _, _) => ValueTask.FromResult<ReadOnlyMemory<byte>?>(null);
        _invokers["echo"] = static (_, payload, _, _) => ValueTask.FromResult<ReadOnlyMemory<byte>?>(payload);
    }

    /// <summary>The registered type names.</summary>
    public IReadOnlyCollection<string> Types => [.. _invokers.Keys, .. _batches.Keys];

    /// <summary>True when a handler (of either kind) is registered for <paramref name="type"/>.</summary>
    public bool Has(string type) => _invokers.ContainsKey(type) || _batches.ContainsKey(type);

    /// <summary>Registers <typeparamref name="THandler"/> for messages of type <paramref name="type"/>.</summary>
    public HandlerRegistry Add<TPayload, THandler>(string type) where THandler : class, IMessageHandler<TPayload>
    {
        if (!Names.IsValidMessageType(type)) throw new ArgumentException($"'{type}' is not a valid message type name: {Names.TypeNameRule}.", nameof(type));
        var factory = ActivatorUtilities.CreateFactory(typeof(THandler), Type.EmptyTypes);
        _batches.Remove(type);
        _invokers[type] = async (services, payload, context, cancellationToken) =>
        {
            await using var scope = services.CreateAsyncScope();
            var handler = scope.ServiceProvider.GetService<THandler>() ?? (THandler)factory(scope.ServiceProvider, null);
            var typed = DeserializePayload<TPayload>(payload);
            var result = await handler.HandleAsync(typed, context, cancellationToken).ConfigureAwait(false);
            return SerializeResult(result);
        };
        return this;
    }

    /// <summary>Registers a delegate for messages of type <paramref name="type"/>.</summary>
    public HandlerRegistry Add<TPayload>(string type, Func<TPayload, MessageContext, CancellationToken, ValueTask<object?>> handler)
    {
        if (!Names.IsValidMessageType(type)) throw new ArgumentException($"'{type}' is not a valid message type name: {Names.TypeNameRule}.", nameof(type));
        ArgumentNullException.ThrowIfNull(handler);
        _batches.Remove(type);
        _invokers[type] = async (_, payload, context, cancellationToken) =>
            SerializeResult(await handler(DeserializePayload<TPayload>(payload), context, cancellationToken).ConfigureAwait(false));
        return this;
    }

    /// <summary>Registers a delegate that also receives the message's service scope, for handlers built from configuration.</summary>
    public HandlerRegistry Add<TPayload>(string type, Func<IServiceProvider, TPayload, MessageContext, CancellationToken, ValueTask<object?>> handler)
    {
        if (!Names.IsValidMessageType(type)) throw new ArgumentException($"'{type}' is not a valid message type name: {Names.TypeNameRule}.", nameof(type));
        ArgumentNullException.ThrowIfNull(handler);
        _batches.Remove(type);
        _invokers[type] = async (services, payload, context, cancellationToken) =>
        {
            await using var scope = services.CreateAsyncScope();
            return SerializeResult(await handler(scope.ServiceProvider, DeserializePayload<TPayload>(payload), context, cancellationToken).ConfigureAwait(false));
        };
        return this;
    }

    internal bool TryGet(string type, out MessageInvoker invoker) => _invokers.TryGetValue(type, out invoker!);

    private static TPayload DeserializePayload<TPayload>(ReadOnlyMemory<byte> payload)
    {
        if (typeof(TPayload) == typeof(ReadOnlyMemory<byte>)) return (TPayload)(object)payload;
        if (typeof(TPayload) == typeof(byte[])) return (TPayload)(object)payload.ToArray();
        try
        {
            return JsonSerializer.Deserialize<TPayload>(payload.Span, JsonOptions)!;
        }
        catch (JsonException e)
        {
            throw new PayloadFormatException($"The payload is not valid JSON for {typeof(TPayload).Name}: {e.Message}", e);
        }
    }

    private static ReadOnlyMemory<byte>? SerializeResult(object? result)
    {
        // Explicit: a bare null would convert to an empty ReadOnlyMemory through byte[], not to "no result".
        if (result is null) return (ReadOnlyMemory<byte>?)null;
        return result switch
        {
            ReadOnlyMemory<byte> bytes => bytes,
            byte[] array => new ReadOnlyMemory<byte>(array),
            _ => new ReadOnlyMemory<byte>(JsonSerializer.SerializeToUtf8Bytes(result, result.GetType(), JsonOptions)),
        };
    }
}

/// <summary>The payload could not be read as the handler's payload type; the message is dead-lettered (retrying cannot help).</summary>
public sealed class PayloadFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PayloadFormatException() { }

    /// <summary>Creates the exception.</summary>
    public PayloadFormatException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public PayloadFormatException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>No handler is registered for the message's type on the worker that received it.</summary>
public sealed class NoHandlerException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NoHandlerException() { }

    /// <summary>Creates the exception.</summary>
    public NoHandlerException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public NoHandlerException(string message, Exception innerException) : base(message, innerException) { }
}

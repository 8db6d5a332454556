using System.Diagnostics;
using System.Text.Json;
using Actors.Handlers;
using Actors.Protocol;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueQueries;

namespace Actors.Client;

/// <summary>Enqueue a message and wait for its outcome in one call (see <see cref="IQueueClient.WaitAsync"/>).</summary>
public static class AwaitingResults
{
    /// <summary>
    /// Stores <paramref name="message"/>, then waits for its outcome: the message once final, or with its status then
    /// when <paramref name="timeout"/> (counted from the call, capped at the request timeout) passes first. Null only
    /// when the message finished and its queue keeps no finished messages (<c>SucceededRetention</c> 0).
    /// </summary>
    /// <exception cref="QueueException">Refused at enqueue, or the queue cannot take another waiter (<see cref="RejectionCode.TooManyWaiters"/>).</exception>
    public static async Task<MessageInfo?> EnqueueAndWaitAsync(this IQueueClient client, string queue, NewMessage message, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var started = Stopwatch.GetTimestamp();
        var stored = await client.EnqueueAsync(queue, message, cancellationToken).ConfigureAwait(false);
        var left = timeout - Stopwatch.GetElapsedTime(started);
        return await client.WaitAsync(queue, stored.MessageId, left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Serializes <paramref name="payload"/> to JSON, stores it, waits for its outcome and returns the handler's result
    /// deserialized from JSON (default when the handler returned none).
    /// </summary>
    /// <exception cref="MessageOutcomeException">The message did not succeed (dead-lettered, discarded, expired, cancelled) or did not finish within <paramref name="timeout"/>.</exception>
    /// <exception cref="QueueException">Refused at enqueue, or the queue cannot take another waiter.</exception>
    public static async Task<TResult?> EnqueueAndWaitAsync<TResult>(this IQueueClient client, string queue, string type, object? payload, TimeSpan timeout,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(payload, payload?.GetType() ?? typeof(object), HandlerRegistry.JsonOptions);
        var info = await client.EnqueueAndWaitAsync(queue, new NewMessage(type, bytes), timeout, cancellationToken).ConfigureAwait(false);
        return info switch
        {
            { Status: MessageStatus.Succeeded, Result: { } result } => JsonSerializer.Deserialize<TResult>(result.Span, HandlerRegistry.JsonOptions),
            { Status: MessageStatus.Succeeded } => default,
            null => throw new MessageOutcomeException($"A message of queue '{queue}' finished, but the queue keeps no finished messages to tell its result.", (MessageInfo?)null),
            { } ended when OutcomeWaits.IsFinal(ended.Status) => throw new MessageOutcomeException(
                $"Message {ended.MessageId} of queue '{queue}' ended {ended.Status} after {ended.Attempts} attempt(s){(ended.Errors.IsEmpty ? "" : ": " + ended.Errors[^1].Message)}", ended),
            { } pending => throw new MessageOutcomeException($"Message {pending.MessageId} of queue '{queue}' did not finish within {timeout} (it is {pending.Status}).", pending),
        };
    }
}

/// <summary>An awaited message did not succeed, or did not finish in time; <see cref="Info"/> says where it is.</summary>
public sealed class MessageOutcomeException : Exception
{
    /// <summary>Creates the exception for <paramref name="info"/> (null when the queue no longer holds the message).</summary>
    public MessageOutcomeException(string message, MessageInfo? info) : base(message) => Info = info;

    /// <summary>Creates the exception.</summary>
    public MessageOutcomeException() : base("The awaited message did not succeed.") { }

    /// <summary>Creates the exception.</summary>
    public MessageOutcomeException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public MessageOutcomeException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>The message as last seen: its status, attempts and errors; null when the queue no longer holds it.</summary>
    public MessageInfo? Info { get; }
}

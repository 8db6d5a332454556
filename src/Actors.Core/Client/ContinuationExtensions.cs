using System.Collections.Immutable;
using Actors.Protocol;
using static Actors.Protocol.QueueCommands;

namespace Actors.Client;

/// <summary>Continuations on a message to enqueue: each sets its reserved header (see <see cref="Continuation"/>).</summary>
public static class ContinuationExtensions
{
    /// <summary>The message, with a follow-up to enqueue once it succeeds (<see cref="MessageHeaders.Then"/>).</summary>
    public static NewMessage Then(this NewMessage message, Continuation continuation) =>
        With(message, MessageHeaders.Then, continuation);

    /// <summary>The message, with a follow-up to enqueue if it is dead-lettered (<see cref="MessageHeaders.OnFailure"/>).</summary>
    public static NewMessage OnFailure(this NewMessage message, Continuation continuation) =>
        With(message, MessageHeaders.OnFailure, continuation);

    private static NewMessage With(NewMessage message, string header, Continuation continuation)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(continuation);
        return message with { Headers = (message.Headers ?? ImmutableDictionary<string, string>.Empty).SetItem(header, continuation.ToHeader()) };
    }
}

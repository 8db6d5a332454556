using System.Collections.Immutable;

namespace Actors.Protocol;

/// <summary>What an operator does with a parked ordering key (see <c>QueueOptions.KeyFailure</c>).</summary>
public enum KeyOperation
{
    /// <summary>Run the parked message again, with a fresh attempt count, ahead of the rest of its key.</summary>
    Release = 0,

    /// <summary>Leave the parked message in the dead-letter set and go on with the key's next message.</summary>
    Skip = 1,

    /// <summary>Delete the parked message and cancel every message of the key waiting behind it.</summary>
    Purge = 2,
}

/// <summary>What a <see cref="KeyCommands.ChangeKey"/> did.</summary>
public enum KeyChangeOutcome
{
    /// <summary>Done and stored.</summary>
    Done = 0,

    /// <summary>The key is not parked; nothing changed.</summary>
    NotParked = 1,

    /// <summary>The journal did not store the change; nothing changed.</summary>
    JournalUnavailable = 2,
}

/// <summary>Commands on one ordering key of a queue.</summary>
public static class KeyCommands
{
    /// <summary>Release, skip or purge a parked key; answered with <see cref="KeyChanged"/> once stored.</summary>
    public sealed record ChangeKey(string QueueId, string Key, KeyOperation Operation, long CorrelationId = 0) : IWithQueueId, IQueueMessage;

    /// <summary>The answer to <see cref="ChangeKey"/>: the outcome and the messages it touched.</summary>
    /// <param name="QueueId">The queue.</param>
    /// <param name="Key">The ordering key.</param>
    /// <param name="Operation">What was asked.</param>
    /// <param name="Outcome">Done, or why not.</param>
    /// <param name="MessageIds">The parked message (release, skip), or every message removed (purge).</param>
    /// <param name="CorrelationId">Echoed from the command.</param>
    public sealed record KeyChanged(string QueueId, string Key, KeyOperation Operation, KeyChangeOutcome Outcome, ImmutableArray<long> MessageIds, long CorrelationId)
        : IWithQueueId, IQueueMessage;
}

using System.Collections.Immutable;
using System.Globalization;
using Actors.Protocol;
using static Actors.Protocol.QueueCommands;

namespace Actors.Client;

/// <summary>Sets a message's ordering key and priority (the <see cref="MessageHeaders.Key"/> and <see cref="MessageHeaders.Priority"/> headers).</summary>
public static class OrderingExtensions
{
    /// <summary>
    /// The message with ordering key <paramref name="key"/>: messages with the same key start one at a time, in enqueue
    /// order, and a failing one holds its key back while it retries.
    /// </summary>
    public static NewMessage WithKey(this NewMessage message, string key)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!MessageHeaders.IsValidKey(key)) throw new ArgumentException(MessageHeaders.InvalidKeyReason(key), nameof(key));
        return message with { Headers = (message.Headers ?? ImmutableDictionary<string, string>.Empty).SetItem(MessageHeaders.Key, key) };
    }

    /// <summary>The message with priority <paramref name="priority"/>, 0–9: higher starts first; within a key, enqueue order wins.</summary>
    public static NewMessage WithPriority(this NewMessage message, int priority)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (priority is < 0 or > MessageHeaders.MaxPriority)
            throw new ArgumentOutOfRangeException(nameof(priority), priority, $"A priority must be 0–{MessageHeaders.MaxPriority}.");
        var headers = message.Headers ?? ImmutableDictionary<string, string>.Empty;
        return message with
        {
            Headers = priority == 0 ? headers.Remove(MessageHeaders.Priority) : headers.SetItem(MessageHeaders.Priority, priority.ToString(CultureInfo.InvariantCulture)),
        };
    }
}

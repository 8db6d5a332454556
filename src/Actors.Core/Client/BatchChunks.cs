using Actors.Protocol;

namespace Actors.Client;

/// <summary>
/// Splits a producer's batch into runs small enough to cross Akka.Remote in one frame: a node without the queue role
/// forwards each run to the node hosting the queue, and a frame larger than the transport's maximum would be dropped.
/// Runs keep the batch's order and are sent one after another, so the queue stores the batch in order.
/// </summary>
internal static class BatchChunks
{
    /// <summary>Most estimated bytes in one run (a run holds at least one message, whatever its size).</summary>
    public const int MaxRunBytes = 4 * 1024 * 1024;

    /// <summary>The bytes a message takes on the wire, over-estimated: UTF-8 text at its widest and a fixed envelope.</summary>
    public static long EstimatedBytes(QueueCommands.NewMessage message)
    {
        long bytes = 64 + message.Payload.Length + 3L * message.Type.Length + 3L * (message.IdempotencyKey?.Length ?? 0);
        if (message.Headers is { } headers)
            foreach (var (name, value) in headers) bytes += 8 + 3L * (name.Length + value.Length);
        return bytes;
    }

    /// <summary>The batch as consecutive (start, count) runs of at most <paramref name="maxRunBytes"/> estimated bytes each.</summary>
    public static IEnumerable<(int Start, int Count)> Runs(IReadOnlyList<QueueCommands.NewMessage> messages, long maxRunBytes = MaxRunBytes)
    {
        var start = 0;
        long bytes = 0;
        for (var i = 0; i < messages.Count; i++)
        {
            var size = EstimatedBytes(messages[i]);
            if (i > start && bytes + size > maxRunBytes)
            {
                yield return (start, i - start);
                start = i;
                bytes = 0;
            }
            bytes += size;
        }
        if (messages.Count > start) yield return (start, messages.Count - start);
    }
}

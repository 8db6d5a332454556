using System.Globalization;

namespace Actors;

/// <summary>
/// How a queue is split into partitions: each partition is its own queue actor (in a cluster, its own sharding
/// entity) with its own journal stream <c>queue-{name}-{partition}</c>. Message ids carry their partition in the
/// bits above <see cref="SequenceBits"/>, so an id alone finds its partition and partition 0's ids are plain
/// sequence numbers. Keyed messages go to the partition their key hashes to (so one key stays in one partition);
/// keyless ones are spread round-robin.
/// </summary>
public static class Partitions
{
    /// <summary>Bits of a message id that count messages within a partition (about 10¹² per partition).</summary>
    public const int SequenceBits = 40;

    /// <summary>Most partitions a queue may have.</summary>
    public const int Max = 256;

    /// <summary>The header whose value picks a keyed message's partition (the HTTP API's <c>key</c>).</summary>
    public const string KeyHeader = Protocol.MessageHeaders.Key;

    /// <summary>The actor and entity name of a partition: the queue's name for partition 0, <c>name#p</c> after it.</summary>
    public static string EntityId(string queue, int partition) =>
        partition == 0 ? queue : queue + "#" + partition.ToString(CultureInfo.InvariantCulture);

    /// <summary>The queue name and partition of an entity id made by <see cref="EntityId"/>.</summary>
    public static (string Queue, int Partition) Parse(string entityId)
    {
        ArgumentNullException.ThrowIfNull(entityId);
        var hash = entityId.LastIndexOf('#');
        return hash < 0 ? (entityId, 0) : (entityId[..hash], int.Parse(entityId.AsSpan(hash + 1), CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// One partition's share of a per-queue limit (a rate, a burst, a concurrency): <paramref name="limit"/> divided by
    /// <paramref name="partitions"/>, rounded up, at least 1. The partitions together may so allow up to
    /// <paramref name="partitions"/> − 1 more than the limit.
    /// </summary>
    public static int ShareOf(int limit, int partitions) => partitions <= 1 ? limit : Math.Max(1, (limit + partitions - 1) / partitions);

    /// <summary>The partition a message id belongs to.</summary>
    public static int OfMessage(long messageId) => (int)(messageId >> SequenceBits);

    /// <summary>The id just below partition <paramref name="partition"/>'s first message id.</summary>
    public static long IdBase(int partition) => (long)partition << SequenceBits;

    /// <summary>The partition of a key: a stable hash (FNV-1a of its UTF-16 code units), the same on every node and run.</summary>
    public static int OfKey(string key, int partitions)
    {
        ArgumentNullException.ThrowIfNull(key);
        var hash = 2166136261u;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 16777619u;
        }
        return (int)(hash % (uint)partitions);
    }
}

using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Actors.Protocol;

namespace Actors.State;

/// <summary>
/// The idempotency keys a queue remembers: for each, the message it stored, a fingerprint of the request and when it
/// was accepted. A key outlives its message (completion, acknowledgement, deletion from the journal) until the
/// queue's de-duplication window has passed since it was accepted; then it is dropped, so memory stays bounded by the
/// keys of one window. Keys are kept in acceptance order, so dropping the expired ones looks only at the oldest.
/// </summary>
internal sealed class IdempotencyIndex
{
    private readonly Dictionary<string, IdempotencyRecord> _byKey = new(StringComparer.Ordinal);
    private readonly Queue<IdempotencyRecord> _byTime = new();

    /// <summary>Keys remembered.</summary>
    public int Count => _byKey.Count;

    /// <summary>The record of a key, if it is remembered.</summary>
    public bool TryGet(string key, out IdempotencyRecord record) => _byKey.TryGetValue(key, out record!);

    /// <summary>Remembers a key (a replayed event may name a key again: the first record stays).</summary>
    public void Add(IdempotencyRecord record)
    {
        if (!_byKey.TryAdd(record.Key, record)) return;
        _byTime.Enqueue(record);
    }

    /// <summary>Forgets the keys accepted at or before <paramref name="now"/> − <paramref name="window"/>.</summary>
    public int Prune(DateTime now, TimeSpan window)
    {
        var cutoff = now - window;
        var dropped = 0;
        while (_byTime.TryPeek(out var oldest) && oldest.AcceptedAt <= cutoff)
        {
            _byTime.Dequeue();
            if (_byKey.TryGetValue(oldest.Key, out var current) && ReferenceEquals(current, oldest))
            {
                _byKey.Remove(oldest.Key);
                dropped++;
            }
        }
        return dropped;
    }

    /// <summary>Every remembered key, oldest first, for a snapshot.</summary>
    public ImmutableArray<IdempotencyRecord> ToArray() => _byTime.Where(r => _byKey.TryGetValue(r.Key, out var c) && ReferenceEquals(c, r)).ToImmutableArray();

    /// <summary>
    /// The fingerprint of an enqueue request: its type, payload, ordering key and timing as the producer gave them
    /// (a relative delay stays relative, so a retry of the same request matches). 64 bits of SHA-256.
    /// </summary>
    public static ulong FingerprintOf(string type, ReadOnlyMemory<byte> payload, string? orderingKey, QueueCommands.MessageTiming? timing)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        AddString(hash, type);
        AddNumber(hash, payload.Length);
        hash.AppendData(payload.Span);
        AddString(hash, orderingKey);
        AddNumber(hash, timing?.DeliverAt?.ToUniversalTime().Ticks ?? long.MinValue);
        AddNumber(hash, timing?.Delay?.Ticks ?? long.MinValue);
        AddNumber(hash, timing?.ExpiresAt?.ToUniversalTime().Ticks ?? long.MinValue);
        AddNumber(hash, timing?.Ttl?.Ticks ?? long.MinValue);
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return BinaryPrimitives.ReadUInt64LittleEndian(digest);
    }

    private static void AddNumber(IncrementalHash hash, long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        hash.AppendData(bytes);
    }

    private static void AddString(IncrementalHash hash, string? value)
    {
        AddNumber(hash, value?.Length ?? -1);
        if (value is not null) hash.AppendData(Encoding.UTF8.GetBytes(value));
    }
}

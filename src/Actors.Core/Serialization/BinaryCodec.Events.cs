using System.Collections.Immutable;
using static Actors.Protocol.QueueEvents;

namespace Actors.Serialization;

/// <summary>The hot journal events' formats: enqueued messages (E1, E2), acknowledgements (A1) and archived payloads (AR1).</summary>
internal static partial class BinaryCodec
{
    private const byte HasDueAt = 1, HasExpiresAt = 2, HasIdempotencyKey = 4;

    /// <summary>Event format E2: as E1, each message followed by a flags byte and its due time, expiry and idempotency key when set.</summary>
    public static void WriteEnqueued(BinaryWriter w, MessagesEnqueued e)
    {
        w.Write7BitEncodedInt(e.Messages.Length);
        foreach (var m in e.Messages)
        {
            WriteMessage(w, m.Id, m.Type, m.EnqueuedAt, m.Headers, m.Payload);
            var flags = (byte)((m.DueAt is null ? 0 : HasDueAt) | (m.ExpiresAt is null ? 0 : HasExpiresAt) | (m.IdempotencyKey is null ? 0 : HasIdempotencyKey));
            w.Write(flags);
            if (m.DueAt is { } dueAt) w.Write(dueAt.Ticks);
            if (m.ExpiresAt is { } expiresAt) w.Write(expiresAt.Ticks);
            if (m.IdempotencyKey is { } key)
            {
                w.Write(key);
                w.Write(m.Fingerprint);
            }
        }
    }

    /// <summary>Reads format E2, or E1 (<paramref name="withTiming"/> false: no flags, due times, expiries or keys).</summary>
    public static MessagesEnqueued ReadEnqueued(BlobReader r, bool withTiming)
    {
        var count = r.Read7BitEncodedInt();
        var messages = ImmutableArray.CreateBuilder<EnqueuedMessage>(count);
        for (var i = 0; i < count; i++)
        {
            var (id, type, at, headers) = ReadMessageHead(r);
            var payload = r.ReadBytes();
            var flags = withTiming ? r.ReadByte() : (byte)0;
            var dueAt = (flags & HasDueAt) != 0 ? r.ReadTime() : (DateTime?)null;
            var expiresAt = (flags & HasExpiresAt) != 0 ? r.ReadTime() : (DateTime?)null;
            var key = (flags & HasIdempotencyKey) != 0 ? r.ReadString() : null;
            var fingerprint = key is null ? 0UL : (ulong)r.ReadInt64();
            messages.Add(new EnqueuedMessage(id, type, payload, headers, at, dueAt, expiresAt, key, fingerprint));
        }
        return new MessagesEnqueued(messages.MoveToImmutable());
    }

    public static void WriteAcked(BinaryWriter w, MessagesAcked a)
    {
        w.Write7BitEncodedInt(a.Acks.Length);
        foreach (var ack in a.Acks)
        {
            w.Write7BitEncodedInt64(ack.Id);
            w.Write7BitEncodedInt(ack.Attempt);
            w.Write(ack.CompletedAt.Ticks);
            WriteOptionalBytes(w, ack.Result);
        }
    }

    public static MessagesAcked ReadAcked(BlobReader r)
    {
        var count = r.Read7BitEncodedInt();
        var acks = ImmutableArray.CreateBuilder<AckedMessage>(count);
        for (var i = 0; i < count; i++)
        {
            var id = r.Read7BitEncodedInt64();
            var attempt = r.Read7BitEncodedInt();
            var at = r.ReadTime();
            acks.Add(new AckedMessage(id, attempt, ReadOptionalBytes(r), at));
        }
        return new MessagesAcked(acks.MoveToImmutable());
    }

    /// <summary>Archive event format AR1: per item its message id, whether it is a result, and its bytes.</summary>
    public static void WriteArchived(BinaryWriter w, PayloadsArchived a)
    {
        w.Write7BitEncodedInt(a.Items.Length);
        foreach (var item in a.Items)
        {
            w.Write7BitEncodedInt64(item.Id);
            w.Write(item.IsResult);
            WriteBytes(w, item.Bytes);
        }
    }

    public static PayloadsArchived ReadArchived(BlobReader r)
    {
        var count = r.Read7BitEncodedInt();
        var items = ImmutableArray.CreateBuilder<ArchivedPayload>(count);
        for (var i = 0; i < count; i++) items.Add(new ArchivedPayload(r.Read7BitEncodedInt64(), r.ReadBoolean(), r.ReadBytes()));
        return new PayloadsArchived(items.MoveToImmutable());
    }
}

using System.Collections.Immutable;
using Actors.Protocol;
using static Actors.Protocol.QueueEvents;

namespace Actors.Serialization;

/// <summary>The follow-ups' part of snapshot format S5 (see <see cref="Continuation"/>).</summary>
internal static partial class BinaryCodec
{
    /// <summary>
    /// Per pending follow-up: message id, kind, target queue, type, payload and headers; then per sent one: message id,
    /// kind, target queue, the follow-up's id there and the refusal, if any.
    /// </summary>
    public static void WriteFollowUps(BinaryWriter w, QueueSnapshot s)
    {
        var pending = s.FollowUps.IsDefault ? ImmutableArray<PendingFollowUp>.Empty : s.FollowUps;
        w.Write7BitEncodedInt(pending.Length);
        foreach (var f in pending)
        {
            w.Write7BitEncodedInt64(f.Id);
            w.Write((byte)f.Kind);
            w.Write(f.Queue);
            w.Write(f.Type);
            WriteBytes(w, f.Payload);
            WriteHeaders(w, f.Headers);
        }
        var sent = s.SentFollowUps.IsDefault ? ImmutableArray<SentFollowUp>.Empty : s.SentFollowUps;
        w.Write7BitEncodedInt(sent.Length);
        foreach (var f in sent)
        {
            w.Write7BitEncodedInt64(f.Id);
            w.Write((byte)f.Kind);
            w.Write(f.Queue);
            w.Write7BitEncodedInt64(f.FollowUpId);
            WriteOptionalString(w, f.Error);
        }
    }

    /// <summary>Reads what <see cref="WriteFollowUps"/> wrote into <paramref name="snapshot"/>.</summary>
    public static QueueSnapshot ReadFollowUps(BlobReader r, QueueSnapshot snapshot)
    {
        var pendingCount = r.Read7BitEncodedInt();
        var pending = ImmutableArray.CreateBuilder<PendingFollowUp>(pendingCount);
        for (var i = 0; i < pendingCount; i++)
            pending.Add(new PendingFollowUp(r.Read7BitEncodedInt64(), (FollowUpKind)r.ReadByte(), r.ReadString(), r.ReadString(), r.ReadBytes().ToArray(), ReadHeaders(r)));
        var sentCount = r.Read7BitEncodedInt();
        var sent = ImmutableArray.CreateBuilder<SentFollowUp>(sentCount);
        for (var i = 0; i < sentCount; i++)
            sent.Add(new SentFollowUp(r.Read7BitEncodedInt64(), (FollowUpKind)r.ReadByte(), r.ReadString(), r.Read7BitEncodedInt64(), ReadOptionalString(r)));
        return snapshot with { FollowUps = pending.MoveToImmutable(), SentFollowUps = sent.MoveToImmutable() };
    }
}

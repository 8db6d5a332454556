using System.Collections.Immutable;
using Actors.Protocol;

namespace Actors.Serialization;

/// <summary>The queue snapshot's formats, S1 to S6.</summary>
internal static partial class BinaryCodec
{
    /// <summary>
    /// Snapshot format S3. S2 was S1 with each message's payload replaced by the sequence number of the journal event
    /// that holds it (the payload stored only when that number is 0); S3 adds the expired and cancelled totals, each
    /// message's expiry, each retained finished message's status, and the remembered idempotency keys. S4 (written now)
    /// adds each message's payload length and, for a message whose payload is not in the main journal, the sequence
    /// number of the archive event that holds it (the payload stored only when both numbers are 0), and each finished
    /// message's archive sequence number (its result stored only when that is 0). S5 adds the follow-ups (see
    /// <see cref="WriteFollowUps"/>). S6 adds each finished message's trace parent (an optional string after its archive
    /// sequence number) and, at the end, the pause (see <see cref="WritePause"/>).
    /// </summary>
    public static void WriteSnapshot(BinaryWriter w, QueueSnapshot s)
    {
        w.Write7BitEncodedInt64(s.LastId);
        w.Write7BitEncodedInt64(s.Totals.Enqueued);
        w.Write7BitEncodedInt64(s.Totals.Succeeded);
        w.Write7BitEncodedInt64(s.Totals.FailedAttempts);
        w.Write7BitEncodedInt64(s.Totals.DeadLettered);
        w.Write7BitEncodedInt64(s.Totals.Discarded);
        w.Write7BitEncodedInt64(s.Totals.Expired);
        w.Write7BitEncodedInt64(s.Totals.Cancelled);
        w.Write7BitEncodedInt(s.Messages.Length);
        foreach (var m in s.Messages)
        {
            WriteMessageHead(w, m.Id, m.Type, m.EnqueuedAt, m.Headers);
            w.Write7BitEncodedInt64(m.SequenceNr);
            w.Write7BitEncodedInt(m.PayloadLength);
            if (m.SequenceNr == 0) w.Write7BitEncodedInt64(m.ArchiveSeq);
            if (m.SequenceNr == 0 && m.ArchiveSeq == 0) WriteBytes(w, m.Payload);
            w.Write7BitEncodedInt(m.FailedAttempts);
            w.Write7BitEncodedInt(m.Errors.Count);
            foreach (var error in m.Errors) WriteError(w, error);
            w.Write((byte)m.Stage);
            w.Write(m.DueAt.Ticks);
            WriteOptionalString(w, m.DeadLetterReason);
            w.Write(m.FinishedAt?.Ticks ?? -1);
            w.Write(m.ExpiresAt?.Ticks ?? -1);
        }
        w.Write7BitEncodedInt(s.Succeeded.Length);
        foreach (var m in s.Succeeded)
        {
            w.Write7BitEncodedInt64(m.Id);
            w.Write(m.Type);
            w.Write7BitEncodedInt(m.Attempts);
            w.Write(m.EnqueuedAt.Ticks);
            w.Write(m.CompletedAt.Ticks);
            WriteOptionalBytes(w, m.Result);
            w.Write((byte)m.Status);
            w.Write7BitEncodedInt64(m.ArchiveSeq);
            WriteOptionalString(w, m.TraceParent);
        }
        var keys = s.IdempotencyKeys.IsDefault ? ImmutableArray<IdempotencyRecord>.Empty : s.IdempotencyKeys;
        w.Write7BitEncodedInt(keys.Length);
        foreach (var key in keys)
        {
            w.Write(key.Key);
            w.Write7BitEncodedInt64(key.MessageId);
            w.Write(key.Fingerprint);
            w.Write(key.AcceptedAt.Ticks);
        }
        WriteFollowUps(w, s);
        WritePause(w, s.Pause);
    }

    /// <summary>The pause: a flag, then when it was stored, by whom and why (each optional string as in the rest of the format).</summary>
    private static void WritePause(BinaryWriter w, QueuePause? pause)
    {
        w.Write(pause is not null);
        if (pause is null) return;
        w.Write(pause.Since.Ticks);
        WriteOptionalString(w, pause.By);
        WriteOptionalString(w, pause.Reason);
    }

    private static QueuePause? ReadPause(BlobReader r) => r.ReadBoolean() ? new QueuePause(r.ReadTime(), ReadOptionalString(r), ReadOptionalString(r)) : null;

    /// <summary>The snapshot format <see cref="WriteSnapshot"/> writes.</summary>
    public const int SnapshotFormat = 6;

    /// <summary>Reads format S6, S5, S4, S3, S2 or S1 (<paramref name="format"/>; in S1 every payload is in the snapshot).</summary>
    public static QueueSnapshot ReadSnapshot(BlobReader r, int format)
    {
        var withSequenceNrs = format >= 2;
        var lastId = r.Read7BitEncodedInt64();
        var totals = new QueueTotals(r.Read7BitEncodedInt64(), r.Read7BitEncodedInt64(), r.Read7BitEncodedInt64(), r.Read7BitEncodedInt64(), r.Read7BitEncodedInt64());
        if (format >= 3) totals = totals with { Expired = r.Read7BitEncodedInt64(), Cancelled = r.Read7BitEncodedInt64() };
        var count = r.Read7BitEncodedInt();
        var messages = ImmutableArray.CreateBuilder<SnapshotMessage>(count);
        for (var i = 0; i < count; i++)
        {
            var (id, type, at, headers) = ReadMessageHead(r);
            var sequenceNr = withSequenceNrs ? r.Read7BitEncodedInt64() : 0;
            var length = format >= 4 ? r.Read7BitEncodedInt() : 0;
            var archiveSeq = format >= 4 && sequenceNr == 0 ? r.Read7BitEncodedInt64() : 0;
            // Payloads stored in a snapshot are long-lived (dead letters): each gets its own array, so none keeps the
            // whole snapshot blob alive.
            ReadOnlyMemory<byte> payload = sequenceNr == 0 && archiveSeq == 0 ? r.ReadBytes().ToArray() : default;
            if (format < 4) length = payload.Length;
            var failed = r.Read7BitEncodedInt();
            var errorCount = r.Read7BitEncodedInt();
            var errors = ImmutableList<ErrorInfo>.Empty;
            if (errorCount > 0)
            {
                var builder = ImmutableList.CreateBuilder<ErrorInfo>();
                for (var e = 0; e < errorCount; e++) builder.Add(ReadError(r));
                errors = builder.ToImmutable();
            }
            var stage = (SnapshotStage)r.ReadByte();
            var dueAt = r.ReadTime();
            var reason = ReadOptionalString(r);
            var finishedTicks = r.ReadInt64();
            var expiresTicks = format >= 3 ? r.ReadInt64() : -1;
            messages.Add(new SnapshotMessage(id, type, payload, headers, at, failed, errors, stage, dueAt, reason,
                finishedTicks < 0 ? null : new DateTime(finishedTicks, DateTimeKind.Utc), sequenceNr,
                expiresTicks < 0 ? null : new DateTime(expiresTicks, DateTimeKind.Utc), archiveSeq, length));
        }
        var succeededCount = r.Read7BitEncodedInt();
        var succeeded = ImmutableArray.CreateBuilder<SnapshotSucceeded>(succeededCount);
        for (var i = 0; i < succeededCount; i++)
        {
            var id = r.Read7BitEncodedInt64();
            var type = r.ReadInternedString();
            var attempts = r.Read7BitEncodedInt();
            var enqueuedAt = r.ReadTime();
            var completedAt = r.ReadTime();
            var result = ReadOptionalBytes(r) is { } bytes ? bytes.ToArray() : (ReadOnlyMemory<byte>?)null;
            var status = format >= 3 ? (MessageStatus)r.ReadByte() : MessageStatus.Succeeded;
            var resultArchiveSeq = format >= 4 ? r.Read7BitEncodedInt64() : 0;
            var traceParent = format >= 6 ? ReadOptionalString(r) : null;
            succeeded.Add(new SnapshotSucceeded(id, type, attempts, enqueuedAt, completedAt, result, status, resultArchiveSeq, traceParent));
        }
        var keys = ImmutableArray<IdempotencyRecord>.Empty;
        if (format >= 3)
        {
            var keyCount = r.Read7BitEncodedInt();
            var builder = ImmutableArray.CreateBuilder<IdempotencyRecord>(keyCount);
            for (var i = 0; i < keyCount; i++)
                builder.Add(new IdempotencyRecord(r.ReadString(), r.Read7BitEncodedInt64(), (ulong)r.ReadInt64(), r.ReadTime()));
            keys = builder.MoveToImmutable();
        }
        var snapshot = new QueueSnapshot(lastId, totals, messages.MoveToImmutable(), succeeded.MoveToImmutable(), keys);
        if (format >= 5) snapshot = ReadFollowUps(r, snapshot);
        return format >= 6 ? snapshot with { Pause = ReadPause(r) } : snapshot;
    }
}

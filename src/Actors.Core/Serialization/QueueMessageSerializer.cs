using System.Collections.Immutable;
using System.Text.Json;
using Actors.Protocol;
using Akka.Actor;
using Akka.Serialization;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueEvents;
using static Actors.Protocol.QueueQueries;
using static Actors.Protocol.WorkerProtocol;

namespace Actors.Serialization;

/// <summary>
/// The serializer for everything Actors stores or sends between nodes (<see cref="IQueueMessage"/>). Manifests are
/// short and permanent: a changed type gets a new manifest and the old decoder stays. The hot journal events
/// (batches of enqueued and acknowledged messages) and snapshots use a compact binary format; the rest is JSON.
/// </summary>
public sealed class QueueMessageSerializer : SerializerWithStringManifest
{
    /// <summary>The serializer's identifier in <c>akka.actor.serialization-identifiers</c>.</summary>
    public const int SerializerId = 5080;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    private static readonly Dictionary<Type, string> JsonManifests = new()
    {
        [typeof(RetryScheduled)] = "R1",
        [typeof(DeadLettered)] = "D1",
        [typeof(ParkedMessageSkipped)] = "KS1",
        [typeof(KeyPurged)] = "KP1",
        [typeof(Discarded)] = "X1",
        [typeof(MessageCancelled)] = "CN1",
        [typeof(MessagesExpired)] = "EX1",
        [typeof(FollowUpsSent)] = "FU1",
        [typeof(CancelMessage)] = "C-cancel",
        [typeof(CancelResult)] = "C-cancelled",
        [typeof(CancelDelivery)] = "W-cancel",
        [typeof(DeadLettersRedrivenEvent)] = "DR1",
        [typeof(DeadLettersPurgedEvent)] = "DP1",
        [typeof(DeadLetterCommands.ListDeadLetters)] = "L-list",
        [typeof(DeadLetterCommands.DeadLetterPage)] = "L-page",
        [typeof(DeadLetterCommands.GroupDeadLetters)] = "L-group",
        [typeof(DeadLetterCommands.DeadLetterGroups)] = "L-groups",
        [typeof(DeadLetterCommands.RedriveDeadLetters)] = "L-redrive",
        [typeof(DeadLetterCommands.DeadLettersRedriven)] = "L-redriven",
        [typeof(DeadLetterCommands.PurgeDeadLetters)] = "L-purge",
        [typeof(DeadLetterCommands.DeadLettersPurged)] = "L-purged",
        [typeof(RedriveJobs.ListRedriveJobs)] = "RJ-list",
        [typeof(RedriveJobs.RedriveJobList)] = "RJ-jobs",
        [typeof(RedriveJobs.CancelRedriveJob)] = "RJ-cancel",
        [typeof(RedriveJobs.RedriveJobCancelResult)] = "RJ-cancelled",
        [typeof(RedriveJobs.RedriveJobStarted)] = "RJ-E-start",
        [typeof(RedriveJobs.RedriveChunkDone)] = "RJ-E-chunk",
        [typeof(RedriveJobs.RedriveJobFinished)] = "RJ-E-done",
        [typeof(RedriveJobs.RedriveJobCancelled)] = "RJ-E-cancel",
        [typeof(RedriveJobs.RedriveJobsSnapshot)] = "RJ-S1",
        [typeof(Enqueue)] = "C-enq",
        [typeof(EnqueueBatch)] = "C-batch",
        [typeof(Accepted)] = "C-acc",
        [typeof(Rejected)] = "C-rej",
        [typeof(BatchResult)] = "C-bres",
        [typeof(Drained)] = "C-drained",
        [typeof(Deliver)] = "W-deliver",
        [typeof(Completed)] = "W-done",
        [typeof(Failed)] = "W-fail",
        [typeof(LeaseExpired)] = "W-lease",
        [typeof(GetMessage)] = "Q-getmsg",
        [typeof(MessageInfo)] = "Q-msg",
        [typeof(MessageNotFound)] = "Q-nomsg",
        [typeof(OutcomeWaits.WaitForOutcome)] = "Q-wait",
        [typeof(OutcomeWaits.StopWaiting)] = "Q-stopwait",
        [typeof(GetStats)] = "Q-getstats",
        [typeof(QueueStats)] = "Q-stats",
        [typeof(QueueNames)] = "Q-names",
        [typeof(QueueUnavailable)] = "Q-unavail",
        [typeof(QueueNotFound)] = "Q-noqueue",
        [typeof(GetPlacement)] = "Q-getplace",
        [typeof(QueuePlacement)] = "Q-place",
        [typeof(WakeUp)] = "C-wake",
        [typeof(KeyCommands.ChangeKey)] = "K-change",
        [typeof(KeyCommands.KeyChanged)] = "K-changed",
        [typeof(Schedules.ScheduleCommands.DefineSchedule)] = "SCH-def",
        [typeof(Schedules.ScheduleCommands.ScheduleAccepted)] = "SCH-acc",
        [typeof(Schedules.ScheduleCommands.ScheduleRejected)] = "SCH-rej",
        [typeof(Schedules.ScheduleCommands.DeleteSchedule)] = "SCH-del",
        [typeof(Schedules.ScheduleCommands.ScheduleDeletedReply)] = "SCH-deleted",
        [typeof(Schedules.ScheduleCommands.PauseSchedule)] = "SCH-pause",
        [typeof(Schedules.ScheduleCommands.ResumeSchedule)] = "SCH-resume",
        [typeof(Schedules.ScheduleCommands.TriggerSchedule)] = "SCH-trigger",
        [typeof(Schedules.ScheduleCommands.ScheduleTriggered)] = "SCH-triggered",
        [typeof(Schedules.ScheduleCommands.GetSchedule)] = "SCH-get",
        [typeof(Schedules.ScheduleCommands.ScheduleNotFound)] = "SCH-none",
        [typeof(Schedules.ScheduleCommands.WakeSchedule)] = "SCH-wake",
        [typeof(Schedules.ScheduleCommands.ScheduleGone)] = "SCH-gone",
        [typeof(Schedules.ScheduleCommands.ScheduleIds)] = "SCH-ids",
        [typeof(Schedules.ScheduleStatus)] = "SCH-status",
        [typeof(Schedules.ScheduleSnapshot)] = "SCH-S1",
        [typeof(Schedules.ScheduleEvents.ScheduleDefined)] = "SCH-E-def",
        [typeof(Schedules.ScheduleEvents.ScheduleDeleted)] = "SCH-E-del",
        [typeof(Schedules.ScheduleEvents.SchedulePaused)] = "SCH-E-pause",
        [typeof(Schedules.ScheduleEvents.ScheduleResumed)] = "SCH-E-resume",
        [typeof(Schedules.ScheduleEvents.OccurrencesSkipped)] = "SCH-E-skip",
        [typeof(Schedules.ScheduleEvents.OccurrencesDue)] = "SCH-E-due",
        [typeof(Schedules.ScheduleEvents.OccurrenceBuffered)] = "SCH-E-buf",
        [typeof(Schedules.ScheduleEvents.OccurrenceFired)] = "SCH-E-fired",
        [typeof(Schedules.ScheduleEvents.OccurrenceRejected)] = "SCH-E-rej",
    };

    private static readonly Dictionary<string, Type> JsonTypes = JsonManifests.ToDictionary(p => p.Value, p => p.Key);

    private const string EnqueuedV1Manifest = "E1";
    private const string EnqueuedManifest = "E2";
    private const string AckedManifest = "A1";
    private const string SnapshotV1Manifest = "S1";
    private const string SnapshotV2Manifest = "S2";
    private const string SnapshotV3Manifest = "S3";
    private const string SnapshotV4Manifest = "S4";
    private const string SnapshotManifest = "S5";
    private const string ArchivedManifest = "AR1";
    private const string DrainManifest = "C-drain";
    private const string ListQueuesManifest = "Q-list";

    /// <summary>Creates the serializer; called by Akka.</summary>
    public QueueMessageSerializer(ExtendedActorSystem system) : base(system) { }

    /// <inheritdoc />
    public override int Identifier => SerializerId;

    /// <inheritdoc />
    public override string Manifest(object o) => o switch
    {
        MessagesEnqueued => EnqueuedManifest,
        MessagesAcked => AckedManifest,
        QueueSnapshot => SnapshotManifest,
        PayloadsArchived => ArchivedManifest,
        Drain => DrainManifest,
        ListQueues => ListQueuesManifest,
        _ when JsonManifests.TryGetValue(o.GetType(), out var manifest) => manifest,
        _ => throw new ArgumentException($"{o.GetType()} is not serialized by {nameof(QueueMessageSerializer)}.", nameof(o)),
    };

    /// <inheritdoc />
    public override byte[] ToBinary(object obj) => obj switch
    {
        MessagesEnqueued e => BinaryCodec.Write(w => BinaryCodec.WriteEnqueued(w, e)),
        MessagesAcked a => BinaryCodec.Write(w => BinaryCodec.WriteAcked(w, a)),
        QueueSnapshot s => BinaryCodec.Write(w => BinaryCodec.WriteSnapshot(w, s)),
        PayloadsArchived a => BinaryCodec.Write(w => BinaryCodec.WriteArchived(w, a)),
        Drain or ListQueues => [],
        _ when JsonManifests.ContainsKey(obj.GetType()) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Json),
        _ => throw new ArgumentException($"{obj.GetType()} is not serialized by {nameof(QueueMessageSerializer)}.", nameof(obj)),
    };

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, string manifest) => manifest switch
    {
        EnqueuedManifest => BinaryCodec.Read(bytes, r => BinaryCodec.ReadEnqueued(r, withTiming: true)),
        EnqueuedV1Manifest => BinaryCodec.Read(bytes, r => BinaryCodec.ReadEnqueued(r, withTiming: false)),
        AckedManifest => BinaryCodec.Read(bytes, BinaryCodec.ReadAcked),
        SnapshotManifest => BinaryCodec.Read(bytes, r => BinaryCodec.ReadSnapshot(r, BinaryCodec.SnapshotFormat)),
        SnapshotV4Manifest => BinaryCodec.Read(bytes, r => BinaryCodec.ReadSnapshot(r, format: 4)),
        SnapshotV3Manifest => BinaryCodec.Read(bytes, r => BinaryCodec.ReadSnapshot(r, format: 3)),
        ArchivedManifest => BinaryCodec.Read(bytes, BinaryCodec.ReadArchived),
        SnapshotV2Manifest => BinaryCodec.Read(bytes, r => BinaryCodec.ReadSnapshot(r, format: 2)),
        SnapshotV1Manifest => BinaryCodec.Read(bytes, r => BinaryCodec.ReadSnapshot(r, format: 1)),
        DrainManifest => Drain.Instance,
        ListQueuesManifest => ListQueues.Instance,
        _ when JsonTypes.TryGetValue(manifest, out var type) => JsonSerializer.Deserialize(bytes, type, Json)
            ?? throw new System.Runtime.Serialization.SerializationException($"Manifest {manifest} decoded to null."),
        _ => throw new System.Runtime.Serialization.SerializationException($"Unknown manifest '{manifest}' for {nameof(QueueMessageSerializer)}."),
    };
}

/// <summary>
/// The compact binary format of the hot events and snapshots. Each blob starts with a format version byte. Decoded
/// payloads are slices of the blob, not copies, and repeated type names share one string.
/// </summary>
internal static partial class BinaryCodec
{
    private const byte Version1 = 1;

    public static byte[] Write(Action<BinaryWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Version1);
            write(writer);
        }
        return stream.ToArray();
    }

    public static T Read<T>(byte[] bytes, Func<BlobReader, T> read)
    {
        var reader = new BlobReader(bytes);
        var version = reader.ReadByte();
        if (version != Version1) throw new System.Runtime.Serialization.SerializationException($"Unknown binary format version {version}.");
        return read(reader);
    }

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

    /// <summary>The part every stored message shares, in enqueue events and snapshots alike.</summary>
    private static void WriteMessage(BinaryWriter w, long id, string type, DateTime enqueuedAt, ImmutableDictionary<string, string> headers, ReadOnlyMemory<byte> payload)
    {
        WriteMessageHead(w, id, type, enqueuedAt, headers);
        WriteBytes(w, payload);
    }

    private static void WriteMessageHead(BinaryWriter w, long id, string type, DateTime enqueuedAt, ImmutableDictionary<string, string> headers)
    {
        w.Write7BitEncodedInt64(id);
        w.Write(type);
        w.Write(enqueuedAt.Ticks);
        WriteHeaders(w, headers);
    }

    private static (long Id, string Type, DateTime At, ImmutableDictionary<string, string> Headers) ReadMessageHead(BlobReader r) =>
        (r.Read7BitEncodedInt64(), r.ReadInternedString(), r.ReadTime(), ReadHeaders(r));

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

    /// <summary>
    /// Snapshot format S3. S2 was S1 with each message's payload replaced by the sequence number of the journal event
    /// that holds it (the payload stored only when that number is 0); S3 adds the expired and cancelled totals, each
    /// message's expiry, each retained finished message's status, and the remembered idempotency keys. S4 (written now)
    /// adds each message's payload length and, for a message whose payload is not in the main journal, the sequence
    /// number of the archive event that holds it (the payload stored only when both numbers are 0), and each finished
    /// message's archive sequence number (its result stored only when that is 0). S5 adds the follow-ups (see
    /// <see cref="WriteFollowUps"/>).
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
    }

    /// <summary>The snapshot format <see cref="WriteSnapshot"/> writes.</summary>
    public const int SnapshotFormat = 5;

    /// <summary>Reads format S5, S4, S3, S2 or S1 (<paramref name="format"/>; in S1 every payload is in the snapshot).</summary>
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
            succeeded.Add(new SnapshotSucceeded(id, type, attempts, enqueuedAt, completedAt, result, status, resultArchiveSeq));
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
        return format >= 5 ? ReadFollowUps(r, snapshot) : snapshot;
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

    private static void WriteHeaders(BinaryWriter w, ImmutableDictionary<string, string> headers)
    {
        w.Write7BitEncodedInt(headers.Count);
        foreach (var (key, value) in headers)
        {
            w.Write(key);
            w.Write(value ?? "");
        }
    }

    private static ImmutableDictionary<string, string> ReadHeaders(BlobReader r)
    {
        var count = r.Read7BitEncodedInt();
        if (count == 0) return ImmutableDictionary<string, string>.Empty;
        var builder = ImmutableDictionary.CreateBuilder<string, string>();
        for (var i = 0; i < count; i++) builder[r.ReadString()] = r.ReadString();
        return builder.ToImmutable();
    }

    private static void WriteBytes(BinaryWriter w, ReadOnlyMemory<byte> bytes)
    {
        w.Write7BitEncodedInt(bytes.Length);
        w.Write(bytes.Span);
    }

    private static void WriteOptionalBytes(BinaryWriter w, ReadOnlyMemory<byte>? bytes)
    {
        w.Write(bytes.HasValue);
        if (bytes is { } value) WriteBytes(w, value);
    }

    private static ReadOnlyMemory<byte>? ReadOptionalBytes(BlobReader r) => r.ReadBoolean() ? r.ReadBytes() : (ReadOnlyMemory<byte>?)null;

    private static void WriteOptionalString(BinaryWriter w, string? value)
    {
        w.Write(value is not null);
        if (value is not null) w.Write(value);
    }

    private static string? ReadOptionalString(BlobReader r) => r.ReadBoolean() ? r.ReadString() : null;

    private static void WriteError(BinaryWriter w, ErrorInfo error)
    {
        w.Write(error.Type);
        w.Write(error.Message);
        WriteOptionalString(w, error.StackTrace);
        WriteOptionalString(w, error.Worker);
        w.Write(error.At.Ticks);
    }

    private static ErrorInfo ReadError(BlobReader r) =>
        new(r.ReadString(), r.ReadString(), ReadOptionalString(r), ReadOptionalString(r), r.ReadTime());
}

/// <summary>
/// Reads what <see cref="BinaryWriter"/> wrote, straight from the blob: byte strings come back as slices of it, and
/// a string equal to the previous interned one is that same string.
/// </summary>
internal sealed class BlobReader(byte[] bytes)
{
    private int _position;
    private byte[]? _lastInternedBytes;
    private string? _lastInterned;

    public byte ReadByte() => _position < bytes.Length ? bytes[_position++] : throw Truncated();

    public bool ReadBoolean() => ReadByte() != 0;

    public long ReadInt64()
    {
        var value = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(Take(8));
        return value;
    }

    public DateTime ReadTime() => new(ReadInt64(), DateTimeKind.Utc);

    public int Read7BitEncodedInt() => checked((int)Read7BitEncodedInt64());

    public long Read7BitEncodedInt64()
    {
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            var b = ReadByte();
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return (long)result;
        }
        throw new System.Runtime.Serialization.SerializationException("Malformed 7-bit encoded integer.");
    }

    /// <summary>A length-prefixed byte string, as a slice of the blob.</summary>
    public ReadOnlyMemory<byte> ReadBytes()
    {
        var length = Read7BitEncodedInt();
        if (length == 0) return ReadOnlyMemory<byte>.Empty;
        Take(length);
        return new ReadOnlyMemory<byte>(bytes, _position - length, length);
    }

    public string ReadString() => System.Text.Encoding.UTF8.GetString(Take(Read7BitEncodedInt()));

    /// <summary>A string that repeats from one record to the next (a message type): decoded once per run of equal ones.</summary>
    public string ReadInternedString()
    {
        var span = Take(Read7BitEncodedInt());
        if (_lastInterned is not null && span.SequenceEqual(_lastInternedBytes)) return _lastInterned;
        _lastInternedBytes = span.ToArray();
        return _lastInterned = System.Text.Encoding.UTF8.GetString(span);
    }

    private ReadOnlySpan<byte> Take(int length)
    {
        if (length < 0 || length > bytes.Length - _position) throw Truncated();
        var span = new ReadOnlySpan<byte>(bytes, _position, length);
        _position += length;
        return span;
    }

    private static System.Runtime.Serialization.SerializationException Truncated() => new("The blob ends early.");
}

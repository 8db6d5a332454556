using System.Collections.Immutable;
using System.Text.Json;
using Actors.Monitoring;
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
        [typeof(QueuePaused)] = "QP1",
        [typeof(QueueResumed)] = "QR1",
        [typeof(PauseCommands.Pause)] = "C-pause",
        [typeof(PauseCommands.Resume)] = "C-resume",
        [typeof(PauseCommands.PauseState)] = "C-paused",
        [typeof(FindByIdempotencyKey)] = "Q-findkey",
        [typeof(IdempotencyKeyFound)] = "Q-key",
        [typeof(IdempotencyKeyNotFound)] = "Q-nokey",
        [typeof(Discarded)] = "X1",
        [typeof(MessageCancelled)] = "CN1",
        [typeof(MessagesExpired)] = "EX1",
        [typeof(MessagesPurged)] = "PQ1",
        [typeof(QueueLifecycle.Purge)] = "C-purge",
        [typeof(QueueLifecycle.Purged)] = "C-purged",
        [typeof(QueueLifecycle.Delete)] = "C-delete",
        [typeof(QueueLifecycle.Deleted)] = "C-deleted",
        [typeof(QueueLifecycle.DeleteRefused)] = "C-delrefused",
        [typeof(QueueLifecycle.RetirePartition)] = "C-retire",
        [typeof(QueueLifecycle.PartitionRetired)] = "C-retired",
        [typeof(QueueLifecycle.PartitionGone)] = "C-gone",
        [typeof(ConsumerProtocol.ConsumerCancelled)] = "CS-cancelled",
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
        [typeof(ConsumerProtocol.Attached)] = "CS-attached",
        [typeof(ConsumerProtocol.Detached)] = "CS-detached",
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
        [typeof(QueueRegistryProtocol.Declare)] = "REG-declare",
        [typeof(QueueDeclaration)] = "REG-declared",
        [typeof(QueueRegistryProtocol.FindDeclared)] = "REG-find",
        [typeof(QueueRegistryProtocol.DeclaredQueueFound)] = "REG-found",
        [typeof(QueueRegistryProtocol.SubscribeDeclarations)] = "REG-sub",
        [typeof(QueueRegistryProtocol.Declarations)] = "REG-all",
        [typeof(QueueRegistryEvents.QueueAdded)] = "REG-E-add",
        [typeof(QueueRegistryEvents.QueueRemoved)] = "REG-E-remove",
        [typeof(QueueRegistryProtocol.RemoveDeclared)] = "REG-remove",
        [typeof(QueueRegistryProtocol.DeclaredQueueRemoved)] = "REG-removed",
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
    private const string SnapshotV5Manifest = "S5";
    private const string SnapshotManifest = "S6";
    private const string ArchivedManifest = "AR1";
    private const string DrainManifest = "C-drain";
    private const string ListQueuesManifest = "Q-list";
    private const string AttachManifest = "CS-attach";
    private const string DetachManifest = "CS-detach";

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
        ConsumerProtocol.Attach => AttachManifest,
        ConsumerProtocol.Detach => DetachManifest,
        _ when JsonManifests.TryGetValue(o.GetType(), out var manifest) => manifest,
        _ => throw new ArgumentException($"{o.GetType()} is not serialized by {nameof(QueueMessageSerializer)}.", nameof(o)),
    };

    /// <summary>The actor a serialized actor path names, on this node or a remote one.</summary>
    private IActorRef ResolveActor(string path) => system.Provider.ResolveActorRef(path);

    /// <summary>The hot event's bytes (the journal serializes it as it takes the write, which the write-path breakdown marks).</summary>
    private static byte[] WriteEnqueued(MessagesEnqueued e)
    {
        if (WritePathBreakdown.Enabled) WritePathBreakdown.Serializing(e);
        return BinaryCodec.Write(w => BinaryCodec.WriteEnqueued(w, e));
    }

    /// <inheritdoc />
    public override byte[] ToBinary(object obj) => obj switch
    {
        MessagesEnqueued e => WriteEnqueued(e),
        MessagesAcked a => BinaryCodec.Write(w => BinaryCodec.WriteAcked(w, a)),
        QueueSnapshot s => BinaryCodec.Write(w => BinaryCodec.WriteSnapshot(w, s)),
        PayloadsArchived a => BinaryCodec.Write(w => BinaryCodec.WriteArchived(w, a)),
        Drain or ListQueues => [],
        ConsumerProtocol.Attach a => BinaryCodec.Write(w =>
        {
            w.Write(a.QueueId);
            w.Write(Akka.Serialization.Serialization.SerializedActorPath(a.Consumer));
            w.Write7BitEncodedInt(a.Prefetch);
        }),
        ConsumerProtocol.Detach d => BinaryCodec.Write(w =>
        {
            w.Write(d.QueueId);
            w.Write(Akka.Serialization.Serialization.SerializedActorPath(d.Consumer));
        }),
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
        SnapshotV5Manifest => BinaryCodec.Read(bytes, r => BinaryCodec.ReadSnapshot(r, format: 5)),
        SnapshotV4Manifest => BinaryCodec.Read(bytes, r => BinaryCodec.ReadSnapshot(r, format: 4)),
        SnapshotV3Manifest => BinaryCodec.Read(bytes, r => BinaryCodec.ReadSnapshot(r, format: 3)),
        ArchivedManifest => BinaryCodec.Read(bytes, BinaryCodec.ReadArchived),
        SnapshotV2Manifest => BinaryCodec.Read(bytes, r => BinaryCodec.ReadSnapshot(r, format: 2)),
        SnapshotV1Manifest => BinaryCodec.Read(bytes, r => BinaryCodec.ReadSnapshot(r, format: 1)),
        DrainManifest => Drain.Instance,
        ListQueuesManifest => ListQueues.Instance,
        AttachManifest => BinaryCodec.Read(bytes, r => new ConsumerProtocol.Attach(r.ReadString(), ResolveActor(r.ReadString()), r.Read7BitEncodedInt())),
        DetachManifest => BinaryCodec.Read(bytes, r => new ConsumerProtocol.Detach(r.ReadString(), ResolveActor(r.ReadString()))),
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

    private static void WriteHeaders(BinaryWriter w, ImmutableDictionary<string, string> headers)
    {
        w.Write7BitEncodedInt(headers.Count);
        foreach (var (key, value) in headers)
        {
            w.Write(key);
            w.Write(value ?? "");
        }
    }

    /// <summary>A header name the queue knows, as one shared string: a deep backlog of keyed messages holds each once.</summary>
    private static string KnownName(string name) => name switch
    {
        MessageHeaders.Key => MessageHeaders.Key,
        MessageHeaders.Priority => MessageHeaders.Priority,
        MessageHeaders.Then => MessageHeaders.Then,
        MessageHeaders.OnFailure => MessageHeaders.OnFailure,
        _ => name,
    };

    private static ImmutableDictionary<string, string> ReadHeaders(BlobReader r)
    {
        var count = r.Read7BitEncodedInt();
        if (count == 0) return ImmutableDictionary<string, string>.Empty;
        var builder = ImmutableDictionary.CreateBuilder<string, string>();
        for (var i = 0; i < count; i++) builder[KnownName(r.ReadString())] = r.ReadString();
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

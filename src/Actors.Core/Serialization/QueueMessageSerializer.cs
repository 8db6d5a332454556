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
        [typeof(Discarded)] = "X1",
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
        [typeof(GetStats)] = "Q-getstats",
        [typeof(QueueStats)] = "Q-stats",
        [typeof(QueueNames)] = "Q-names",
        [typeof(QueueUnavailable)] = "Q-unavail",
        [typeof(QueueNotFound)] = "Q-noqueue",
        [typeof(GetPlacement)] = "Q-getplace",
        [typeof(QueuePlacement)] = "Q-place",
        [typeof(WakeUp)] = "C-wake",
    };

    private static readonly Dictionary<string, Type> JsonTypes = JsonManifests.ToDictionary(p => p.Value, p => p.Key);

    private const string EnqueuedManifest = "E1";
    private const string AckedManifest = "A1";
    private const string SnapshotManifest = "S1";
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
        Drain or ListQueues => [],
        _ when JsonManifests.ContainsKey(obj.GetType()) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Json),
        _ => throw new ArgumentException($"{obj.GetType()} is not serialized by {nameof(QueueMessageSerializer)}.", nameof(obj)),
    };

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, string manifest) => manifest switch
    {
        EnqueuedManifest => BinaryCodec.Read(bytes, BinaryCodec.ReadEnqueued),
        AckedManifest => BinaryCodec.Read(bytes, BinaryCodec.ReadAcked),
        SnapshotManifest => BinaryCodec.Read(bytes, BinaryCodec.ReadSnapshot),
        DrainManifest => Drain.Instance,
        ListQueuesManifest => ListQueues.Instance,
        _ when JsonTypes.TryGetValue(manifest, out var type) => JsonSerializer.Deserialize(bytes, type, Json)
            ?? throw new System.Runtime.Serialization.SerializationException($"Manifest {manifest} decoded to null."),
        _ => throw new System.Runtime.Serialization.SerializationException($"Unknown manifest '{manifest}' for {nameof(QueueMessageSerializer)}."),
    };
}

/// <summary>The compact binary format of the hot events and snapshots. Each blob starts with a format version byte.</summary>
internal static class BinaryCodec
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

    public static T Read<T>(byte[] bytes, Func<BinaryReader, T> read)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8);
        var version = reader.ReadByte();
        if (version != Version1) throw new System.Runtime.Serialization.SerializationException($"Unknown binary format version {version}.");
        return read(reader);
    }

    public static void WriteEnqueued(BinaryWriter w, MessagesEnqueued e)
    {
        w.Write7BitEncodedInt(e.Messages.Length);
        foreach (var m in e.Messages) WriteMessage(w, m.Id, m.Type, m.EnqueuedAt, m.Headers, m.Payload);
    }

    /// <summary>The part every stored message shares, in enqueue events and snapshots alike.</summary>
    private static void WriteMessage(BinaryWriter w, long id, string type, DateTime enqueuedAt, ImmutableDictionary<string, string> headers, ReadOnlyMemory<byte> payload)
    {
        w.Write7BitEncodedInt64(id);
        w.Write(type);
        w.Write(enqueuedAt.Ticks);
        WriteHeaders(w, headers);
        WriteBytes(w, payload);
    }

    private static EnqueuedMessage ReadMessage(BinaryReader r)
    {
        var id = r.Read7BitEncodedInt64();
        var type = r.ReadString();
        var at = ReadTime(r);
        var headers = ReadHeaders(r);
        return new EnqueuedMessage(id, type, ReadBytes(r), headers, at);
    }

    public static MessagesEnqueued ReadEnqueued(BinaryReader r)
    {
        var count = r.Read7BitEncodedInt();
        var messages = ImmutableArray.CreateBuilder<EnqueuedMessage>(count);
        for (var i = 0; i < count; i++) messages.Add(ReadMessage(r));
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

    public static MessagesAcked ReadAcked(BinaryReader r)
    {
        var count = r.Read7BitEncodedInt();
        var acks = ImmutableArray.CreateBuilder<AckedMessage>(count);
        for (var i = 0; i < count; i++)
        {
            var id = r.Read7BitEncodedInt64();
            var attempt = r.Read7BitEncodedInt();
            var at = ReadTime(r);
            acks.Add(new AckedMessage(id, attempt, ReadOptionalBytes(r), at));
        }
        return new MessagesAcked(acks.MoveToImmutable());
    }

    public static void WriteSnapshot(BinaryWriter w, QueueSnapshot s)
    {
        w.Write7BitEncodedInt64(s.LastId);
        w.Write7BitEncodedInt64(s.Totals.Enqueued);
        w.Write7BitEncodedInt64(s.Totals.Succeeded);
        w.Write7BitEncodedInt64(s.Totals.FailedAttempts);
        w.Write7BitEncodedInt64(s.Totals.DeadLettered);
        w.Write7BitEncodedInt64(s.Totals.Discarded);
        w.Write7BitEncodedInt(s.Messages.Length);
        foreach (var m in s.Messages)
        {
            WriteMessage(w, m.Id, m.Type, m.EnqueuedAt, m.Headers, m.Payload);
            w.Write7BitEncodedInt(m.FailedAttempts);
            w.Write7BitEncodedInt(m.Errors.Count);
            foreach (var error in m.Errors) WriteError(w, error);
            w.Write((byte)m.Stage);
            w.Write(m.DueAt.Ticks);
            WriteOptionalString(w, m.DeadLetterReason);
            w.Write(m.FinishedAt?.Ticks ?? -1);
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
        }
    }

    public static QueueSnapshot ReadSnapshot(BinaryReader r)
    {
        var lastId = r.Read7BitEncodedInt64();
        var totals = new QueueTotals(r.Read7BitEncodedInt64(), r.Read7BitEncodedInt64(), r.Read7BitEncodedInt64(), r.Read7BitEncodedInt64(), r.Read7BitEncodedInt64());
        var count = r.Read7BitEncodedInt();
        var messages = ImmutableArray.CreateBuilder<SnapshotMessage>(count);
        for (var i = 0; i < count; i++)
        {
            var (id, type, payload, headers, at) = ReadMessage(r);
            var failed = r.Read7BitEncodedInt();
            var errorCount = r.Read7BitEncodedInt();
            var errors = ImmutableList.CreateBuilder<ErrorInfo>();
            for (var e = 0; e < errorCount; e++) errors.Add(ReadError(r));
            var stage = (SnapshotStage)r.ReadByte();
            var dueAt = ReadTime(r);
            var reason = ReadOptionalString(r);
            var finishedTicks = r.ReadInt64();
            messages.Add(new SnapshotMessage(id, type, payload, headers, at, failed, errors.ToImmutable(), stage, dueAt, reason,
                finishedTicks < 0 ? null : new DateTime(finishedTicks, DateTimeKind.Utc)));
        }
        var succeededCount = r.Read7BitEncodedInt();
        var succeeded = ImmutableArray.CreateBuilder<SnapshotSucceeded>(succeededCount);
        for (var i = 0; i < succeededCount; i++)
        {
            var id = r.Read7BitEncodedInt64();
            var type = r.ReadString();
            var attempts = r.Read7BitEncodedInt();
            var enqueuedAt = ReadTime(r);
            var completedAt = ReadTime(r);
            succeeded.Add(new SnapshotSucceeded(id, type, attempts, enqueuedAt, completedAt, ReadOptionalBytes(r)));
        }
        return new QueueSnapshot(lastId, totals, messages.MoveToImmutable(), succeeded.MoveToImmutable());
    }

    private static DateTime ReadTime(BinaryReader r) => new(r.ReadInt64(), DateTimeKind.Utc);

    private static void WriteHeaders(BinaryWriter w, ImmutableDictionary<string, string> headers)
    {
        w.Write7BitEncodedInt(headers.Count);
        foreach (var (key, value) in headers)
        {
            w.Write(key);
            w.Write(value ?? "");
        }
    }

    private static ImmutableDictionary<string, string> ReadHeaders(BinaryReader r)
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

    private static byte[] ReadBytes(BinaryReader r)
    {
        var length = r.Read7BitEncodedInt();
        return length == 0 ? [] : r.ReadBytes(length);
    }

    private static void WriteOptionalBytes(BinaryWriter w, ReadOnlyMemory<byte>? bytes)
    {
        w.Write(bytes.HasValue);
        if (bytes is { } value) WriteBytes(w, value);
    }

    private static ReadOnlyMemory<byte>? ReadOptionalBytes(BinaryReader r) => r.ReadBoolean() ? new ReadOnlyMemory<byte>(ReadBytes(r)) : (ReadOnlyMemory<byte>?)null;

    private static void WriteOptionalString(BinaryWriter w, string? value)
    {
        w.Write(value is not null);
        if (value is not null) w.Write(value);
    }

    private static string? ReadOptionalString(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;

    private static void WriteError(BinaryWriter w, ErrorInfo error)
    {
        w.Write(error.Type);
        w.Write(error.Message);
        WriteOptionalString(w, error.StackTrace);
        WriteOptionalString(w, error.Worker);
        w.Write(error.At.Ticks);
    }

    private static ErrorInfo ReadError(BinaryReader r) =>
        new(r.ReadString(), r.ReadString(), ReadOptionalString(r), ReadOptionalString(r), ReadTime(r));
}

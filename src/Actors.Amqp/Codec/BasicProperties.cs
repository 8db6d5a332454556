namespace Actors.Amqp.Codec;

/// <summary>
/// The 14 properties of the basic class, as a content header carries them: each present one has its flag bit set
/// (content-type is bit 15, cluster-id bit 2) and its value in flag order.
/// </summary>
public sealed record BasicProperties
{
    /// <summary>No properties.</summary>
    public static BasicProperties Empty { get; } = new();

    /// <summary>MIME content type.</summary>
    public string? ContentType { get; init; }
    /// <summary>MIME content encoding.</summary>
    public string? ContentEncoding { get; init; }
    /// <summary>Application headers.</summary>
    public IReadOnlyDictionary<string, object?>? Headers { get; init; }
    /// <summary>1 non-persistent, 2 persistent.</summary>
    public byte? DeliveryMode { get; init; }
    /// <summary>Priority, 0–9.</summary>
    public byte? Priority { get; init; }
    /// <summary>Correlation id.</summary>
    public string? CorrelationId { get; init; }
    /// <summary>Address to reply to.</summary>
    public string? ReplyTo { get; init; }
    /// <summary>Expiration: milliseconds, as text.</summary>
    public string? Expiration { get; init; }
    /// <summary>Application message id.</summary>
    public string? MessageId { get; init; }
    /// <summary>Message timestamp (seconds since the epoch).</summary>
    public ulong? Timestamp { get; init; }
    /// <summary>Message type name.</summary>
    public string? Type { get; init; }
    /// <summary>Creating user id.</summary>
    public string? UserId { get; init; }
    /// <summary>Creating application id.</summary>
    public string? AppId { get; init; }
    /// <summary>Reserved (cluster id).</summary>
    public string? ClusterId { get; init; }

    /// <summary>The property flags: bit 15 content-type … bit 2 cluster-id.</summary>
    public ushort Flags =>
        (ushort)((ContentType is null ? 0 : 0x8000) | (ContentEncoding is null ? 0 : 0x4000) | (Headers is null ? 0 : 0x2000)
        | (DeliveryMode is null ? 0 : 0x1000) | (Priority is null ? 0 : 0x0800) | (CorrelationId is null ? 0 : 0x0400)
        | (ReplyTo is null ? 0 : 0x0200) | (Expiration is null ? 0 : 0x0100) | (MessageId is null ? 0 : 0x0080)
        | (Timestamp is null ? 0 : 0x0040) | (Type is null ? 0 : 0x0020) | (UserId is null ? 0 : 0x0010)
        | (AppId is null ? 0 : 0x0008) | (ClusterId is null ? 0 : 0x0004));

    /// <summary>Writes the flags and the present properties.</summary>
    public void Write(AmqpWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteShort(Flags);
        if (ContentType is not null) writer.WriteShortString(ContentType);
        if (ContentEncoding is not null) writer.WriteShortString(ContentEncoding);
        if (Headers is not null) writer.WriteTable(Headers);
        if (DeliveryMode is { } mode) writer.WriteOctet(mode);
        if (Priority is { } priority) writer.WriteOctet(priority);
        if (CorrelationId is not null) writer.WriteShortString(CorrelationId);
        if (ReplyTo is not null) writer.WriteShortString(ReplyTo);
        if (Expiration is not null) writer.WriteShortString(Expiration);
        if (MessageId is not null) writer.WriteShortString(MessageId);
        if (Timestamp is { } timestamp) writer.WriteLongLong(timestamp);
        if (Type is not null) writer.WriteShortString(Type);
        if (UserId is not null) writer.WriteShortString(UserId);
        if (AppId is not null) writer.WriteShortString(AppId);
        if (ClusterId is not null) writer.WriteShortString(ClusterId);
    }

    /// <summary>Reads the flags and the properties they announce (continuation flags are followed and their bits ignored).</summary>
    public static BasicProperties Read(ref AmqpReader reader)
    {
        var flags = reader.ReadShort();
        var more = flags;
        while ((more & 1) != 0) more = reader.ReadShort();
        if ((flags & 0xFFFC) == 0) return Empty;
        return new BasicProperties
        {
            ContentType = (flags & 0x8000) != 0 ? reader.ReadShortString() : null,
            ContentEncoding = (flags & 0x4000) != 0 ? reader.ReadShortString() : null,
            Headers = (flags & 0x2000) != 0 ? reader.ReadTable() : null,
            DeliveryMode = (flags & 0x1000) != 0 ? reader.ReadOctet() : null,
            Priority = (flags & 0x0800) != 0 ? reader.ReadOctet() : null,
            CorrelationId = (flags & 0x0400) != 0 ? reader.ReadShortString() : null,
            ReplyTo = (flags & 0x0200) != 0 ? reader.ReadShortString() : null,
            Expiration = (flags & 0x0100) != 0 ? reader.ReadShortString() : null,
            MessageId = (flags & 0x0080) != 0 ? reader.ReadShortString() : null,
            Timestamp = (flags & 0x0040) != 0 ? reader.ReadLongLong() : null,
            Type = (flags & 0x0020) != 0 ? reader.ReadShortString() : null,
            UserId = (flags & 0x0010) != 0 ? reader.ReadShortString() : null,
            AppId = (flags & 0x0008) != 0 ? reader.ReadShortString() : null,
            ClusterId = (flags & 0x0004) != 0 ? reader.ReadShortString() : null,
        };
    }
}

/// <summary>A content header frame's payload: class id, weight (0), body size and the basic properties.</summary>
/// <param name="ClassId">The content's class (60, basic).</param>
/// <param name="BodySize">Total bytes of the body frames that follow.</param>
/// <param name="Properties">The properties.</param>
public sealed record ContentHeader(ushort ClassId, ulong BodySize, BasicProperties Properties)
{
    /// <summary>Writes the payload.</summary>
    public void Write(AmqpWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteShort(ClassId);
        writer.WriteShort(0);
        writer.WriteLongLong(BodySize);
        Properties.Write(writer);
    }

    /// <summary>Reads a content header payload.</summary>
    public static ContentHeader Read(ReadOnlySpan<byte> payload)
    {
        var reader = new AmqpReader(payload);
        var classId = reader.ReadShort();
        reader.ReadShort();
        var size = reader.ReadLongLong();
        return new ContentHeader(classId, size, BasicProperties.Read(ref reader));
    }
}

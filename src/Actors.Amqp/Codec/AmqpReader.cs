using System.Buffers.Binary;
using System.Text;

namespace Actors.Amqp.Codec;

/// <summary>Thrown when bytes on the wire do not form a valid AMQP 0-9-1 value, frame or method (reply code 502 or 501).</summary>
public sealed class AmqpSyntaxException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AmqpSyntaxException() { }

    /// <summary>Creates the exception with its message.</summary>
    public AmqpSyntaxException(string message) : base(message) { }

    /// <summary>Creates the exception with its message and cause.</summary>
    public AmqpSyntaxException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// Reads AMQP 0-9-1 domain values (network byte order) from a span: octets, shorts, longs, long-longs, short and long
/// strings, packed bits and field tables. Consecutive bits share an octet, least significant bit first.
/// </summary>
public ref struct AmqpReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _bitOctet;
    private int _bitIndex;

    /// <summary>A reader at the start of <paramref name="buffer"/>.</summary>
    public AmqpReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        Position = 0;
        _bitIndex = 8;
        _bitOctet = 0;
    }

    /// <summary>Bytes read so far.</summary>
    public int Position { get; private set; }

    /// <summary>Bytes left.</summary>
    public readonly int Remaining => _buffer.Length - Position;

    private ReadOnlySpan<byte> Take(int count)
    {
        _bitIndex = 8;
        if (count < 0 || count > _buffer.Length - Position) throw new AmqpSyntaxException($"The value needs {count} bytes; {_buffer.Length - Position} remain.");
        var span = _buffer.Slice(Position, count);
        Position += count;
        return span;
    }

    /// <summary>An unsigned octet.</summary>
    public byte ReadOctet() => Take(1)[0];

    /// <summary>A signed octet.</summary>
    public sbyte ReadSByte() => unchecked((sbyte)Take(1)[0]);

    /// <summary>An unsigned 16-bit integer.</summary>
    public ushort ReadShort() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));

    /// <summary>A signed 16-bit integer.</summary>
    public short ReadInt16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));

    /// <summary>An unsigned 32-bit integer.</summary>
    public uint ReadLong() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));

    /// <summary>A signed 32-bit integer.</summary>
    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    /// <summary>An unsigned 64-bit integer.</summary>
    public ulong ReadLongLong() => BinaryPrimitives.ReadUInt64BigEndian(Take(8));

    /// <summary>A signed 64-bit integer.</summary>
    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    /// <summary>A 32-bit IEEE float.</summary>
    public float ReadFloat() => BinaryPrimitives.ReadSingleBigEndian(Take(4));

    /// <summary>A 64-bit IEEE double.</summary>
    public double ReadDouble() => BinaryPrimitives.ReadDoubleBigEndian(Take(8));

    /// <summary>One bit; consecutive bits are packed into one octet, least significant first.</summary>
    public bool ReadBit()
    {
        if (_bitIndex >= 8)
        {
            if (Position >= _buffer.Length) throw new AmqpSyntaxException("A bit field is missing.");
            _bitOctet = _buffer[Position++];
            _bitIndex = 0;
        }
        return (_bitOctet & (1 << _bitIndex++)) != 0;
    }

    /// <summary>A short string: an octet length and up to 255 bytes of UTF-8.</summary>
    public string ReadShortString()
    {
        var length = ReadOctet();
        return Encoding.UTF8.GetString(Take(length));
    }

    /// <summary>A long string's bytes: a 32-bit length and the bytes.</summary>
    public ReadOnlySpan<byte> ReadLongStringBytes()
    {
        var length = ReadLong();
        if (length > int.MaxValue) throw new AmqpSyntaxException("A long string is longer than 2 GiB.");
        return Take((int)length);
    }

    /// <summary>A long string as UTF-8 text.</summary>
    public string ReadLongString() => Encoding.UTF8.GetString(ReadLongStringBytes());

    /// <summary>A field table (RabbitMQ's errata types), as a dictionary of its entries in wire order.</summary>
    public IReadOnlyDictionary<string, object?> ReadTable()
    {
        var bytes = ReadLongStringBytes();
        var inner = new AmqpReader(bytes);
        var table = new Dictionary<string, object?>(StringComparer.Ordinal);
        while (inner.Remaining > 0)
        {
            var name = inner.ReadShortString();
            table[name] = inner.ReadFieldValue();
        }
        return table;
    }

    /// <summary>A field array: a 32-bit byte length and tagged values.</summary>
    public IReadOnlyList<object?> ReadArray()
    {
        var bytes = ReadLongStringBytes();
        var inner = new AmqpReader(bytes);
        var list = new List<object?>();
        while (inner.Remaining > 0) list.Add(inner.ReadFieldValue());
        return list;
    }

    /// <summary>One tagged field value: t b B s u I i l f d D S x A V T F.</summary>
    public object? ReadFieldValue()
    {
        var tag = (char)ReadOctet();
        return tag switch
        {
            't' => ReadOctet() != 0,
            'b' => ReadSByte(),
            'B' => ReadOctet(),
            's' => ReadInt16(),
            'u' => ReadShort(),
            'I' => ReadInt32(),
            'i' => ReadLong(),
            'l' => ReadInt64(),
            'f' => ReadFloat(),
            'd' => ReadDouble(),
            'D' => ReadDecimal(),
            'S' => ReadLongString(),
            'x' => ReadLongStringBytes().ToArray(),
            'A' => ReadArray(),
            'V' => null,
            'T' => new AmqpTimestamp(ReadLongLong()),
            'F' => ReadTable(),
            _ => throw new AmqpSyntaxException($"Unknown field type '{tag}' (0x{(int)tag:x2})."),
        };
    }

    private AmqpDecimal ReadDecimal()
    {
        var scale = ReadOctet();
        return new AmqpDecimal(scale, ReadInt32());
    }
}

/// <summary>A field table decimal: <paramref name="Value"/> × 10^-<paramref name="Scale"/>.</summary>
public readonly record struct AmqpDecimal(byte Scale, int Value)
{
    /// <summary>The value as a <see cref="decimal"/>.</summary>
    public decimal ToDecimal() => new(unchecked((int)(uint)Math.Abs((long)Value)), 0, 0, Value < 0, Scale);
}

/// <summary>A field table timestamp: seconds since the Unix epoch.</summary>
public readonly record struct AmqpTimestamp(ulong UnixSeconds)
{
    /// <summary>The time in UTC.</summary>
    public DateTime ToDateTime() => DateTime.UnixEpoch.AddSeconds(UnixSeconds);
}

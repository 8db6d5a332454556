using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Actors.Amqp.Codec;

/// <summary>
/// Writes AMQP 0-9-1 values into a growable buffer (pooled, reused between frames): the counterpart of
/// <see cref="AmqpReader"/>, plus frame envelopes whose size is filled in when the frame ends.
/// Not thread-safe: one writer per connection, used under the connection's write lock.
/// </summary>
public sealed class AmqpWriter : IDisposable
{
    private byte[] _buffer;
    private int _bitPosition = -1;
    private int _bitIndex;

    /// <summary>A writer with <paramref name="capacity"/> bytes to start with.</summary>
    public AmqpWriter(int capacity = 4096) => _buffer = ArrayPool<byte>.Shared.Rent(capacity);

    /// <summary>Bytes written.</summary>
    public int Length { get; private set; }

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, Length);

    /// <summary>The bytes written so far.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, Length);

    /// <summary>Forgets what was written; keeps the buffer.</summary>
    public void Reset()
    {
        Length = 0;
        _bitPosition = -1;
    }

    private Span<byte> Grab(int count)
    {
        _bitPosition = -1;
        if (Length + count > _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, Length + count));
            _buffer.AsSpan(0, Length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        var span = _buffer.AsSpan(Length, count);
        Length += count;
        return span;
    }

    /// <summary>An unsigned octet.</summary>
    public void WriteOctet(byte value) => Grab(1)[0] = value;

    /// <summary>An unsigned 16-bit integer.</summary>
    public void WriteShort(ushort value) => BinaryPrimitives.WriteUInt16BigEndian(Grab(2), value);

    /// <summary>An unsigned 32-bit integer.</summary>
    public void WriteLong(uint value) => BinaryPrimitives.WriteUInt32BigEndian(Grab(4), value);

    /// <summary>An unsigned 64-bit integer.</summary>
    public void WriteLongLong(ulong value) => BinaryPrimitives.WriteUInt64BigEndian(Grab(8), value);

    /// <summary>Raw bytes.</summary>
    public void WriteBytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Grab(bytes.Length));

    /// <summary>One bit; consecutive bits share an octet, least significant first.</summary>
    public void WriteBit(bool value)
    {
        if (_bitPosition < 0 || _bitIndex >= 8)
        {
            Grab(1)[0] = 0;
            _bitPosition = Length - 1;
            _bitIndex = 0;
        }
        if (value) _buffer[_bitPosition] |= (byte)(1 << _bitIndex);
        _bitIndex++;
    }

    /// <summary>A short string (at most 255 bytes of UTF-8).</summary>
    /// <exception cref="ArgumentException">The text is longer than 255 bytes in UTF-8.</exception>
    public void WriteShortString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var count = Encoding.UTF8.GetByteCount(value);
        if (count > 255) throw new ArgumentException($"A short string is at most 255 bytes; this one is {count}.", nameof(value));
        var span = Grab(1 + count);
        span[0] = (byte)count;
        Encoding.UTF8.GetBytes(value, span[1..]);
    }

    /// <summary>A long string from bytes.</summary>
    public void WriteLongString(ReadOnlySpan<byte> value)
    {
        WriteLong((uint)value.Length);
        WriteBytes(value);
    }

    /// <summary>A long string from UTF-8 text.</summary>
    public void WriteLongString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var count = Encoding.UTF8.GetByteCount(value);
        WriteLong((uint)count);
        Encoding.UTF8.GetBytes(value, Grab(count));
    }

    /// <summary>A field table; null writes an empty one.</summary>
    public void WriteTable(IReadOnlyDictionary<string, object?>? table)
    {
        var start = Length;
        WriteLong(0);
        if (table is not null)
            foreach (var (name, value) in table)
            {
                WriteShortString(name);
                WriteFieldValue(value);
            }
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(start, 4), (uint)(Length - start - 4));
    }

    /// <summary>A field array.</summary>
    public void WriteArray(IEnumerable<object?> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var start = Length;
        WriteLong(0);
        foreach (var value in values) WriteFieldValue(value);
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(start, 4), (uint)(Length - start - 4));
    }

    /// <summary>One tagged field value, its tag chosen by the CLR type (string → S, int → I, long → l, …).</summary>
    /// <exception cref="ArgumentException">The type has no field type.</exception>
    public void WriteFieldValue(object? value)
    {
        switch (value)
        {
            case null: WriteOctet((byte)'V'); break;
            case bool b: WriteOctet((byte)'t'); WriteOctet(b ? (byte)1 : (byte)0); break;
            case sbyte sb: WriteOctet((byte)'b'); WriteOctet(unchecked((byte)sb)); break;
            case byte ub: WriteOctet((byte)'B'); WriteOctet(ub); break;
            case short s: WriteOctet((byte)'s'); WriteShort(unchecked((ushort)s)); break;
            case ushort us: WriteOctet((byte)'u'); WriteShort(us); break;
            case int i: WriteOctet((byte)'I'); WriteLong(unchecked((uint)i)); break;
            case uint ui: WriteOctet((byte)'i'); WriteLong(ui); break;
            case long l: WriteOctet((byte)'l'); WriteLongLong(unchecked((ulong)l)); break;
            case float f: WriteOctet((byte)'f'); BinaryPrimitives.WriteSingleBigEndian(Grab(4), f); break;
            case double d: WriteOctet((byte)'d'); BinaryPrimitives.WriteDoubleBigEndian(Grab(8), d); break;
            case AmqpDecimal m: WriteOctet((byte)'D'); WriteOctet(m.Scale); WriteLong(unchecked((uint)m.Value)); break;
            case string text: WriteOctet((byte)'S'); WriteLongString(text); break;
            case byte[] bytes: WriteOctet((byte)'x'); WriteLongString(bytes); break;
            case AmqpTimestamp t: WriteOctet((byte)'T'); WriteLongLong(t.UnixSeconds); break;
            case IReadOnlyDictionary<string, object?> table: WriteOctet((byte)'F'); WriteTable(table); break;
            case IEnumerable<object?> array: WriteOctet((byte)'A'); WriteArray(array); break;
            default: throw new ArgumentException($"No AMQP field type for {value.GetType()}.", nameof(value));
        }
    }

    /// <summary>Starts a frame: type, channel and a size filled in by <see cref="EndFrame"/>. Returns the frame's start.</summary>
    public int BeginFrame(FrameType type, ushort channel)
    {
        var start = Length;
        WriteOctet((byte)type);
        WriteShort(channel);
        WriteLong(0);
        return start;
    }

    /// <summary>Ends the frame begun at <paramref name="start"/>: fills in its payload size and writes the frame end (0xCE).</summary>
    public void EndFrame(int start)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(start + 3, 4), (uint)(Length - start - Frame.HeaderSize));
        WriteOctet(Frame.End);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_buffer.Length == 0) return;
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        Length = 0;
    }
}

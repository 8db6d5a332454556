using System.Buffers;
using System.Buffers.Binary;

namespace Actors.Amqp.Codec;

/// <summary>The frame types of AMQP 0-9-1.</summary>
public enum FrameType : byte
{
    /// <summary>A method (class id, method id, arguments).</summary>
    Method = 1,
    /// <summary>A content header (class id, weight, body size, properties).</summary>
    Header = 2,
    /// <summary>A piece of a content body.</summary>
    Body = 3,
    /// <summary>A heartbeat (channel 0, empty payload).</summary>
    Heartbeat = 8,
}

/// <summary>One frame read from the wire: its type, channel and payload (a slice of the input, valid until the input advances).</summary>
/// <param name="Type">The frame type.</param>
/// <param name="Channel">The channel number.</param>
/// <param name="Payload">The payload, without the envelope and the frame end.</param>
public readonly record struct Frame(FrameType Type, ushort Channel, ReadOnlySequence<byte> Payload)
{
    /// <summary>Bytes before the payload: type (1), channel (2), size (4).</summary>
    public const int HeaderSize = 7;

    /// <summary>Bytes of envelope per frame: header and frame end.</summary>
    public const int Overhead = HeaderSize + 1;

    /// <summary>The octet that ends every frame.</summary>
    public const byte End = 0xCE;

    /// <summary>The protocol header a client sends first, and the server answers a wrong one with: <c>AMQP\0\0\9\1</c>.</summary>
    public static ReadOnlySpan<byte> ProtocolHeader => "AMQP\0\0\u0009\u0001"u8;

    /// <summary>
    /// Reads one frame from the front of <paramref name="buffer"/> when it is complete, and slices it off. False (buffer
    /// unchanged) when more bytes are needed.
    /// </summary>
    /// <param name="buffer">The bytes received so far.</param>
    /// <param name="frameMax">The negotiated largest frame, envelope included; 0 for no limit.</param>
    /// <param name="frame">The frame.</param>
    /// <exception cref="AmqpFrameException">The frame is larger than <paramref name="frameMax"/>, has an unknown type or no frame end.</exception>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, uint frameMax, out Frame frame)
    {
        frame = default;
        if (buffer.Length < HeaderSize) return false;
        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        var type = header[0];
        var channel = BinaryPrimitives.ReadUInt16BigEndian(header[1..]);
        var size = BinaryPrimitives.ReadUInt32BigEndian(header[3..]);
        if (type is not (1 or 2 or 3 or 8)) throw new AmqpFrameException($"Unknown frame type {type}.");
        if (frameMax > 0 && (ulong)size + Overhead > frameMax)
            throw new AmqpFrameException($"A frame of {size + Overhead} bytes is larger than the negotiated frame-max of {frameMax}.");
        if (buffer.Length < HeaderSize + size + 1L) return false;
        var end = buffer.Slice(HeaderSize + size, 1).FirstSpan[0];
        if (end != End) throw new AmqpFrameException($"The frame does not end with 0xCE (got 0x{end:x2}).");
        frame = new Frame((FrameType)type, channel, buffer.Slice(HeaderSize, size));
        buffer = buffer.Slice(HeaderSize + size + 1);
        return true;
    }
}

/// <summary>A frame breaks the framing rules (reply code 501 FRAME_ERROR).</summary>
public sealed class AmqpFrameException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AmqpFrameException() { }

    /// <summary>Creates the exception with its message.</summary>
    public AmqpFrameException(string message) : base(message) { }

    /// <summary>Creates the exception with its message and cause.</summary>
    public AmqpFrameException(string message, Exception innerException) : base(message, innerException) { }
}

using System.Buffers;
using Actors.Amqp;
using Actors.Amqp.Codec;
using static Actors.Amqp.Codec.AmqpMethod;

namespace Actors.Amqp.Tests;

public sealed class CodecTests
{
    private static byte[] Encode(IAmqpMethod method)
    {
        using var writer = new AmqpWriter();
        AmqpMethod.Write(writer, method);
        return writer.WrittenSpan.ToArray();
    }

    private static byte[] Frame(FrameType type, ushort channel, Action<AmqpWriter> payload)
    {
        using var writer = new AmqpWriter();
        var start = writer.BeginFrame(type, channel);
        payload(writer);
        writer.EndFrame(start);
        return writer.WrittenSpan.ToArray();
    }

    private static readonly Dictionary<string, object?> EveryFieldType = new()
    {
        ["t"] = true,
        ["b"] = (sbyte)-5,
        ["B"] = (byte)250,
        ["s"] = (short)-300,
        ["u"] = (ushort)65000,
        ["I"] = -70000,
        ["i"] = 4_000_000_000u,
        ["l"] = -5_000_000_000L,
        ["f"] = 1.5f,
        ["d"] = -2.25,
        ["D"] = new AmqpDecimal(2, -12345),
        ["S"] = "héllo",
        ["x"] = new byte[] { 0, 1, 2, 255 },
        ["A"] = new List<object?> { 1, "two", null, new List<object?> { true } },
        ["V"] = null,
        ["T"] = new AmqpTimestamp(1_700_000_000),
        ["F"] = new Dictionary<string, object?> { ["nested"] = "yes", ["n"] = 7L },
    };

    public static TheoryData<IAmqpMethod> Methods() => new()
    {
        new Connection.Start(0, 9, EveryFieldType, "PLAIN AMQPLAIN", "en_US"),
        new Connection.StartOk(new Dictionary<string, object?> { ["product"] = "test" }, "PLAIN", "\0guest\0guest"u8.ToArray(), "en_US"),
        new Connection.Secure([1, 2]),
        new Connection.SecureOk([3]),
        new Connection.Tune(2047, 131072, 60),
        new Connection.TuneOk(100, 4096, 0),
        new Connection.Open("/", "", true),
        new Connection.OpenOk(""),
        new Connection.Close(403, "ACCESS_REFUSED - no", 10, 11),
        Connection.CloseOk.Instance,
        new Connection.Blocked("queue full"),
        Connection.Unblocked.Instance,
        new AmqpMethod.Channel.Open(),
        new AmqpMethod.Channel.OpenOk(),
        new AmqpMethod.Channel.Flow(false),
        new AmqpMethod.Channel.FlowOk(true),
        new AmqpMethod.Channel.Close(404, "NOT_FOUND", 60, 40),
        AmqpMethod.Channel.CloseOk.Instance,
        new Exchange.Declare(0, "logs", "fanout", false, true, false, true, false, new Dictionary<string, object?> { ["x"] = 1 }),
        Exchange.DeclareOk.Instance,
        new Exchange.Delete(0, "logs", true, false),
        Exchange.DeleteOk.Instance,
        new Queue.Declare(0, "orders", false, true, false, true, false, null),
        new Queue.DeclareOk("orders", 12, 3),
        new Queue.Bind(0, "orders", "logs", "rk", true, null),
        Queue.BindOk.Instance,
        new Queue.Purge(0, "orders", false),
        new Queue.PurgeOk(9),
        new Queue.Delete(0, "orders", true, false, true),
        new Queue.DeleteOk(4),
        new Queue.Unbind(0, "orders", "logs", "rk", null),
        Queue.UnbindOk.Instance,
        new Basic.Qos(0, 10, true),
        Basic.QosOk.Instance,
        new Basic.Consume(0, "orders", "ctag", false, true, true, false, null),
        new Basic.ConsumeOk("ctag"),
        new Basic.Cancel("ctag", true),
        new Basic.CancelOk("ctag"),
        new Basic.Publish(0, "", "orders", true, false),
        new Basic.Return(312, "NO_ROUTE", "", "missing"),
        new Basic.Deliver("ctag", ulong.MaxValue, true, "ex", "rk"),
        new Basic.Get(0, "orders", true),
        new Basic.GetOk(7, false, "", "orders", 100),
        new Basic.GetEmpty(),
        new Basic.Ack(42, true),
        new Basic.Reject(43, false),
        new Basic.RecoverAsync(true),
        new Basic.Recover(false),
        Basic.RecoverOk.Instance,
        new Basic.Nack(44, true, true),
        new Confirm.Select(false),
        Confirm.SelectOk.Instance,
        new Tx.Select(),
        new Tx.Commit(),
    };

    [Theory]
    [MemberData(nameof(Methods))]
    public void Every_method_round_trips(IAmqpMethod method)
    {
        var bytes = Encode(method);
        var read = AmqpMethod.Read(bytes);
        Assert.Equal(method.GetType(), read.GetType());
        Assert.Equal(bytes, Encode(read));
    }

    [Fact]
    public void Field_table_of_every_type_round_trips_with_its_values()
    {
        using var writer = new AmqpWriter();
        writer.WriteTable(EveryFieldType);
        var reader = new AmqpReader(writer.WrittenSpan);
        var table = reader.ReadTable();
        Assert.Equal(0, reader.Remaining);
        Assert.Equal(EveryFieldType.Keys, table.Keys);
        Assert.Equal(true, table["t"]);
        Assert.Equal((sbyte)-5, table["b"]);
        Assert.Equal((byte)250, table["B"]);
        Assert.Equal((short)-300, table["s"]);
        Assert.Equal((ushort)65000, table["u"]);
        Assert.Equal(-70000, table["I"]);
        Assert.Equal(4_000_000_000u, table["i"]);
        Assert.Equal(-5_000_000_000L, table["l"]);
        Assert.Equal(1.5f, table["f"]);
        Assert.Equal(-2.25, table["d"]);
        Assert.Equal(-123.45m, ((AmqpDecimal)table["D"]!).ToDecimal());
        Assert.Equal("héllo", table["S"]);
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, table["x"]);
        var array = Assert.IsAssignableFrom<IReadOnlyList<object?>>(table["A"]);
        Assert.Equal(4, array.Count);
        Assert.Equal("two", array[1]);
        Assert.Null(array[2]);
        Assert.Null(table["V"]);
        Assert.Equal(new DateTime(2023, 11, 14, 22, 13, 20, DateTimeKind.Utc), ((AmqpTimestamp)table["T"]!).ToDateTime());
        var nested = Assert.IsAssignableFrom<IReadOnlyDictionary<string, object?>>(table["F"]);
        Assert.Equal("yes", nested["nested"]);
    }

    [Fact]
    public void Field_table_bytes_match_the_wire_format()
    {
        using var writer = new AmqpWriter();
        writer.WriteTable(new Dictionary<string, object?> { ["a"] = 1, ["b"] = "xy" });
        // length 16 | 1 'a' 'I' 00000001 | 1 'b' 'S' 00000002 'x' 'y'
        Assert.Equal(Convert.FromHexString("00000010" + "0161" + "49" + "00000001" + "0162" + "53" + "00000002" + "7879"), writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Tune_frame_bytes_match_the_wire_format()
    {
        var frame = Frame(FrameType.Method, 0, w => AmqpMethod.Write(w, new Connection.Tune(2047, 131072, 60)));
        Assert.Equal(Convert.FromHexString("01" + "0000" + "0000000C" + "000A" + "001E" + "07FF" + "00020000" + "003C" + "CE"), frame);
    }

    [Fact]
    public void Heartbeat_frame_is_eight_bytes()
    {
        Assert.Equal(Convert.FromHexString("08" + "0000" + "00000000" + "CE"), Frame(FrameType.Heartbeat, 0, _ => { }));
    }

    [Fact]
    public void Consecutive_bits_share_one_octet_least_significant_first()
    {
        var bytes = Encode(new Queue.Declare(0, "q", Passive: false, Durable: true, Exclusive: false, AutoDelete: true, NoWait: false, null));
        // class 50, method 10, ticket 0, "q", bits 0b01010, empty table
        Assert.Equal(Convert.FromHexString("0032" + "000A" + "0000" + "0171" + "0A" + "00000000"), bytes);
    }

    [Fact]
    public void Basic_properties_with_all_fourteen_round_trip()
    {
        var properties = new BasicProperties
        {
            ContentType = "application/json", ContentEncoding = "gzip", Headers = new Dictionary<string, object?> { ["k"] = "v" },
            DeliveryMode = 2, Priority = 5, CorrelationId = "c", ReplyTo = "r", Expiration = "60000", MessageId = "m",
            Timestamp = 1_700_000_000, Type = "order", UserId = "u", AppId = "a", ClusterId = "x",
        };
        Assert.Equal(0xFFFC, properties.Flags);
        using var writer = new AmqpWriter();
        new ContentHeader(60, 1234, properties).Write(writer);
        var read = ContentHeader.Read(writer.WrittenSpan);
        Assert.Equal(1234UL, read.BodySize);
        Assert.Equal(properties with { Headers = null }, read.Properties with { Headers = null });
        Assert.Equal("v", read.Properties.Headers!["k"]);
    }

    [Fact]
    public void Content_header_without_properties_has_zero_flags()
    {
        using var writer = new AmqpWriter();
        new ContentHeader(60, 0, BasicProperties.Empty).Write(writer);
        Assert.Equal(Convert.FromHexString("003C" + "0000" + "0000000000000000" + "0000"), writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Frame_reader_waits_for_the_whole_frame_and_reads_across_segments()
    {
        var frame = Frame(FrameType.Body, 3, w => w.WriteBytes(new byte[100]));
        var partial = new ReadOnlySequence<byte>(frame.AsMemory(0, frame.Length - 1));
        Assert.False(Codec.Frame.TryRead(ref partial, 4096, out _));
        var buffer = Segments(frame, 5);
        Assert.True(Codec.Frame.TryRead(ref buffer, 4096, out var read));
        Assert.Equal(FrameType.Body, read.Type);
        Assert.Equal(3, read.Channel);
        Assert.Equal(100, read.Payload.Length);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Frame_reader_refuses_a_frame_larger_than_frame_max_and_a_wrong_frame_end()
    {
        var big = Frame(FrameType.Body, 1, w => w.WriteBytes(new byte[5000]));
        var buffer = new ReadOnlySequence<byte>(big);
        Assert.Throws<AmqpFrameException>(() => Codec.Frame.TryRead(ref buffer, 4096, out _));
        var bad = Frame(FrameType.Body, 1, w => w.WriteBytes(new byte[4]));
        bad[^1] = 0;
        buffer = new ReadOnlySequence<byte>(bad);
        Assert.Throws<AmqpFrameException>(() => Codec.Frame.TryRead(ref buffer, 4096, out _));
    }

    [Fact]
    public void Short_strings_are_limited_to_255_bytes_and_unknown_field_types_refused()
    {
        using var writer = new AmqpWriter();
        Assert.Throws<ArgumentException>(() => writer.WriteShortString(new string('é', 128)));
        writer.WriteShortString(new string('a', 255));
        Assert.Throws<AmqpSyntaxException>(() => new AmqpReader(Convert.FromHexString("00000003" + "0161" + "5A")).ReadTable());
        Assert.Throws<AmqpUnknownMethodException>(() => AmqpMethod.Read(Convert.FromHexString("00FF0001")));
        Assert.Throws<AmqpSyntaxException>(() => AmqpMethod.Read(Convert.FromHexString("003C0028")));
    }

    [Fact]
    public void Plain_and_amqplain_responses_give_user_and_password()
    {
        Assert.Equal(("bob", "secret"), AmqpAuthenticator.ParseResponse("PLAIN", "\0bob\0secret"u8));
        using var writer = new AmqpWriter();
        writer.WriteShortString("LOGIN");
        writer.WriteFieldValue("bob");
        writer.WriteShortString("PASSWORD");
        writer.WriteFieldValue("secret");
        Assert.Equal(("bob", "secret"), AmqpAuthenticator.ParseResponse("AMQPLAIN", writer.WrittenSpan));
        Assert.Null(AmqpAuthenticator.ParseResponse("EXTERNAL", "x"u8));
        Assert.Null(AmqpAuthenticator.ParseResponse("PLAIN", "nonsense"u8));
    }

    private static ReadOnlySequence<byte> Segments(byte[] bytes, int size)
    {
        Segment? first = null, last = null;
        for (var i = 0; i < bytes.Length; i += size)
        {
            var memory = bytes.AsMemory(i, Math.Min(size, bytes.Length - i));
            if (first is null) first = last = new Segment(memory, 0);
            else last = last!.Append(memory);
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long index)
        {
            Memory = memory;
            RunningIndex = index;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}

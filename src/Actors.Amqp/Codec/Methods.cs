using System.Diagnostics.CodeAnalysis;

namespace Actors.Amqp.Codec;

/// <summary>
/// An AMQP 0-9-1 method: its class and method ids and its arguments. Every method of the classes the server speaks
/// (connection, channel, exchange, queue, basic, confirm, tx) is a record here that writes and reads its own arguments;
/// <see cref="AmqpMethod.Read"/> decodes a method frame's payload into one.
/// </summary>
public interface IAmqpMethod
{
    /// <summary>The class id (connection 10, channel 20, exchange 40, queue 50, basic 60, confirm 85, tx 90).</summary>
    ushort ClassId { get; }

    /// <summary>The method id within the class.</summary>
    ushort MethodId { get; }

    /// <summary>Writes the arguments (not the ids).</summary>
    void WriteArguments(AmqpWriter writer);
}

/// <summary>Ids and decoding of methods.</summary>
[SuppressMessage("Design", "CA1034", Justification = "Nested records group the methods by class, as the specification does.")]
public static partial class AmqpMethod
{
    /// <summary>Writes a method frame's payload: class id, method id, arguments.</summary>
    public static void Write(AmqpWriter writer, IAmqpMethod method)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(method);
        writer.WriteShort(method.ClassId);
        writer.WriteShort(method.MethodId);
        method.WriteArguments(writer);
    }

    /// <summary>Decodes a method frame's payload.</summary>
    /// <exception cref="AmqpUnknownMethodException">The class or method is not one this server knows (540 NOT_IMPLEMENTED, or 503 COMMAND_INVALID).</exception>
    /// <exception cref="AmqpSyntaxException">The arguments are truncated or malformed.</exception>
    public static IAmqpMethod Read(ReadOnlySpan<byte> payload)
    {
        var r = new AmqpReader(payload);
        var classId = r.ReadShort();
        var methodId = r.ReadShort();
        return (classId, methodId) switch
        {
            (10, 10) => new Connection.Start(r.ReadOctet(), r.ReadOctet(), r.ReadTable(), r.ReadLongString(), r.ReadLongString()),
            (10, 11) => new Connection.StartOk(r.ReadTable(), r.ReadShortString(), r.ReadLongStringBytes().ToArray(), r.ReadShortString()),
            (10, 20) => new Connection.Secure(r.ReadLongStringBytes().ToArray()),
            (10, 21) => new Connection.SecureOk(r.ReadLongStringBytes().ToArray()),
            (10, 30) => new Connection.Tune(r.ReadShort(), r.ReadLong(), r.ReadShort()),
            (10, 31) => new Connection.TuneOk(r.ReadShort(), r.ReadLong(), r.ReadShort()),
            (10, 40) => new Connection.Open(r.ReadShortString(), r.ReadShortString(), r.ReadBit()),
            (10, 41) => new Connection.OpenOk(r.ReadShortString()),
            (10, 50) => new Connection.Close(r.ReadShort(), r.ReadShortString(), r.ReadShort(), r.ReadShort()),
            (10, 51) => Connection.CloseOk.Instance,
            (10, 60) => new Connection.Blocked(r.ReadShortString()),
            (10, 61) => Connection.Unblocked.Instance,
            (20, 10) => new Channel.Open(r.ReadShortString()),
            (20, 11) => new Channel.OpenOk(r.ReadLongString()),
            (20, 20) => new Channel.Flow(r.ReadBit()),
            (20, 21) => new Channel.FlowOk(r.ReadBit()),
            (20, 40) => new Channel.Close(r.ReadShort(), r.ReadShortString(), r.ReadShort(), r.ReadShort()),
            (20, 41) => Channel.CloseOk.Instance,
            (40, 10) => ReadExchangeDeclare(ref r),
            (40, 11) => Exchange.DeclareOk.Instance,
            (40, 20) => new Exchange.Delete(r.ReadShort(), r.ReadShortString(), r.ReadBit(), r.ReadBit()),
            (40, 21) => Exchange.DeleteOk.Instance,
            (50, 10) => ReadQueueDeclare(ref r),
            (50, 11) => new Queue.DeclareOk(r.ReadShortString(), r.ReadLong(), r.ReadLong()),
            (50, 20) => new Queue.Bind(r.ReadShort(), r.ReadShortString(), r.ReadShortString(), r.ReadShortString(), r.ReadBit(), r.ReadTable()),
            (50, 21) => Queue.BindOk.Instance,
            (50, 30) => new Queue.Purge(r.ReadShort(), r.ReadShortString(), r.ReadBit()),
            (50, 31) => new Queue.PurgeOk(r.ReadLong()),
            (50, 40) => new Queue.Delete(r.ReadShort(), r.ReadShortString(), r.ReadBit(), r.ReadBit(), r.ReadBit()),
            (50, 41) => new Queue.DeleteOk(r.ReadLong()),
            (50, 50) => new Queue.Unbind(r.ReadShort(), r.ReadShortString(), r.ReadShortString(), r.ReadShortString(), r.ReadTable()),
            (50, 51) => Queue.UnbindOk.Instance,
            (60, 10) => new Basic.Qos(r.ReadLong(), r.ReadShort(), r.ReadBit()),
            (60, 11) => Basic.QosOk.Instance,
            (60, 20) => ReadConsume(ref r),
            (60, 21) => new Basic.ConsumeOk(r.ReadShortString()),
            (60, 30) => new Basic.Cancel(r.ReadShortString(), r.ReadBit()),
            (60, 31) => new Basic.CancelOk(r.ReadShortString()),
            (60, 40) => new Basic.Publish(r.ReadShort(), r.ReadShortString(), r.ReadShortString(), r.ReadBit(), r.ReadBit()),
            (60, 50) => new Basic.Return(r.ReadShort(), r.ReadShortString(), r.ReadShortString(), r.ReadShortString()),
            (60, 60) => new Basic.Deliver(r.ReadShortString(), r.ReadLongLong(), r.ReadBit(), r.ReadShortString(), r.ReadShortString()),
            (60, 70) => new Basic.Get(r.ReadShort(), r.ReadShortString(), r.ReadBit()),
            (60, 71) => new Basic.GetOk(r.ReadLongLong(), r.ReadBit(), r.ReadShortString(), r.ReadShortString(), r.ReadLong()),
            (60, 72) => new Basic.GetEmpty(r.ReadShortString()),
            (60, 80) => new Basic.Ack(r.ReadLongLong(), r.ReadBit()),
            (60, 90) => new Basic.Reject(r.ReadLongLong(), r.ReadBit()),
            (60, 100) => new Basic.RecoverAsync(r.ReadBit()),
            (60, 110) => new Basic.Recover(r.ReadBit()),
            (60, 111) => Basic.RecoverOk.Instance,
            (60, 120) => new Basic.Nack(r.ReadLongLong(), r.ReadBit(), r.ReadBit()),
            (85, 10) => new Confirm.Select(r.ReadBit()),
            (85, 11) => Confirm.SelectOk.Instance,
            (90, 10) => new Tx.Select(),
            (90, 11) => new Tx.SelectOk(),
            (90, 20) => new Tx.Commit(),
            (90, 21) => new Tx.CommitOk(),
            (90, 30) => new Tx.Rollback(),
            (90, 31) => new Tx.RollbackOk(),
            _ => throw new AmqpUnknownMethodException(classId, methodId),
        };
    }

    private static Exchange.Declare ReadExchangeDeclare(ref AmqpReader r)
    {
        var ticket = r.ReadShort();
        var name = r.ReadShortString();
        var type = r.ReadShortString();
        var passive = r.ReadBit();
        var durable = r.ReadBit();
        var autoDelete = r.ReadBit();
        var @internal = r.ReadBit();
        var noWait = r.ReadBit();
        return new Exchange.Declare(ticket, name, type, passive, durable, autoDelete, @internal, noWait, r.ReadTable());
    }

    private static Queue.Declare ReadQueueDeclare(ref AmqpReader r)
    {
        var ticket = r.ReadShort();
        var name = r.ReadShortString();
        var passive = r.ReadBit();
        var durable = r.ReadBit();
        var exclusive = r.ReadBit();
        var autoDelete = r.ReadBit();
        var noWait = r.ReadBit();
        return new Queue.Declare(ticket, name, passive, durable, exclusive, autoDelete, noWait, r.ReadTable());
    }

    private static Basic.Consume ReadConsume(ref AmqpReader r)
    {
        var ticket = r.ReadShort();
        var queue = r.ReadShortString();
        var tag = r.ReadShortString();
        var noLocal = r.ReadBit();
        var noAck = r.ReadBit();
        var exclusive = r.ReadBit();
        var noWait = r.ReadBit();
        return new Basic.Consume(ticket, queue, tag, noLocal, noAck, exclusive, noWait, r.ReadTable());
    }

    /// <summary>The confirm class (85): publisher confirms.</summary>
    public static class Confirm
    {
        /// <summary>confirm.select.</summary>
        public sealed record Select(bool NoWait) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 85;
            /// <inheritdoc />
            public ushort MethodId => 10;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteBit(NoWait); }
        }

        /// <summary>confirm.select-ok.</summary>
        public sealed class SelectOk : IAmqpMethod
        {
            private SelectOk() { }
            /// <summary>The one instance.</summary>
            public static SelectOk Instance { get; } = new();
            /// <inheritdoc />
            public ushort ClassId => 85;
            /// <inheritdoc />
            public ushort MethodId => 11;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { }
        }
    }

    /// <summary>The tx class (90): decoded so the server can refuse it with 540 NOT_IMPLEMENTED.</summary>
    public static class Tx
    {
        /// <summary>Any tx method (no arguments).</summary>
        public abstract record TxMethod(ushort Id) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 90;
            /// <inheritdoc />
            public ushort MethodId => Id;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { }
        }

        /// <summary>tx.select.</summary>
        public sealed record Select() : TxMethod(10);
        /// <summary>tx.select-ok.</summary>
        public sealed record SelectOk() : TxMethod(11);
        /// <summary>tx.commit.</summary>
        public sealed record Commit() : TxMethod(20);
        /// <summary>tx.commit-ok.</summary>
        public sealed record CommitOk() : TxMethod(21);
        /// <summary>tx.rollback.</summary>
        public sealed record Rollback() : TxMethod(30);
        /// <summary>tx.rollback-ok.</summary>
        public sealed record RollbackOk() : TxMethod(31);
    }
}

/// <summary>A method frame names a class or method the server does not know (540 NOT_IMPLEMENTED).</summary>
public sealed class AmqpUnknownMethodException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AmqpUnknownMethodException() { }

    /// <summary>Creates the exception with its message.</summary>
    public AmqpUnknownMethodException(string message) : base(message) { }

    /// <summary>Creates the exception with its message and cause.</summary>
    public AmqpUnknownMethodException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for a class and method id.</summary>
    public AmqpUnknownMethodException(ushort classId, ushort methodId) : base($"Unknown method {classId}.{methodId}.")
    {
        ClassId = classId;
        MethodId = methodId;
    }

    /// <summary>The class id.</summary>
    public ushort ClassId { get; }

    /// <summary>The method id.</summary>
    public ushort MethodId { get; }
}

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
public static class AmqpMethod
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

    /// <summary>The connection class (10).</summary>
    public static class Connection
    {
        /// <summary>connection.start: the server's version, properties, mechanisms and locales.</summary>
        public sealed record Start(byte VersionMajor, byte VersionMinor, IReadOnlyDictionary<string, object?> ServerProperties, string Mechanisms, string Locales) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 10;
            /// <inheritdoc />
            public ushort MethodId => 10;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer)
            {
                ArgumentNullException.ThrowIfNull(writer);
                writer.WriteOctet(VersionMajor); writer.WriteOctet(VersionMinor); writer.WriteTable(ServerProperties);
                writer.WriteLongString(Mechanisms); writer.WriteLongString(Locales);
            }
        }

        /// <summary>connection.start-ok: the client's properties, chosen mechanism, its response and locale.</summary>
        public sealed record StartOk(IReadOnlyDictionary<string, object?> ClientProperties, string Mechanism, byte[] Response, string Locale) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 10;
            /// <inheritdoc />
            public ushort MethodId => 11;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer)
            {
                ArgumentNullException.ThrowIfNull(writer);
                writer.WriteTable(ClientProperties); writer.WriteShortString(Mechanism); writer.WriteLongString(Response); writer.WriteShortString(Locale);
            }
        }

        /// <summary>connection.secure: a further challenge (not used by PLAIN or AMQPLAIN).</summary>
        public sealed record Secure(byte[] Challenge) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 10;
            /// <inheritdoc />
            public ushort MethodId => 20;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteLongString(Challenge); }
        }

        /// <summary>connection.secure-ok.</summary>
        public sealed record SecureOk(byte[] Response) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 10;
            /// <inheritdoc />
            public ushort MethodId => 21;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteLongString(Response); }
        }

        /// <summary>connection.tune: the server's limits (0 means none).</summary>
        public sealed record Tune(ushort ChannelMax, uint FrameMax, ushort Heartbeat) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 10;
            /// <inheritdoc />
            public ushort MethodId => 30;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteShort(ChannelMax); writer.WriteLong(FrameMax); writer.WriteShort(Heartbeat); }
        }

        /// <summary>connection.tune-ok: the values the client chose.</summary>
        public sealed record TuneOk(ushort ChannelMax, uint FrameMax, ushort Heartbeat) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 10;
            /// <inheritdoc />
            public ushort MethodId => 31;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteShort(ChannelMax); writer.WriteLong(FrameMax); writer.WriteShort(Heartbeat); }
        }

        /// <summary>connection.open: the virtual host.</summary>
        public sealed record Open(string VirtualHost, string Capabilities = "", bool Insist = false) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 10;
            /// <inheritdoc />
            public ushort MethodId => 40;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteShortString(VirtualHost); writer.WriteShortString(Capabilities); writer.WriteBit(Insist); }
        }

        /// <summary>connection.open-ok.</summary>
        public sealed record OpenOk(string KnownHosts = "") : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 10;
            /// <inheritdoc />
            public ushort MethodId => 41;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteShortString(KnownHosts); }
        }

        /// <summary>connection.close: why, and which method caused it (0, 0 when none).</summary>
        public sealed record Close(ushort ReplyCode, string ReplyText, ushort FailingClassId, ushort FailingMethodId) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 10;
            /// <inheritdoc />
            public ushort MethodId => 50;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer)
            {
                ArgumentNullException.ThrowIfNull(writer);
                writer.WriteShort(ReplyCode); writer.WriteShortString(ReplyText); writer.WriteShort(FailingClassId); writer.WriteShort(FailingMethodId);
            }
        }

        /// <summary>connection.close-ok.</summary>
        public sealed class CloseOk : IAmqpMethod
        {
            private CloseOk() { }
            /// <summary>The one instance.</summary>
            public static CloseOk Instance { get; } = new();
            /// <inheritdoc />
            public ushort ClassId => 10;
            /// <inheritdoc />
            public ushort MethodId => 51;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { }
        }

        /// <summary>connection.blocked: the server stops reading publishes until unblocked.</summary>
        public sealed record Blocked(string Reason) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 10;
            /// <inheritdoc />
            public ushort MethodId => 60;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteShortString(Reason); }
        }

        /// <summary>connection.unblocked.</summary>
        public sealed class Unblocked : IAmqpMethod
        {
            private Unblocked() { }
            /// <summary>The one instance.</summary>
            public static Unblocked Instance { get; } = new();
            /// <inheritdoc />
            public ushort ClassId => 10;
            /// <inheritdoc />
            public ushort MethodId => 61;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { }
        }
    }

    /// <summary>The channel class (20).</summary>
    public static class Channel
    {
        /// <summary>channel.open.</summary>
        public sealed record Open(string Reserved = "") : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 20;
            /// <inheritdoc />
            public ushort MethodId => 10;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteShortString(Reserved); }
        }

        /// <summary>channel.open-ok.</summary>
        public sealed record OpenOk(string Reserved = "") : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 20;
            /// <inheritdoc />
            public ushort MethodId => 11;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteLongString(Reserved); }
        }

        /// <summary>channel.flow: stop or resume sending content.</summary>
        public sealed record Flow(bool Active) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 20;
            /// <inheritdoc />
            public ushort MethodId => 20;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteBit(Active); }
        }

        /// <summary>channel.flow-ok.</summary>
        public sealed record FlowOk(bool Active) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 20;
            /// <inheritdoc />
            public ushort MethodId => 21;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteBit(Active); }
        }

        /// <summary>channel.close.</summary>
        public sealed record Close(ushort ReplyCode, string ReplyText, ushort FailingClassId, ushort FailingMethodId) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 20;
            /// <inheritdoc />
            public ushort MethodId => 40;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer)
            {
                ArgumentNullException.ThrowIfNull(writer);
                writer.WriteShort(ReplyCode); writer.WriteShortString(ReplyText); writer.WriteShort(FailingClassId); writer.WriteShort(FailingMethodId);
            }
        }

        /// <summary>channel.close-ok.</summary>
        public sealed class CloseOk : IAmqpMethod
        {
            private CloseOk() { }
            /// <summary>The one instance.</summary>
            public static CloseOk Instance { get; } = new();
            /// <inheritdoc />
            public ushort ClassId => 20;
            /// <inheritdoc />
            public ushort MethodId => 41;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { }
        }
    }

    /// <summary>The exchange class (40).</summary>
    public static class Exchange
    {
        /// <summary>exchange.declare.</summary>
        public sealed record Declare(ushort Ticket, string Exchange, string Type, bool Passive, bool Durable, bool AutoDelete, bool Internal, bool NoWait, IReadOnlyDictionary<string, object?>? Arguments) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 40;
            /// <inheritdoc />
            public ushort MethodId => 10;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer)
            {
                ArgumentNullException.ThrowIfNull(writer);
                writer.WriteShort(Ticket); writer.WriteShortString(Exchange); writer.WriteShortString(Type);
                writer.WriteBit(Passive); writer.WriteBit(Durable); writer.WriteBit(AutoDelete); writer.WriteBit(Internal); writer.WriteBit(NoWait);
                writer.WriteTable(Arguments);
            }
        }

        /// <summary>exchange.declare-ok.</summary>
        public sealed class DeclareOk : IAmqpMethod
        {
            private DeclareOk() { }
            /// <summary>The one instance.</summary>
            public static DeclareOk Instance { get; } = new();
            /// <inheritdoc />
            public ushort ClassId => 40;
            /// <inheritdoc />
            public ushort MethodId => 11;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { }
        }

        /// <summary>exchange.delete.</summary>
        public sealed record Delete(ushort Ticket, string Exchange, bool IfUnused, bool NoWait) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 40;
            /// <inheritdoc />
            public ushort MethodId => 20;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer)
            {
                ArgumentNullException.ThrowIfNull(writer);
                writer.WriteShort(Ticket); writer.WriteShortString(Exchange); writer.WriteBit(IfUnused); writer.WriteBit(NoWait);
            }
        }

        /// <summary>exchange.delete-ok.</summary>
        public sealed class DeleteOk : IAmqpMethod
        {
            private DeleteOk() { }
            /// <summary>The one instance.</summary>
            public static DeleteOk Instance { get; } = new();
            /// <inheritdoc />
            public ushort ClassId => 40;
            /// <inheritdoc />
            public ushort MethodId => 21;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { }
        }
    }

    /// <summary>The queue class (50).</summary>
    [SuppressMessage("Naming", "CA1711", Justification = "The specification's class name.")]
    public static class Queue
    {
        /// <summary>queue.declare.</summary>
        public sealed record Declare(ushort Ticket, string Queue, bool Passive, bool Durable, bool Exclusive, bool AutoDelete, bool NoWait, IReadOnlyDictionary<string, object?>? Arguments) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 50;
            /// <inheritdoc />
            public ushort MethodId => 10;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer)
            {
                ArgumentNullException.ThrowIfNull(writer);
                writer.WriteShort(Ticket); writer.WriteShortString(Queue);
                writer.WriteBit(Passive); writer.WriteBit(Durable); writer.WriteBit(Exclusive); writer.WriteBit(AutoDelete); writer.WriteBit(NoWait);
                writer.WriteTable(Arguments);
            }
        }

        /// <summary>queue.declare-ok: the queue's name and its ready message and consumer counts.</summary>
        public sealed record DeclareOk(string Queue, uint MessageCount, uint ConsumerCount) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 50;
            /// <inheritdoc />
            public ushort MethodId => 11;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteShortString(Queue); writer.WriteLong(MessageCount); writer.WriteLong(ConsumerCount); }
        }

        /// <summary>queue.bind.</summary>
        public sealed record Bind(ushort Ticket, string Queue, string Exchange, string RoutingKey, bool NoWait, IReadOnlyDictionary<string, object?>? Arguments) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 50;
            /// <inheritdoc />
            public ushort MethodId => 20;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer)
            {
                ArgumentNullException.ThrowIfNull(writer);
                writer.WriteShort(Ticket); writer.WriteShortString(Queue); writer.WriteShortString(Exchange); writer.WriteShortString(RoutingKey);
                writer.WriteBit(NoWait); writer.WriteTable(Arguments);
            }
        }

        /// <summary>queue.bind-ok.</summary>
        public sealed class BindOk : IAmqpMethod
        {
            private BindOk() { }
            /// <summary>The one instance.</summary>
            public static BindOk Instance { get; } = new();
            /// <inheritdoc />
            public ushort ClassId => 50;
            /// <inheritdoc />
            public ushort MethodId => 21;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { }
        }

        /// <summary>queue.purge.</summary>
        public sealed record Purge(ushort Ticket, string Queue, bool NoWait) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 50;
            /// <inheritdoc />
            public ushort MethodId => 30;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteShort(Ticket); writer.WriteShortString(Queue); writer.WriteBit(NoWait); }
        }

        /// <summary>queue.purge-ok.</summary>
        public sealed record PurgeOk(uint MessageCount) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 50;
            /// <inheritdoc />
            public ushort MethodId => 31;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteLong(MessageCount); }
        }

        /// <summary>queue.delete.</summary>
        public sealed record Delete(ushort Ticket, string Queue, bool IfUnused, bool IfEmpty, bool NoWait) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 50;
            /// <inheritdoc />
            public ushort MethodId => 40;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer)
            {
                ArgumentNullException.ThrowIfNull(writer);
                writer.WriteShort(Ticket); writer.WriteShortString(Queue); writer.WriteBit(IfUnused); writer.WriteBit(IfEmpty); writer.WriteBit(NoWait);
            }
        }

        /// <summary>queue.delete-ok.</summary>
        public sealed record DeleteOk(uint MessageCount) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 50;
            /// <inheritdoc />
            public ushort MethodId => 41;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteLong(MessageCount); }
        }

        /// <summary>queue.unbind.</summary>
        public sealed record Unbind(ushort Ticket, string Queue, string Exchange, string RoutingKey, IReadOnlyDictionary<string, object?>? Arguments) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 50;
            /// <inheritdoc />
            public ushort MethodId => 50;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer)
            {
                ArgumentNullException.ThrowIfNull(writer);
                writer.WriteShort(Ticket); writer.WriteShortString(Queue); writer.WriteShortString(Exchange); writer.WriteShortString(RoutingKey); writer.WriteTable(Arguments);
            }
        }

        /// <summary>queue.unbind-ok.</summary>
        public sealed class UnbindOk : IAmqpMethod
        {
            private UnbindOk() { }
            /// <summary>The one instance.</summary>
            public static UnbindOk Instance { get; } = new();
            /// <inheritdoc />
            public ushort ClassId => 50;
            /// <inheritdoc />
            public ushort MethodId => 51;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { }
        }
    }

    /// <summary>The basic class (60).</summary>
    public static class Basic
    {
        /// <summary>basic.qos.</summary>
        public sealed record Qos(uint PrefetchSize, ushort PrefetchCount, bool Global) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 60;
            /// <inheritdoc />
            public ushort MethodId => 10;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteLong(PrefetchSize); writer.WriteShort(PrefetchCount); writer.WriteBit(Global); }
        }

        /// <summary>basic.qos-ok.</summary>
        public sealed class QosOk : IAmqpMethod
        {
            private QosOk() { }
            /// <summary>The one instance.</summary>
            public static QosOk Instance { get; } = new();
            /// <inheritdoc />
            public ushort ClassId => 60;
            /// <inheritdoc />
            public ushort MethodId => 11;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { }
        }

        /// <summary>basic.consume.</summary>
        public sealed record Consume(ushort Ticket, string Queue, string ConsumerTag, bool NoLocal, bool NoAck, bool Exclusive, bool NoWait, IReadOnlyDictionary<string, object?>? Arguments) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 60;
            /// <inheritdoc />
            public ushort MethodId => 20;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer)
            {
                ArgumentNullException.ThrowIfNull(writer);
                writer.WriteShort(Ticket); writer.WriteShortString(Queue); writer.WriteShortString(ConsumerTag);
                writer.WriteBit(NoLocal); writer.WriteBit(NoAck); writer.WriteBit(Exclusive); writer.WriteBit(NoWait); writer.WriteTable(Arguments);
            }
        }

        /// <summary>basic.consume-ok.</summary>
        public sealed record ConsumeOk(string ConsumerTag) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 60;
            /// <inheritdoc />
            public ushort MethodId => 21;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteShortString(ConsumerTag); }
        }

        /// <summary>basic.cancel (either direction).</summary>
        public sealed record Cancel(string ConsumerTag, bool NoWait) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 60;
            /// <inheritdoc />
            public ushort MethodId => 30;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteShortString(ConsumerTag); writer.WriteBit(NoWait); }
        }

        /// <summary>basic.cancel-ok.</summary>
        public sealed record CancelOk(string ConsumerTag) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 60;
            /// <inheritdoc />
            public ushort MethodId => 31;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteShortString(ConsumerTag); }
        }

        /// <summary>basic.publish: a content header and body frames follow.</summary>
        public sealed record Publish(ushort Ticket, string Exchange, string RoutingKey, bool Mandatory, bool Immediate) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 60;
            /// <inheritdoc />
            public ushort MethodId => 40;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer)
            {
                ArgumentNullException.ThrowIfNull(writer);
                writer.WriteShort(Ticket); writer.WriteShortString(Exchange); writer.WriteShortString(RoutingKey); writer.WriteBit(Mandatory); writer.WriteBit(Immediate);
            }
        }

        /// <summary>basic.return: an unroutable mandatory message comes back (content follows).</summary>
        public sealed record Return(ushort ReplyCode, string ReplyText, string Exchange, string RoutingKey) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 60;
            /// <inheritdoc />
            public ushort MethodId => 50;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer)
            {
                ArgumentNullException.ThrowIfNull(writer);
                writer.WriteShort(ReplyCode); writer.WriteShortString(ReplyText); writer.WriteShortString(Exchange); writer.WriteShortString(RoutingKey);
            }
        }

        /// <summary>basic.deliver (content follows).</summary>
        public sealed record Deliver(string ConsumerTag, ulong DeliveryTag, bool Redelivered, string Exchange, string RoutingKey) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 60;
            /// <inheritdoc />
            public ushort MethodId => 60;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer)
            {
                ArgumentNullException.ThrowIfNull(writer);
                writer.WriteShortString(ConsumerTag); writer.WriteLongLong(DeliveryTag); writer.WriteBit(Redelivered); writer.WriteShortString(Exchange); writer.WriteShortString(RoutingKey);
            }
        }

        /// <summary>basic.get.</summary>
        public sealed record Get(ushort Ticket, string Queue, bool NoAck) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 60;
            /// <inheritdoc />
            public ushort MethodId => 70;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteShort(Ticket); writer.WriteShortString(Queue); writer.WriteBit(NoAck); }
        }

        /// <summary>basic.get-ok (content follows).</summary>
        public sealed record GetOk(ulong DeliveryTag, bool Redelivered, string Exchange, string RoutingKey, uint MessageCount) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 60;
            /// <inheritdoc />
            public ushort MethodId => 71;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer)
            {
                ArgumentNullException.ThrowIfNull(writer);
                writer.WriteLongLong(DeliveryTag); writer.WriteBit(Redelivered); writer.WriteShortString(Exchange); writer.WriteShortString(RoutingKey); writer.WriteLong(MessageCount);
            }
        }

        /// <summary>basic.get-empty.</summary>
        public sealed record GetEmpty(string Reserved = "") : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 60;
            /// <inheritdoc />
            public ushort MethodId => 72;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteShortString(Reserved); }
        }

        /// <summary>basic.ack (a consumer's acknowledgement, or a publisher confirm).</summary>
        public sealed record Ack(ulong DeliveryTag, bool Multiple) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 60;
            /// <inheritdoc />
            public ushort MethodId => 80;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteLongLong(DeliveryTag); writer.WriteBit(Multiple); }
        }

        /// <summary>basic.reject.</summary>
        public sealed record Reject(ulong DeliveryTag, bool Requeue) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 60;
            /// <inheritdoc />
            public ushort MethodId => 90;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteLongLong(DeliveryTag); writer.WriteBit(Requeue); }
        }

        /// <summary>basic.recover-async (deprecated).</summary>
        public sealed record RecoverAsync(bool Requeue) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 60;
            /// <inheritdoc />
            public ushort MethodId => 100;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteBit(Requeue); }
        }

        /// <summary>basic.recover.</summary>
        public sealed record Recover(bool Requeue) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 60;
            /// <inheritdoc />
            public ushort MethodId => 110;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteBit(Requeue); }
        }

        /// <summary>basic.recover-ok.</summary>
        public sealed class RecoverOk : IAmqpMethod
        {
            private RecoverOk() { }
            /// <summary>The one instance.</summary>
            public static RecoverOk Instance { get; } = new();
            /// <inheritdoc />
            public ushort ClassId => 60;
            /// <inheritdoc />
            public ushort MethodId => 111;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { }
        }

        /// <summary>basic.nack (a consumer's negative acknowledgement, or a failed publisher confirm).</summary>
        public sealed record Nack(ulong DeliveryTag, bool Multiple, bool Requeue) : IAmqpMethod
        {
            /// <inheritdoc />
            public ushort ClassId => 60;
            /// <inheritdoc />
            public ushort MethodId => 120;
            /// <inheritdoc />
            public void WriteArguments(AmqpWriter writer) { ArgumentNullException.ThrowIfNull(writer); writer.WriteLongLong(DeliveryTag); writer.WriteBit(Multiple); writer.WriteBit(Requeue); }
        }
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

using System.Diagnostics.CodeAnalysis;

namespace Actors.Amqp.Codec;

/// <summary>The methods of the exchange and queue classes.</summary>
public static partial class AmqpMethod
{
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
}

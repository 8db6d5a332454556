namespace Actors.Amqp.Codec;

/// <summary>The methods of the basic class.</summary>
public static partial class AmqpMethod
{
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
}

namespace Actors.Amqp.Codec;

/// <summary>The methods of the connection and channel classes.</summary>
public static partial class AmqpMethod
{
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
}

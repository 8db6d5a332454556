namespace Actors.Amqp;

/// <summary>The AMQP 0-9-1 listener's settings (<c>Actors:Amqp</c>).</summary>
public sealed class AmqpOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Actors:Amqp";

    /// <summary>Whether the node listens for AMQP connections. Default <c>false</c>.</summary>
    public bool Enabled { get; set; }

    /// <summary>The TCP port. Default 5672 (AMQP's); 0 picks a free port (tests).</summary>
    public int Port { get; set; } = 5672;

    /// <summary>
    /// Listen on loopback only (<c>localhost</c>). Default <c>true</c>; set <c>false</c> to listen on every interface,
    /// which needs API keys (anonymous <c>guest</c> is only ever accepted on loopback).
    /// </summary>
    public bool LoopbackOnly { get; set; } = true;

    /// <summary>The largest frame the server accepts and offers in <c>connection.tune</c>, envelope included. Default 131,072; 4,096–1,048,576.</summary>
    public uint FrameMax { get; set; } = 131_072;

    /// <summary>The most channels per connection offered in <c>connection.tune</c>. Default 2,047.</summary>
    public ushort ChannelMax { get; set; } = 2047;

    /// <summary>The heartbeat interval the server proposes, in seconds; the client may lower it or turn it off (0). Default 60.</summary>
    public ushort Heartbeat { get; set; } = 60;

    /// <summary>Largest message body accepted, in bytes; a larger one closes the channel with 406. Default 128 MiB (the queue's own <c>MaxPayloadBytes</c> applies too).</summary>
    public long MaxBodyBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>Publishes one connection may have waiting for the journal before the server stops reading from it. Default 4,096.</summary>
    public int MaxInFlightPublishes { get; set; } = 4096;

    /// <summary>
    /// Whether <c>queue.declare</c> of a queue the node does not have creates it (durably, cluster-wide, with the node's
    /// <c>DeclaredQueueDefaults</c>: no in-process workers) for a caller with <c>manage</c> on it; others get 403
    /// ACCESS_REFUSED. Default <c>false</c>: 404 NOT_FOUND. On in the standalone profile.
    /// </summary>
    public bool AllowDeclare { get; set; }

    /// <summary>How long the handshake (protocol header to <c>connection.open</c>) may take. Default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

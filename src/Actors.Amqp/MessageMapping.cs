using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Actors.Amqp.Codec;
using Actors.Protocol;
using static Actors.Protocol.QueueCommands;

namespace Actors.Amqp;

/// <summary>
/// Turns a published AMQP message into an Actors message: the body is the payload; <c>type</c> is the message type
/// (<see cref="DefaultType"/> without one); <c>message-id</c> is the idempotency key; <c>expiration</c> (milliseconds)
/// the time to live; <c>priority</c> the priority (capped at 9); application headers and the other properties become
/// headers (<see cref="HeaderNames"/>).
/// </summary>
public static class MessageMapping
{
    /// <summary>The message type of a message published without a <c>type</c> property.</summary>
    public const string DefaultType = "message";

    /// <summary>Header names the AMQP properties are stored under.</summary>
    public static class HeaderNames
    {
        /// <summary>content-type.</summary>
        public const string ContentType = "content-type";
        /// <summary>content-encoding.</summary>
        public const string ContentEncoding = "content-encoding";
        /// <summary>correlation-id.</summary>
        public const string CorrelationId = "correlation-id";
        /// <summary>reply-to.</summary>
        public const string ReplyTo = "reply-to";
        /// <summary>message-id (also the idempotency key).</summary>
        public const string MessageId = "message-id";
        /// <summary>timestamp, seconds since the Unix epoch.</summary>
        public const string Timestamp = "timestamp";
        /// <summary>user-id.</summary>
        public const string UserId = "user-id";
        /// <summary>app-id.</summary>
        public const string AppId = "app-id";
    }

    /// <summary>The message to enqueue; throws <see cref="AmqpChannelException"/> (406) for an expiration that is not a number of milliseconds.</summary>
    public static NewMessage ToMessage(BasicProperties properties, ReadOnlyMemory<byte> body)
    {
        ArgumentNullException.ThrowIfNull(properties);
        var headers = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        if (properties.Headers is { } table)
            foreach (var (name, value) in table)
                if (ToText(value) is { } text) headers[name] = text;
        Add(headers, HeaderNames.ContentType, properties.ContentType);
        Add(headers, HeaderNames.ContentEncoding, properties.ContentEncoding);
        Add(headers, HeaderNames.CorrelationId, properties.CorrelationId);
        Add(headers, HeaderNames.ReplyTo, properties.ReplyTo);
        Add(headers, HeaderNames.MessageId, properties.MessageId);
        Add(headers, HeaderNames.UserId, properties.UserId);
        Add(headers, HeaderNames.AppId, properties.AppId);
        if (properties.Timestamp is { } timestamp) headers[HeaderNames.Timestamp] = timestamp.ToString(CultureInfo.InvariantCulture);
        if (properties.Priority is { } priority) headers[MessageHeaders.Priority] = Math.Min((int)priority, MessageHeaders.MaxPriority).ToString(CultureInfo.InvariantCulture);

        MessageTiming? timing = null;
        if (properties.Expiration is { } expiration)
        {
            if (!long.TryParse(expiration, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
                throw new AmqpChannelException(ReplyCodes.PreconditionFailed, $"invalid expiration '{expiration}': a number of milliseconds");
            timing = new MessageTiming(Ttl: TimeSpan.FromMilliseconds(ms));
        }
        var key = properties.MessageId is { Length: > 0 and <= MaxIdempotencyKeyLength } id ? id : null;
        var type = string.IsNullOrEmpty(properties.Type) ? DefaultType : properties.Type;
        return new NewMessage(type, body, headers.Count == 0 ? null : headers.ToImmutable(), key, timing);
    }

    /// <summary>
    /// The properties of a delivered message, the reverse of <see cref="ToMessage"/>: the headers stored for AMQP
    /// properties become those properties again, the rest the application headers; the message type is <c>type</c>.
    /// </summary>
    public static BasicProperties ToProperties(string type, IReadOnlyDictionary<string, string> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var application = new Dictionary<string, object?>(StringComparer.Ordinal);
        string? Take(string name) => headers.TryGetValue(name, out var value) ? value : null;
        foreach (var (name, value) in headers)
            if (name is not (HeaderNames.ContentType or HeaderNames.ContentEncoding or HeaderNames.CorrelationId or HeaderNames.ReplyTo
                or HeaderNames.MessageId or HeaderNames.Timestamp or HeaderNames.UserId or HeaderNames.AppId or MessageHeaders.Priority))
                application[name] = value;
        return new BasicProperties
        {
            ContentType = Take(HeaderNames.ContentType),
            ContentEncoding = Take(HeaderNames.ContentEncoding),
            Headers = application.Count == 0 ? null : application,
            DeliveryMode = 2,
            Priority = byte.TryParse(Take(MessageHeaders.Priority), NumberStyles.None, CultureInfo.InvariantCulture, out var priority) ? priority : null,
            CorrelationId = Take(HeaderNames.CorrelationId),
            ReplyTo = Take(HeaderNames.ReplyTo),
            MessageId = Take(HeaderNames.MessageId),
            Timestamp = ulong.TryParse(Take(HeaderNames.Timestamp), NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp) ? timestamp : null,
            Type = type,
            UserId = Take(HeaderNames.UserId),
            AppId = Take(HeaderNames.AppId),
        };
    }

    private static void Add(ImmutableDictionary<string, string>.Builder headers, string name, string? value)
    {
        if (value is not null) headers[name] = value;
    }

    private static string? ToText(object? value) => value switch
    {
        null => null,
        string s => s,
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        bool b => b ? "true" : "false",
        AmqpTimestamp t => t.UnixSeconds.ToString(CultureInfo.InvariantCulture),
        AmqpDecimal d => d.ToDecimal().ToString(CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => null,
    };
}

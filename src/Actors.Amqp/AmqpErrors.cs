namespace Actors.Amqp;

/// <summary>AMQP 0-9-1 reply codes used by the server.</summary>
public static class ReplyCodes
{
    /// <summary>200 REPLY_SUCCESS.</summary>
    public const ushort Success = 200;
    /// <summary>312 NO_ROUTE (basic.return of a mandatory message).</summary>
    public const ushort NoRoute = 312;
    /// <summary>320 CONNECTION_FORCED (the node shuts down).</summary>
    public const ushort ConnectionForced = 320;
    /// <summary>403 ACCESS_REFUSED.</summary>
    public const ushort AccessRefused = 403;
    /// <summary>404 NOT_FOUND.</summary>
    public const ushort NotFound = 404;
    /// <summary>405 RESOURCE_LOCKED.</summary>
    public const ushort ResourceLocked = 405;
    /// <summary>406 PRECONDITION_FAILED.</summary>
    public const ushort PreconditionFailed = 406;
    /// <summary>501 FRAME_ERROR.</summary>
    public const ushort FrameError = 501;
    /// <summary>502 SYNTAX_ERROR.</summary>
    public const ushort SyntaxError = 502;
    /// <summary>503 COMMAND_INVALID.</summary>
    public const ushort CommandInvalid = 503;
    /// <summary>504 CHANNEL_ERROR.</summary>
    public const ushort ChannelError = 504;
    /// <summary>505 UNEXPECTED_FRAME.</summary>
    public const ushort UnexpectedFrame = 505;
    /// <summary>506 RESOURCE_ERROR.</summary>
    public const ushort ResourceError = 506;
    /// <summary>530 NOT_ALLOWED.</summary>
    public const ushort NotAllowed = 530;
    /// <summary>540 NOT_IMPLEMENTED.</summary>
    public const ushort NotImplemented = 540;
    /// <summary>541 INTERNAL_ERROR.</summary>
    public const ushort InternalError = 541;

    /// <summary>The code's name as RabbitMQ prefixes reply texts with it.</summary>
    public static string Name(ushort code) => code switch
    {
        Success => "OK",
        NoRoute => "NO_ROUTE",
        ConnectionForced => "CONNECTION_FORCED",
        AccessRefused => "ACCESS_REFUSED",
        NotFound => "NOT_FOUND",
        ResourceLocked => "RESOURCE_LOCKED",
        PreconditionFailed => "PRECONDITION_FAILED",
        FrameError => "FRAME_ERROR",
        SyntaxError => "SYNTAX_ERROR",
        CommandInvalid => "COMMAND_INVALID",
        ChannelError => "CHANNEL_ERROR",
        UnexpectedFrame => "UNEXPECTED_FRAME",
        ResourceError => "RESOURCE_ERROR",
        NotAllowed => "NOT_ALLOWED",
        NotImplemented => "NOT_IMPLEMENTED",
        InternalError => "INTERNAL_ERROR",
        _ => "ERROR",
    };

    /// <summary>A reply text as RabbitMQ writes it (<c>NOT_FOUND - no queue 'x'</c>), cut to fit a short string.</summary>
    public static string Text(ushort code, string detail) => Fit(Name(code) + " - " + detail);

    /// <summary>The text cut to the 255 bytes of UTF-8 a short string holds.</summary>
    public static string Fit(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        while (System.Text.Encoding.UTF8.GetByteCount(text) > 255) text = text[..^1];
        return text;
    }
}

/// <summary>A soft error: the server closes the channel with <see cref="Code"/> and the connection stays.</summary>
public sealed class AmqpChannelException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AmqpChannelException() { }

    /// <summary>Creates the exception with its message.</summary>
    public AmqpChannelException(string message) : base(message) { }

    /// <summary>Creates the exception with its message and cause.</summary>
    public AmqpChannelException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with a reply code.</summary>
    public AmqpChannelException(ushort code, string message) : base(message) => Code = code;

    /// <summary>The reply code.</summary>
    public ushort Code { get; } = ReplyCodes.InternalError;
}

/// <summary>A hard error: the server closes the whole connection with <see cref="Code"/>.</summary>
public sealed class AmqpConnectionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AmqpConnectionException() { }

    /// <summary>Creates the exception with its message.</summary>
    public AmqpConnectionException(string message) : base(message) { }

    /// <summary>Creates the exception with its message and cause.</summary>
    public AmqpConnectionException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with a reply code.</summary>
    public AmqpConnectionException(ushort code, string message) : base(message) => Code = code;

    /// <summary>The reply code.</summary>
    public ushort Code { get; } = ReplyCodes.InternalError;
}

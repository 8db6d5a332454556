using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Protocol;

namespace Actors.State;

/// <summary>
/// What a queue accepts: a message's type, size, headers and length limit, its idempotency key, and its timing, turned
/// into absolute due and expiry times. Pure: the queue's options and the receipt time are all it needs.
/// </summary>
internal sealed class IntakeRules
{
    private readonly HashSet<string>? _allowedTypes;

    public IntakeRules(string queueId, QueueOptions options)
    {
        QueueId = queueId;
        Options = options;
        _allowedTypes = options.AllowedTypes.Count > 0 ? new HashSet<string>(options.AllowedTypes, StringComparer.Ordinal) : null;
    }

    /// <summary>The longest delay or time to live looked at (far beyond any queue's <c>MaxDelay</c>): longer is refused, never overflows.</summary>
    public static readonly TimeSpan LongestDuration = TimeSpan.FromDays(36_500);

    public string QueueId { get; }
    public QueueOptions Options { get; }

    /// <summary>
    /// Checks a new message against the queue's limits; <paramref name="held"/> counts the messages the queue holds or has
    /// accepted for writing, <paramref name="heldBytes"/> their payload bytes.
    /// </summary>
    public (RejectionCode Code, string Reason)? Validate(string type, int payloadLength, ImmutableDictionary<string, string>? headers, int held, long heldBytes = 0)
    {
        if (!Names.IsValidMessageType(type))
            return (RejectionCode.InvalidMessageType, $"Message type '{Truncate(type)}' is invalid: {Names.TypeNameRule}.");
        if (_allowedTypes is not null && !_allowedTypes.Contains(type))
            return (RejectionCode.UnknownMessageType, $"Queue '{QueueId}' does not accept messages of type '{type}'; it accepts: {string.Join(", ", _allowedTypes.Order(StringComparer.Ordinal))}.");
        if (payloadLength > Options.MaxPayloadBytes)
            return (RejectionCode.PayloadTooLarge, $"Payload of {payloadLength} bytes exceeds the limit of {Options.MaxPayloadBytes} bytes for queue '{QueueId}'.");
        if (headers is { Count: > 0 } && !HeadersAreValid(headers, out var headerError))
            return (RejectionCode.InvalidHeaders, headerError);
        if (held >= Options.MaxLength)
            return (RejectionCode.QueueFull, $"Queue '{QueueId}' is full ({Options.MaxLength} messages).");
        if (heldBytes + payloadLength > Options.MaxBytes)
            return (RejectionCode.QueueFull, $"Queue '{QueueId}' is full: it holds {heldBytes} payload bytes, and {payloadLength} more would exceed its limit of {Options.MaxBytes} bytes.");
        return null;
    }

    /// <summary>At most this many headers per message.</summary>
    public const int MaxHeaders = 64;

    /// <summary>At most this many characters in all header names and values together.</summary>
    public const int MaxHeaderChars = 16 * 1024;

    private static bool HeadersAreValid(ImmutableDictionary<string, string> headers, out string error)
    {
        if (headers.Count > MaxHeaders)
        {
            error = $"At most {MaxHeaders} headers are allowed, got {headers.Count}.";
            return false;
        }
        var total = 0;
        foreach (var (key, value) in headers)
        {
            if (string.IsNullOrEmpty(key))
            {
                error = "Header names must not be empty.";
                return false;
            }
            total += key.Length + (value?.Length ?? 0);
        }
        if (total > MaxHeaderChars)
        {
            error = $"Headers total {total} characters; the limit is {MaxHeaderChars}.";
            return false;
        }
        if (headers.TryGetValue(MessageHeaders.Key, out var orderingKey) && !MessageHeaders.IsValidKey(orderingKey))
        {
            error = MessageHeaders.InvalidKeyReason(orderingKey);
            return false;
        }
        if (headers.TryGetValue(MessageHeaders.Priority, out var priority) && !StoredMessage.TryParsePriority(priority, out _))
        {
            error = $"A priority must be 0–{MessageHeaders.MaxPriority}; got '{Truncate(priority)}'.";
            return false;
        }
        error = "";
        return true;
    }

    private static string Truncate(string? value) => value is null ? "" : value.Length <= 80 ? value : value[..80] + "…";

    /// <summary>Checks a producer's idempotency key against the queue's rules; null when it is acceptable.</summary>
    public (RejectionCode Code, string Reason)? ValidateIdempotencyKey(string? key)
    {
        if (key is null)
            return Options.RequireIdempotencyKey ? (RejectionCode.IdempotencyKeyRequired, $"Queue '{QueueId}' requires an idempotency key on every message.") : null;
        if (key.Length is 0 or > QueueCommands.MaxIdempotencyKeyLength)
            return (RejectionCode.InvalidIdempotencyKey, $"An idempotency key must be 1–{QueueCommands.MaxIdempotencyKeyLength} characters; got {key.Length}.");
        return null;
    }

    /// <summary>
    /// Turns a producer's timing into absolute times, relative to <paramref name="now"/> (the receipt time): a due time
    /// only when it is after now, an expiry from the message's own timing or else the queue's <see cref="QueueOptions.MessageTtl"/>
    /// counted from when the message may first start. Returns the refusal when the timing is contradictory or too far.
    /// </summary>
    public (RejectionCode Code, string Reason)? ResolveTiming(QueueCommands.MessageTiming? timing, DateTime now, out DateTime? dueAt, out DateTime? expiresAt)
    {
        dueAt = null;
        expiresAt = null;
        if (timing is null)
        {
            if (Options.MessageTtl is { } defaultTtl) expiresAt = now + defaultTtl;
            return null;
        }
        if (timing.DeliverAt is not null && timing.Delay is not null)
            return (RejectionCode.InvalidTiming, "Give either a delivery time or a delay, not both.");
        if (timing.ExpiresAt is not null && timing.Ttl is not null)
            return (RejectionCode.InvalidTiming, "Give either an expiry time or a time to live, not both.");
        if (timing.Delay is { } d0 && (d0 > LongestDuration || d0 < -LongestDuration) || timing.Ttl is { } t0 && (t0 > LongestDuration || t0 < -LongestDuration))
            return (RejectionCode.InvalidTiming, $"A delay or time to live may be at most {LongestDuration.TotalDays:0} days either way.");
        var due = timing.DeliverAt is { } at ? at.ToUniversalTime() : timing.Delay is { } delay ? now + delay : now;
        if (due - now > Options.MaxDelay)
            return (RejectionCode.DelayTooLong, $"The delivery time is {(due - now).TotalDays:0.##} days away; queue '{QueueId}' allows at most {Options.MaxDelay.TotalDays:0.##} days.");
        var start = due > now ? due : now;
        if (timing.Ttl is { } ttl && ttl <= TimeSpan.Zero)
            return (RejectionCode.InvalidTiming, "A time to live must be positive.");
        var expiry = timing.ExpiresAt is { } e ? e.ToUniversalTime() : timing.Ttl is { } t ? now + t : Options.MessageTtl is { } d ? start + d : (DateTime?)null;
        if (expiry is { } x && x <= start)
            return (RejectionCode.InvalidTiming, x <= now ? "The message would expire before it is received." : "The message would expire before its delivery time.");
        if (due > now) dueAt = due;
        expiresAt = expiry;
        return null;
    }
}

namespace Actors.Protocol;

/// <summary>
/// Headers with a meaning to the queue. They travel and are stored with the message like any other header, so every
/// front door (HTTP, <see cref="Client.IQueueClient"/>, the actor protocol) sets them the same way; the HTTP API and
/// the client also take them as fields of their own (<c>key</c>, <c>priority</c>, <c>then</c>, <c>onFailure</c>).
/// </summary>
public static class MessageHeaders
{
    /// <summary>
    /// The ordering key: messages with the same key start one at a time in enqueue order, and a keyed message goes to
    /// the partition its key hashes to. At most <see cref="MaxKeyLength"/> characters.
    /// </summary>
    public const string Key = "key";

    /// <summary>Longest ordering key, in characters.</summary>
    public const int MaxKeyLength = 255;

    /// <summary>True for an ordering key of 1–<see cref="MaxKeyLength"/> characters.</summary>
    public static bool IsValidKey(string? key) => key is { Length: > 0 and <= MaxKeyLength };

    /// <summary>Why a key that is not <see cref="IsValidKey"/> is refused.</summary>
    public static string InvalidKeyReason(string? key) => $"An ordering key must be 1–{MaxKeyLength} characters; got {key?.Length ?? 0}.";

    /// <summary>The priority, <c>0</c>–<c>9</c> (higher starts first); absent means 0.</summary>
    public const string Priority = "priority";

    /// <summary>Highest priority.</summary>
    public const int MaxPriority = 9;

    /// <summary>A follow-up to enqueue when the message succeeds (a JSON continuation).</summary>
    public const string Then = "then";

    /// <summary>A follow-up to enqueue when the message is dead-lettered (a JSON continuation).</summary>
    public const string OnFailure = "on-failure";

    /// <summary>
    /// The W3C trace context of the span that enqueued the message (<c>traceparent</c>), stored and journaled with it,
    /// so each attempt's consumer span links to the producer's trace even on another node or after a restart. Set by
    /// the client when its producer span is recorded and the producer did not set it.
    /// </summary>
    public const string TraceParent = "traceparent";

    /// <summary>The W3C <c>tracestate</c> that goes with <see cref="TraceParent"/>, when there is one.</summary>
    public const string TraceState = "tracestate";
}

using System.Collections.Immutable;
using System.Text;
using System.Text.Json;

namespace Actors.Protocol;

/// <summary>
/// A follow-up message a queue enqueues for a message once it is final: on success (<see cref="MessageHeaders.Then"/>)
/// or when it is dead-lettered (<see cref="MessageHeaders.OnFailure"/>). It travels and is stored as that header's
/// value, compact JSON such as <c>{"queue":"reports","type":"render","useResult":true}</c>.
/// <para>
/// The follow-up's payload is <see cref="Payload"/> (JSON <c>null</c> when there is none) or, with
/// <see cref="UseResult"/>, the message's result (for <c>then</c>; JSON <c>null</c> when the handler returned none) or a
/// JSON description of the failure (for <c>onFailure</c>:
/// <c>{"queue","messageId","type","reason","error":{"type","message"}}</c>). The follow-up may carry continuations of
/// its own (<see cref="Then"/>, <see cref="OnFailure"/>), which makes chains.
/// </para>
/// </summary>
/// <param name="Queue">The queue the follow-up goes to; it must be declared.</param>
/// <param name="Type">The follow-up's message type.</param>
/// <param name="Payload">A fixed payload; null for none, or when <paramref name="UseResult"/> is set.</param>
/// <param name="UseResult">The follow-up's payload is the message's result (or, for <c>onFailure</c>, its failure).</param>
public sealed record Continuation(string Queue, string Type, ReadOnlyMemory<byte>? Payload = null, bool UseResult = false)
{
    /// <summary>The follow-up's own continuation on success: the next step of a chain.</summary>
    public Continuation? Then { get; init; }

    /// <summary>The follow-up's own continuation when it is dead-lettered.</summary>
    public Continuation? OnFailure { get; init; }

    /// <summary>Deepest chain of nested continuations one header may hold.</summary>
    public const int MaxDepth = 16;

    /// <summary>The follow-up's payload when it has none: JSON <c>null</c>.</summary>
    public static readonly ReadOnlyMemory<byte> NullPayload = "null"u8.ToArray();

    /// <summary>A continuation to <paramref name="queue"/> whose payload is the message's result.</summary>
    public static Continuation WithResult(string queue, string type) => new(queue, type, UseResult: true);

    /// <summary>
    /// The header value: compact JSON. A payload that is JSON is embedded as <c>payload</c>; any other bytes as
    /// <c>payloadBase64</c>.
    /// </summary>
    public string ToHeader()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
            Write(writer);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("queue", Queue);
        writer.WriteString("type", Type);
        if (UseResult) writer.WriteBoolean("useResult", true);
        if (Payload is { } payload)
        {
            if (IsJson(payload.Span))
            {
                writer.WritePropertyName("payload");
                writer.WriteRawValue(payload.Span, skipInputValidation: true);
            }
            else writer.WriteString("payloadBase64", Convert.ToBase64String(payload.Span));
        }
        if (Then is { } then)
        {
            writer.WritePropertyName("then");
            then.Write(writer);
        }
        if (OnFailure is { } onFailure)
        {
            writer.WritePropertyName("onFailure");
            onFailure.Write(writer);
        }
        writer.WriteEndObject();
    }

    private static bool IsJson(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return false;
        var reader = new Utf8JsonReader(bytes);
        try
        {
            return JsonDocument.TryParseValue(ref reader, out var document) && Dispose(document) && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool Dispose(JsonDocument? document)
    {
        document?.Dispose();
        return true;
    }

    /// <summary>Reads a header value; throws <see cref="FormatException"/> when it is not a valid continuation.</summary>
    public static Continuation Parse(string header) =>
        TryParse(header, out var continuation, out var error) ? continuation : throw new FormatException(error);

    /// <summary>Reads a header value (or an HTTP request's <c>then</c>/<c>onFailure</c> field, the same JSON); false with a reason when it is not a valid continuation.</summary>
    public static bool TryParse(string? header, out Continuation continuation, out string error)
    {
        continuation = null!;
        if (string.IsNullOrEmpty(header))
        {
            error = "A continuation must be a JSON object: { \"queue\": \"...\", \"type\": \"...\" }.";
            return false;
        }
        try
        {
            using var document = JsonDocument.Parse(header);
            return TryRead(document.RootElement, 1, out continuation, out error);
        }
        catch (JsonException e)
        {
            error = $"A continuation must be a JSON object: {e.Message}";
            return false;
        }
    }

    /// <summary>Reads a continuation from JSON (the header's form); false with a reason when it is not a valid one.</summary>
    public static bool TryRead(JsonElement element, out Continuation continuation, out string error) => TryRead(element, 1, out continuation, out error);

    private static bool TryRead(JsonElement element, int depth, out Continuation continuation, out string error)
    {
        continuation = null!;
        if (depth > MaxDepth)
        {
            error = $"Continuations nest at most {MaxDepth} deep.";
            return false;
        }
        if (element.ValueKind != JsonValueKind.Object)
        {
            error = "A continuation must be a JSON object: { \"queue\": \"...\", \"type\": \"...\" }.";
            return false;
        }
        if (!element.TryGetProperty("queue", out var q) || q.ValueKind != JsonValueKind.String || q.GetString() is not { } queue || !Names.IsValidQueueName(queue))
        {
            error = $"A continuation needs a \"queue\": {Names.QueueNameRule}.";
            return false;
        }
        if (!element.TryGetProperty("type", out var t) || t.ValueKind != JsonValueKind.String || t.GetString() is not { } type || !Names.IsValidMessageType(type))
        {
            error = $"A continuation needs a \"type\": {Names.TypeNameRule}.";
            return false;
        }
        var useResult = false;
        if (element.TryGetProperty("useResult", out var u) && u.ValueKind != JsonValueKind.Null)
        {
            if (u.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                error = "A continuation's \"useResult\" must be true or false.";
                return false;
            }
            useResult = u.GetBoolean();
        }
        ReadOnlyMemory<byte>? payload = null;
        if (element.TryGetProperty("payload", out var p)) payload = Encoding.UTF8.GetBytes(p.GetRawText());
        if (element.TryGetProperty("payloadBase64", out var b) && b.ValueKind != JsonValueKind.Null)
        {
            if (payload is not null || b.ValueKind != JsonValueKind.String || !b.TryGetBytesFromBase64(out var bytes))
            {
                error = "A continuation's \"payloadBase64\" must be a base64 string, and given without \"payload\".";
                return false;
            }
            payload = bytes;
        }
        if (useResult && payload is not null)
        {
            error = "A continuation takes either a \"payload\" or \"useResult\": true, not both.";
            return false;
        }
        Continuation? then = null, onFailure = null;
        if (element.TryGetProperty("then", out var th) && th.ValueKind != JsonValueKind.Null && !TryRead(th, depth + 1, out then!, out error)) return false;
        if (element.TryGetProperty("onFailure", out var of) && of.ValueKind != JsonValueKind.Null && !TryRead(of, depth + 1, out onFailure!, out error)) return false;
        continuation = new Continuation(queue, type, payload, useResult) { Then = then, OnFailure = onFailure };
        error = "";
        return true;
    }

    /// <summary>Every queue this continuation and the ones nested in it send to.</summary>
    public IEnumerable<string> Queues()
    {
        for (var c = this; c is not null; c = c.Then)
        {
            yield return c.Queue;
            if (c.OnFailure is { } onFailure)
                foreach (var queue in onFailure.Queues()) yield return queue;
        }
    }

    /// <summary>The continuations a message's headers hold: a malformed one is reported in <paramref name="error"/>.</summary>
    public static bool TryReadHeaders(IReadOnlyDictionary<string, string>? headers, out Continuation? then, out Continuation? onFailure, out string error)
    {
        then = onFailure = null;
        error = "";
        if (headers is null || headers.Count == 0) return true;
        if (headers.TryGetValue(MessageHeaders.Then, out var t))
        {
            if (!TryParse(t, out var parsed, out error))
            {
                error = $"Header '{MessageHeaders.Then}': {error}";
                return false;
            }
            then = parsed;
        }
        if (headers.TryGetValue(MessageHeaders.OnFailure, out var f))
        {
            if (!TryParse(f, out var parsed, out error))
            {
                error = $"Header '{MessageHeaders.OnFailure}': {error}";
                return false;
            }
            onFailure = parsed;
        }
        return true;
    }

    /// <summary>The headers of the follow-up: its own continuations, if any.</summary>
    public ImmutableDictionary<string, string> FollowUpHeaders()
    {
        var headers = ImmutableDictionary<string, string>.Empty;
        if (Then is { } then) headers = headers.SetItem(MessageHeaders.Then, then.ToHeader());
        if (OnFailure is { } onFailure) headers = headers.SetItem(MessageHeaders.OnFailure, onFailure.ToHeader());
        return headers;
    }

    /// <summary>The idempotency key of the follow-up of message <paramref name="messageId"/> of <paramref name="queue"/>: <c>{queue}:{id}:then</c> or <c>{queue}:{id}:onFailure</c>.</summary>
    public static string IdempotencyKey(string queue, long messageId, FollowUpKind kind) =>
        $"{queue}:{messageId}:{(kind == FollowUpKind.Then ? "then" : "onFailure")}";

    /// <inheritdoc />
    public bool Equals(Continuation? other) => other is not null && ToHeader() == other.ToHeader();

    /// <inheritdoc />
    public override int GetHashCode() => ToHeader().GetHashCode(StringComparison.Ordinal);
}

/// <summary>Which outcome a follow-up follows.</summary>
public enum FollowUpKind
{
    /// <summary>The message succeeded (<see cref="MessageHeaders.Then"/>).</summary>
    Then = 0,

    /// <summary>The message was dead-lettered (<see cref="MessageHeaders.OnFailure"/>).</summary>
    OnFailure = 1,
}

/// <summary>
/// A message's follow-up as its status shows it: where it goes, and its id there once the target queue stored it (null
/// while it is being sent). <paramref name="Error"/> is set, and the id null, when the target refused it for good.
/// </summary>
public sealed record FollowUpRef(FollowUpKind Kind, string Queue, long? Id, string? Error = null);

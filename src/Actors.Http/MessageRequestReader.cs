using System.Collections.Immutable;
using System.Text;
using System.Globalization;
using System.Text.Json;
using Actors.Protocol;
using Microsoft.AspNetCore.Http;
using static Actors.Protocol.QueueCommands;

namespace Actors.Http;

/// <summary>
/// Reads what producers send over HTTP into messages: the JSON body, each message's fields, its text (which must be
/// valid Unicode), its RFC 3339 times and ISO 8601 durations. Every refusal is a reason a 400 can carry.
/// </summary>
internal static partial class MessageRequestReader
{
    /// <summary>A parsed body, or the problem to answer instead.</summary>
    internal sealed class JsonBody : IDisposable
    {
        public JsonDocument? Document { get; init; }
        public IResult? Problem { get; init; }
        public void Dispose() => Document?.Dispose();
    }

    /// <summary>Reads an <c>application/json</c> body; a wrong media type, malformed JSON or an oversized body becomes a problem.</summary>
    public static async Task<JsonBody> ReadJsonAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType()) return new JsonBody { Problem = UnsupportedMediaType(request) };
        try
        {
            return new JsonBody { Document = await JsonDocument.ParseAsync(request.Body, default, cancellationToken).ConfigureAwait(false) };
        }
        catch (JsonException e)
        {
            return new JsonBody { Problem = MalformedJson(e.Message) };
        }
        catch (BadHttpRequestException e)
        {
            return new JsonBody { Problem = BadRequest(e) };
        }
    }

    /// <summary>A batch body read item by item: each item's own document, or the problem to answer instead.</summary>
    internal sealed class JsonBatch : IDisposable
    {
        public List<JsonDocument> Items { get; } = new();
        public IResult? Problem { get; set; }
        public void Dispose() => Items.ForEach(item => item.Dispose());
    }

    private enum BatchStage { BeforeArray, InArray, AfterArray }

    /// <summary>
    /// Reads an <c>application/json</c> array of messages as it arrives, one item at a time: at item
    /// <paramref name="maxItems"/> + 1 it stops reading (the rest of the body is neither read nor parsed) and answers
    /// 413 <c>batch-too-large</c>; a wrong media type, malformed JSON or an oversized body becomes a problem too.
    /// </summary>
    public static async Task<JsonBatch> ReadBatchAsync(HttpRequest request, int maxItems, CancellationToken cancellationToken)
    {
        var batch = new JsonBatch();
        if (!request.HasJsonContentType())
        {
            batch.Problem = UnsupportedMediaType(request);
            return batch;
        }
        var body = request.BodyReader;
        var state = new JsonReaderState();
        var stage = BatchStage.BeforeArray;
        try
        {
            while (true)
            {
                var read = await body.ReadAsync(cancellationToken).ConfigureAwait(false);
                var consumed = ReadBatchItems(read.Buffer, read.IsCompleted, ref state, ref stage, batch, maxItems);
                if (batch.Problem is not null || read.IsCompleted)
                {
                    body.AdvanceTo(read.Buffer.End);
                    if (batch.Problem is null && stage != BatchStage.AfterArray) batch.Problem = MalformedJson("the body ends before the array does.");
                    return batch;
                }
                body.AdvanceTo(consumed, read.Buffer.End);
            }
        }
        catch (JsonException e)
        {
            batch.Problem = MalformedJson(e.Message);
        }
        catch (BadHttpRequestException e)
        {
            batch.Problem = BadRequest(e);
        }
        return batch;
    }

    /// <summary>Parses the complete items in <paramref name="buffer"/>; returns where the unparsed rest begins.</summary>
    private static SequencePosition ReadBatchItems(System.Buffers.ReadOnlySequence<byte> buffer, bool isFinal, ref JsonReaderState state,
        ref BatchStage stage, JsonBatch batch, int maxItems)
    {
        var json = new Utf8JsonReader(buffer, isFinal, state);
        while (true)
        {
            var beforeItem = json;
            if (!json.Read()) break;
            if (stage == BatchStage.BeforeArray)
            {
                if (json.TokenType != JsonTokenType.StartArray)
                {
                    batch.Problem = Problems.BadRequest("The body must be a JSON array of messages.");
                    break;
                }
                stage = BatchStage.InArray;
            }
            else if (stage == BatchStage.AfterArray)
            {
                continue; // only whitespace may follow; anything else throws
            }
            else if (json.TokenType == JsonTokenType.EndArray)
            {
                stage = BatchStage.AfterArray;
            }
            else if (batch.Items.Count == maxItems)
            {
                batch.Problem = Problems.Create(StatusCodes.Status413PayloadTooLarge, "batch-too-large", "Batch too large",
                    $"At most {maxItems} messages per batch; the body has more (reading stopped at item {maxItems + 1}).");
                break;
            }
            else if (JsonDocument.TryParseValue(ref json, out var item))
            {
                batch.Items.Add(item);
            }
            else
            {
                json = beforeItem; // the item continues past this buffer: read it again with more
                break;
            }
        }
        state = json.CurrentState;
        return buffer.GetPosition(json.BytesConsumed);
    }

    private static IResult UnsupportedMediaType(HttpRequest request) =>
        Problems.Create(StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
            $"Send the body as application/json (got '{request.ContentType ?? "no Content-Type"}').");

    private static IResult MalformedJson(string reason) =>
        Problems.Create(StatusCodes.Status400BadRequest, "malformed-json", "Malformed JSON", $"The body is not valid JSON: {reason}");

    private static IResult BadRequest(BadHttpRequestException e)
    {
        var tooLarge = e.StatusCode == StatusCodes.Status413PayloadTooLarge;
        return Problems.Create(e.StatusCode, tooLarge ? "request-too-large" : "bad-request", tooLarge ? "Request too large" : "Bad request", e.Message);
    }

    /// <summary>Reads one message (of a single enqueue, or a batch item); <paramref name="headerKey"/> is the <c>Idempotency-Key</c> header's value.</summary>
    public static bool TryReadMessage(JsonElement element, string? headerKey, out NewMessage message, out string error)
    {
        message = null!;
        if (element.ValueKind != JsonValueKind.Object)
        {
            error = "A message must be a JSON object: { \"type\": \"...\", \"payload\": ... }.";
            return false;
        }
        try
        {
            return TryReadFields(element, headerKey, out message, out error);
        }
        catch (InvalidOperationException)
        {
            // Looking a field up unescapes the object's field names; one that escapes a lone surrogate cannot be
            // unescaped. Caught here rather than checked first, so a well-formed message costs nothing extra.
            error = "A field name of the message is not valid Unicode (a lone surrogate escape such as \\ud800).";
            return false;
        }
    }

    private static bool TryReadFields(JsonElement element, string? headerKey, out NewMessage message, out string error)
    {
        message = null!;
        if (!element.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(TextOf(type)))
        {
            error = "The message needs a \"type\" string naming its handler.";
            return false;
        }
        var raw = element.TryGetProperty("payload", out var p) ? p.GetRawText() : "null";
        // The body was valid UTF-8, so only a \u escape can spell a lone surrogate: walk the payload only then.
        if (raw.Contains("\\u", StringComparison.Ordinal) && !IsWellFormedText(p))
        {
            error = "The payload holds a string that is not valid Unicode (a lone surrogate escape such as \\ud800).";
            return false;
        }
        var payload = Encoding.UTF8.GetBytes(raw);
        var headers = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        if (element.TryGetProperty("headers", out var h) && h.ValueKind != JsonValueKind.Null)
        {
            if (h.ValueKind != JsonValueKind.Object)
            {
                error = "\"headers\" must be an object of strings.";
                return false;
            }
            if (!IsWellFormedText(h))
            {
                error = "Header names and values must be valid Unicode.";
                return false;
            }
            foreach (var header in h.EnumerateObject())
            {
                if (header.Value.ValueKind != JsonValueKind.String)
                {
                    error = $"Header '{header.Name}' must be a string.";
                    return false;
                }
                headers[header.Name] = header.Value.GetString()!;
            }
        }
        if (element.TryGetProperty("key", out var key) && key.ValueKind == JsonValueKind.String)
        {
            if (TextOf(key) is not { } orderingKey)
            {
                error = "\"key\" must be a string of valid Unicode.";
                return false;
            }
            headers[Partitions.KeyHeader] = orderingKey;
        }
        if (element.TryGetProperty("priority", out var priority) && priority.ValueKind != JsonValueKind.Null)
        {
            if (priority.ValueKind != JsonValueKind.Number || !priority.TryGetInt32(out var level) || level is < 0 or > MessageHeaders.MaxPriority)
            {
                error = $"\"priority\" must be an integer 0–{MessageHeaders.MaxPriority} (higher starts first).";
                return false;
            }
            if (level > 0) headers[MessageHeaders.Priority] = level.ToString(CultureInfo.InvariantCulture);
        }
        if (!TryReadContinuation(element, "then", MessageHeaders.Then, headers, out error)
            || !TryReadContinuation(element, "onFailure", MessageHeaders.OnFailure, headers, out error))
            return false;

        string? idempotencyKey = null;
        if (element.TryGetProperty("idempotencyKey", out var k) && k.ValueKind != JsonValueKind.Null)
        {
            if (k.ValueKind != JsonValueKind.String || TextOf(k) is not { } text)
            {
                error = "\"idempotencyKey\" must be a string of valid Unicode.";
                return false;
            }
            idempotencyKey = text;
        }
        if (headerKey is not null)
        {
            if (idempotencyKey is not null && idempotencyKey != headerKey)
            {
                error = $"The {QueueEndpoints.IdempotencyKeyHeader} header and the \"idempotencyKey\" field differ.";
                return false;
            }
            idempotencyKey = headerKey;
        }

        if (!TryReadTime(element, "deliverAt", out var deliverAt, out error) || !TryReadDuration(element, "delay", out var delay, out error)
            || !TryReadTime(element, "expiresAt", out var expiresAt, out error) || !TryReadDuration(element, "ttl", out var ttl, out error))
            return false;
        var timing = deliverAt is null && delay is null && expiresAt is null && ttl is null ? null : new MessageTiming(deliverAt, delay, expiresAt, ttl);
        message = new NewMessage(TextOf(type)!, payload, headers.Count == 0 ? null : headers.ToImmutable(), idempotencyKey, timing);
        error = "";
        return true;
    }

    /// <summary>
    /// A continuation field (<c>then</c>, <c>onFailure</c>): a JSON object as <see cref="Continuation"/> reads it, stored
    /// as the <paramref name="header"/> header. Whether its queue exists is the queue's check (404 <c>unknown-queue</c>).
    /// </summary>
    private static bool TryReadContinuation(JsonElement element, string field, string header, ImmutableDictionary<string, string>.Builder headers, out string error)
    {
        error = "";
        if (!element.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return true;
        if (!IsWellFormedText(value))
        {
            error = $"\"{field}\" holds a string that is not valid Unicode (a lone surrogate escape such as \\ud800).";
            return false;
        }
        if (!Continuation.TryRead(value, out var continuation, out var reason))
        {
            error = $"\"{field}\": {reason}";
            return false;
        }
        headers[header] = continuation.ToHeader();
        return true;
    }

    /// <summary>A JSON string's text, or null when it escapes a lone surrogate (not valid Unicode, so not storable as text).</summary>
    private static string? TextOf(JsonElement element)
    {
        try
        {
            var text = element.GetString();
            return text is not null && IsValidUtf16(text) ? text : null;
        }
        catch (InvalidOperationException)
        {
            return null; // an escape that does not decode to text
        }
    }

    private static bool IsValidUtf16(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1])) return false;
                i++;
            }
            else if (char.IsLowSurrogate(text[i])) return false;
        }
        return true;
    }

    /// <summary>Whether every string (and property name) in a JSON value is valid Unicode.</summary>
    public static bool IsWellFormedText(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return TextOf(element) is not null;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    if (!IsWellFormedText(item)) return false;
                return true;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    string name;
                    try { name = property.Name; }
                    catch (InvalidOperationException) { return false; }
                    if (!IsValidUtf16(name) || !IsWellFormedText(property.Value)) return false;
                }
                return true;
            default:
                return true;
        }
    }

    /// <summary>An RFC 3339 time with its offset (<c>Z</c> or <c>±hh:mm</c>), as UTC.</summary>
    private static bool TryReadTime(JsonElement element, string name, out DateTime? value, out string error)
    {
        value = null;
        error = "";
        if (!element.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null) return true;
        var text = p.ValueKind == JsonValueKind.String ? p.GetString()! : "";
        if (!Rfc3339WithOffset().IsMatch(text)
            || !DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var parsed))
        {
            error = $"\"{name}\" must be an RFC 3339 time with an offset, e.g. \"2026-12-24T18:00:00+01:00\" or \"2026-12-24T17:00:00Z\".";
            return false;
        }
        value = parsed.UtcDateTime;
        return true;
    }

    /// <summary>
    /// The longest delay or time to live a request may name, either way: no queue's <c>MaxDelay</c> or <c>MessageTtl</c>
    /// goes past 3,650 days, so nothing longer could be accepted, and receipt time ± this stays a representable time
    /// (a longer one overflowed inside the queue and the request never got an answer).
    /// </summary>
    private static readonly TimeSpan MaxDuration = TimeSpan.FromDays(36_500);

    /// <summary>An ISO 8601 duration (<c>PT10M</c>, <c>P1DT2H</c>) or a number of seconds, at most <see cref="MaxDuration"/> either way.</summary>
    private static bool TryReadDuration(JsonElement element, string name, out TimeSpan? value, out string error)
    {
        value = null;
        error = "";
        if (!element.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null) return true;
        try
        {
            TimeSpan? parsed = null;
            if (p.ValueKind == JsonValueKind.Number && p.TryGetDouble(out var seconds) && Math.Abs(seconds) <= MaxDuration.TotalSeconds)
                parsed = TimeSpan.FromSeconds(seconds);
            else if (p.ValueKind == JsonValueKind.String && p.GetString() is { Length: > 1 } text && text.TrimStart('-').StartsWith('P'))
                parsed = System.Xml.XmlConvert.ToTimeSpan(text);
            if (parsed is { } duration && duration >= -MaxDuration && duration <= MaxDuration)
            {
                value = duration;
                return true;
            }
        }
        catch (FormatException)
        {
        }
        catch (OverflowException)
        {
        }
        error = $"\"{name}\" must be an ISO 8601 duration such as \"PT10M\" or \"P1DT2H\", or a number of seconds, within {MaxDuration.TotalDays:0} days either way.";
        return false;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$")]
    private static partial System.Text.RegularExpressions.Regex Rfc3339WithOffset();
}

using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Actors.Handlers;
using Actors.Http.Webhooks;

namespace Actors.Http;

/// <summary>
/// A batched webhook type (<see cref="WebhookOptions.Batched"/>): one POST carries the batch as a JSON array,
/// <c>[{"id":1,"attempt":1,"type":"log","payload":{…},"headers":{…}}, …]</c> (a payload that is not JSON is embedded
/// as <c>{"base64":"…"}</c>), with <c>X-Actors-Queue</c>, <c>X-Actors-Batch-Size</c> and the signature of the whole
/// body. A non-2xx answer fails every message as it fails a single one (429 retries after <c>Retry-After</c>, 5xx by
/// the policy, 3xx and other 4xx dead-letter). A 2xx answer completes every message, unless its body is a JSON array
/// of outcomes: <c>{"id":1,"ok":true,"result":…}</c> completes message 1 with that result;
/// <c>{"id":2,"ok":false,"error":"…"}</c> fails it (retried by the policy; <c>"deadLetter":true</c> dead-letters it,
/// <c>"retryAfter":seconds</c> retries it after that delay); a message the array leaves out fails with
/// <see cref="BatchOutcomeMissingException"/>. An array of outcomes longer than <see cref="WebhookOptions.MaxResponseBytes"/>
/// or not valid JSON fails every message.
/// </summary>
internal static class WebhookBatch
{
    /// <summary>The request header that counts the messages of the batch.</summary>
    public const string BatchSizeHeader = "X-Actors-Batch-Size";

    /// <summary>POSTs <paramref name="batch"/> and reports each message's outcome from the answer.</summary>
    public static async ValueTask SendAsync(HttpClient client, WebhookHandler.Webhook webhook, TimeSpan maxDelay, MessageBatch<ReadOnlyMemory<byte>> batch, CancellationToken cancellationToken)
    {
        var options = webhook.Options;
        var uri = WebhookHandler.ResolveUrl(webhook, batch[0].Context);
        var body = Body(batch);

        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ReadOnlyMemoryContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-Actors-Queue", batch[0].Context.QueueId);
        request.Headers.Add(BatchSizeHeader, batch.Count.ToString(CultureInfo.InvariantCulture));
        WebhookHandler.Sign(request, options.Secret, body.Span);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) throw WebhookHandler.FailureOf(response, uri, maxDelay);
            var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var (answer, truncated) = await CappedBody.ReadPrefixAsync(stream, options.MaxResponseBytes, timeout.Token).ConfigureAwait(false);
                Report(batch, answer, truncated, uri, maxDelay);
            }
        }
        catch (Exception e) when (WebhookHandler.Unsent(e, uri, options, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>The request body: one object per message, in the batch's order.</summary>
    internal static ReadOnlyMemory<byte> Body(IReadOnlyList<BatchItem<ReadOnlyMemory<byte>>> batch)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var item in batch)
            {
                var context = item.Context;
                json.WriteStartObject();
                json.WriteNumber("id", context.MessageId);
                json.WriteNumber("attempt", context.Attempt);
                json.WriteString("type", context.Type);
                json.WritePropertyName("payload");
                if (IsJson(item.Payload.Span)) json.WriteRawValue(item.Payload.Span, skipInputValidation: true);
                else
                {
                    json.WriteStartObject();
                    json.WriteBase64String("base64", item.Payload.Span);
                    json.WriteEndObject();
                }
                json.WriteStartObject("headers");
                foreach (var (name, value) in context.Headers) json.WriteString(name, value);
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        return buffer.WrittenMemory;
    }

    /// <summary>Reports every message from a 2xx answer (see the class summary).</summary>
    internal static void Report(MessageBatch<ReadOnlyMemory<byte>> batch, ReadOnlyMemory<byte> answer, bool truncated, Uri uri, TimeSpan maxDelay)
    {
        if (!StartsAnArray(answer.Span))
        {
            batch.SucceedRemaining();
            return;
        }
        if (truncated) throw new InvalidDataException($"The webhook {uri} answered with outcomes longer than MaxResponseBytes; they could not be read.");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(answer);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The webhook {uri} answered with outcomes that are not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            var byId = new Dictionary<long, BatchItem<ReadOnlyMemory<byte>>>(batch.Count);
            foreach (var item in batch) byId[item.Context.MessageId] = item;
            foreach (var outcome in document.RootElement.EnumerateArray())
            {
                if (outcome.ValueKind != JsonValueKind.Object
                    || !outcome.TryGetProperty("id", out var id) || !id.TryGetInt64(out var messageId)
                    || !byId.TryGetValue(messageId, out var item)) continue;
                if (outcome.TryGetProperty("ok", out var ok) && ok.ValueKind == JsonValueKind.True)
                {
                    item.Succeed(outcome.TryGetProperty("result", out var result) && result.ValueKind != JsonValueKind.Null
                        ? new ReadOnlyMemory<byte>(JsonSerializer.SerializeToUtf8Bytes(result))
                        : null);
                    continue;
                }
                item.Fail(ItemFailure(outcome, uri, maxDelay));
            }
        }
    }

    private static Exception ItemFailure(JsonElement outcome, Uri uri, TimeSpan maxDelay)
    {
        var error = outcome.TryGetProperty("error", out var text) && text.ValueKind == JsonValueKind.String ? text.GetString() : null;
        var detail = $"The webhook {uri} failed the message: {error ?? "no error given"}.";
        if (outcome.TryGetProperty("deadLetter", out var dead) && dead.ValueKind == JsonValueKind.True) return new DeadLetterException(detail);
        if (outcome.TryGetProperty("retryAfter", out var after) && after.TryGetDouble(out var seconds) && seconds >= 0)
            return new RetryLaterException(TimeSpan.FromSeconds(Math.Min(seconds, maxDelay.TotalSeconds)), detail);
        return new WebhookItemFailedException(detail);
    }

    private static bool StartsAnArray(ReadOnlySpan<byte> body)
    {
        var start = body.IndexOfAnyExcept(" \t\r\n"u8);
        return start >= 0 && body[start] == (byte)'[';
    }

    private static bool IsJson(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty) return false;
        try
        {
            var reader = new Utf8JsonReader(payload);
            while (reader.Read()) { }
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

/// <summary>A batched webhook's answer failed one message (<c>"ok": false</c>); it is retried by the queue's policy.</summary>
public sealed class WebhookItemFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WebhookItemFailedException() { }

    /// <summary>Creates the exception.</summary>
    public WebhookItemFailedException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public WebhookItemFailedException(string message, Exception innerException) : base(message, innerException) { }
}

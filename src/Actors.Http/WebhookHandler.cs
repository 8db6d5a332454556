using System.Net;
using System.Net.Http.Headers;
using Actors.Handlers;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Http;

/// <summary>One webhook message type: where its payloads are POSTed.</summary>
public sealed class WebhookOptions
{
    /// <summary>The URL the payload is POSTed to. Required unless <see cref="AllowUrlPerMessage"/> and every message carries one.</summary>
    public string? Url { get; set; }

    /// <summary>How long one attempt may take. Default 30 s; range 1 s – 10 min.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>When true, a message's <c>webhook-url</c> header overrides <see cref="Url"/>. Default false.</summary>
    public bool AllowUrlPerMessage { get; set; }
}

/// <summary>
/// Runs messages by POSTing their payload to a URL: 2xx is success (the response body is the result), 429, 5xx,
/// timeouts and connection errors are retried by the queue's policy (429 honours <c>Retry-After</c>), any other
/// 4xx is dead-lettered. Requests carry <c>X-Actors-Queue</c>, <c>X-Actors-Message-Id</c>, <c>X-Actors-Attempt</c>
/// and <c>Idempotency-Key: {queue}:{id}</c> so the receiver can deduplicate redeliveries.
/// </summary>
public static class WebhookHandler
{
    /// <summary>The name of the <see cref="HttpClient"/> the handler uses.</summary>
    public const string HttpClientName = "actors-webhook";

    /// <summary>The message header that names a per-message URL.</summary>
    public const string UrlHeader = "webhook-url";

    /// <summary>Registers a webhook handler for each configured type.</summary>
    public static void Register(HandlerRegistry handlers, IReadOnlyDictionary<string, WebhookOptions> webhooks)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        ArgumentNullException.ThrowIfNull(webhooks);
        foreach (var (type, options) in webhooks)
        {
            if (options.Url is null && !options.AllowUrlPerMessage) throw new ArgumentException($"Webhook '{type}' needs a Url (or AllowUrlPerMessage).");
            if (options.Timeout < TimeSpan.FromSeconds(1) || options.Timeout > TimeSpan.FromMinutes(10)) throw new ArgumentException($"Webhook '{type}': Timeout must be 1 s – 10 min.");
            handlers.Add<ReadOnlyMemory<byte>>(type, (services, payload, context, cancellationToken) =>
                SendAsync(services.GetRequiredService<IHttpClientFactory>(), options, payload, context, cancellationToken));
        }
    }

    private static async ValueTask<object?> SendAsync(IHttpClientFactory factory, WebhookOptions options, ReadOnlyMemory<byte> payload, MessageContext context, CancellationToken cancellationToken)
    {
        var url = options.AllowUrlPerMessage && context.Headers.TryGetValue(UrlHeader, out var own) ? own : options.Url;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new DeadLetterException($"The webhook URL '{url}' is not an absolute http(s) URL.");

        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ReadOnlyMemoryContent(payload) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-Actors-Queue", context.QueueId);
        request.Headers.Add("X-Actors-Message-Id", context.MessageId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("X-Actors-Attempt", context.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("Idempotency-Key", $"{context.QueueId}:{context.MessageId}");

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        HttpResponseMessage response;
        try
        {
            response = await factory.CreateClient(HttpClientName).SendAsync(request, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The webhook {uri} did not answer within {options.Timeout}.");
        }
        using (response)
        {
            var body = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode) return body.Length == 0 ? null : new ReadOnlyMemory<byte>(body);
            var detail = $"The webhook {uri} answered {status} {response.ReasonPhrase}.";
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
                throw new RetryLaterException(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), detail);
            if (status >= 500) throw new HttpRequestException(detail, null, response.StatusCode);
            throw new DeadLetterException(detail);
        }
    }
}

using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Actors.Configuration;
using Actors.Handlers;
using Actors.Http.Webhooks;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Http;

/// <summary>
/// Runs messages by POSTing their payload to a URL: 2xx is success (the response body, capped, is the result), 429,
/// 5xx, timeouts and connection errors are retried by the queue's policy (429 honours <c>Retry-After</c> up to the
/// queue's <see cref="RetryPolicy.MaxDelay"/>), 3xx (redirects are not followed), any other 4xx, a refused address and
/// a per-message URL outside the allowed prefixes are dead-lettered. Requests carry <c>X-Actors-Queue</c>,
/// <c>X-Actors-Message-Id</c>, <c>X-Actors-Attempt</c> and <c>Idempotency-Key: {queue}:{id}</c> so the receiver can
/// deduplicate redeliveries, and a signature when the type has a <see cref="WebhookOptions.Secret"/>. A type declared
/// <see cref="WebhookOptions.Batched"/> POSTs its messages several at a time as one JSON array (see <see cref="WebhookBatch"/>).
/// </summary>
public static class WebhookHandler
{
    /// <summary>The prefix of the named <see cref="HttpClient"/>s the handler uses: one per type, <c>actors-webhook:{type}</c>.</summary>
    public const string HttpClientName = "actors-webhook";

    /// <summary>The message header that names a per-message URL.</summary>
    public const string UrlHeader = "webhook-url";

    /// <summary>The cap of a <c>Retry-After</c> delay for a queue that is not declared (its options unknown here): 1 h.</summary>
    public static readonly TimeSpan UndeclaredQueueRetryAfterCap = TimeSpan.FromHours(1);

    /// <summary>The name of the <see cref="HttpClient"/> of webhook type <paramref name="type"/>.</summary>
    public static string ClientName(string type) => $"{HttpClientName}:{type}";

    /// <summary>
    /// Registers a webhook handler in <paramref name="queues"/>' handlers for each configured type, and for each a
    /// named <see cref="HttpClient"/> whose connections are guarded (<see cref="WebhookOptions.AllowedNetworks"/>)
    /// and which follows no redirect. Throws <see cref="ArgumentException"/> naming the type when an option is out of range.
    /// </summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services, DurableQueuesOptions queues, IReadOnlyDictionary<string, WebhookOptions> webhooks)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(queues);
        ArgumentNullException.ThrowIfNull(webhooks);
        foreach (var (type, options) in webhooks)
        {
            var webhook = Validate(type, options);
            services.AddHttpClient(ClientName(type)).ConfigurePrimaryHttpMessageHandler(() => GuardedConnector.CreateHandler(webhook.Addresses));
            if (options.Batched)
            {
                queues.Handlers.AddBatch<ReadOnlyMemory<byte>>(type, (provider, batch, cancellationToken) =>
                    WebhookBatch.SendAsync(provider.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName(type)), webhook, MaxDelayOf(queues, batch[0].Context.QueueId), batch, cancellationToken),
                    new BatchOptions { BatchSize = options.BatchSize, BatchWait = options.BatchWait });
                continue;
            }
            queues.Handlers.Add<ReadOnlyMemory<byte>>(type, (provider, payload, context, cancellationToken) =>
                SendAsync(provider.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName(type)), webhook, MaxDelayOf(queues, context.QueueId), payload, context, cancellationToken));
        }
        return services;
    }

    /// <summary>A validated webhook type.</summary>
    internal sealed record Webhook(WebhookOptions Options, AddressPolicy Addresses, UrlPrefixes Prefixes);

    private static Webhook Validate(string type, WebhookOptions options)
    {
        var owner = $"Webhook '{type}'";
        if (options.Url is null && !options.AllowUrlPerMessage) throw new ArgumentException($"{owner} needs a Url (or AllowUrlPerMessage).");
        if (options.Timeout < TimeSpan.FromSeconds(1) || options.Timeout > TimeSpan.FromMinutes(10)) throw new ArgumentException($"{owner}: Timeout must be 1 s – 10 min.");
        if (options.MaxResponseBytes is < WebhookOptions.MinResponseBytes or > WebhookOptions.MaxResponseBytesLimit)
            throw new ArgumentException($"{owner}: MaxResponseBytes must be {WebhookOptions.MinResponseBytes} – {WebhookOptions.MaxResponseBytesLimit}, was {options.MaxResponseBytes}.");
        if (options.Secret is { Length: < 16 }) throw new ArgumentException($"{owner}: Secret must be at least 16 characters.");
        var prefixes = UrlPrefixes.Parse(options.AllowedUrlPrefixes, owner);
        if (options.AllowUrlPerMessage && prefixes.IsEmpty)
            throw new ArgumentException($"{owner}: AllowUrlPerMessage needs AllowedUrlPrefixes, the URL prefixes a message may pick from.");
        if (options.Batched)
        {
            if (options.AllowUrlPerMessage) throw new ArgumentException($"{owner}: Batched cannot be combined with AllowUrlPerMessage (a batch is one POST to one URL).");
            new BatchOptions { BatchSize = options.BatchSize, BatchWait = options.BatchWait }.Validate(type);
        }
        return new Webhook(options, AddressPolicy.Parse(options.AllowedNetworks, owner), prefixes);
    }

    private static TimeSpan MaxDelayOf(DurableQueuesOptions queues, string queue) =>
        queues.Queues.TryGetValue(queue, out var options) ? options.Retry.MaxDelay : UndeclaredQueueRetryAfterCap;

    /// <summary>The URL a message goes to: its own (when allowed and given) or the type's; dead-letters when neither is usable.</summary>
    internal static Uri ResolveUrl(Webhook webhook, MessageContext context)
    {
        if (webhook.Options.AllowUrlPerMessage && context.Headers.TryGetValue(UrlHeader, out var own))
        {
            if (!TryHttpUrl(own, out var chosen)) throw new DeadLetterException($"The webhook URL '{own}' is not an absolute http(s) URL.");
            if (!webhook.Prefixes.Admits(chosen)) throw new DeadLetterException($"The webhook URL '{own}' is outside the type's AllowedUrlPrefixes.");
            return chosen;
        }
        if (!TryHttpUrl(webhook.Options.Url, out var configured))
            throw new DeadLetterException(webhook.Options.Url is null
                ? $"The message has no '{UrlHeader}' header and the webhook type has no Url."
                : $"The webhook URL '{webhook.Options.Url}' is not an absolute http(s) URL.");
        return configured;
    }

    private static bool TryHttpUrl(string? url, out Uri uri) =>
        Uri.TryCreate(url, UriKind.Absolute, out uri!) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    private static async ValueTask<object?> SendAsync(HttpClient client, Webhook webhook, TimeSpan maxDelay, ReadOnlyMemory<byte> payload, MessageContext context, CancellationToken cancellationToken)
    {
        var options = webhook.Options;
        var uri = ResolveUrl(webhook, context);

        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ReadOnlyMemoryContent(payload) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-Actors-Queue", context.QueueId);
        request.Headers.Add("X-Actors-Message-Id", context.MessageId.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("X-Actors-Attempt", context.Attempt.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("Idempotency-Key", $"{context.QueueId}:{context.MessageId}");
        Sign(request, options.Secret, payload.Span);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) throw FailureOf(response, uri, maxDelay);
            var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                var result = await CappedBody.ReadAsync(body, options.MaxResponseBytes, timeout.Token).ConfigureAwait(false);
                return result;
            }
        }
        catch (Exception e) when (Unsent(e, uri, options, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>Adds the signature headers when the type has a secret.</summary>
    internal static void Sign(HttpRequestMessage request, string? secret, ReadOnlySpan<byte> body)
    {
        if (secret is null) return;
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Compute(secret, timestamp, body));
    }

    /// <summary>
    /// What a non-2xx answer means: 3xx (not followed) and other 4xx dead-letter, 429 retries after its
    /// <c>Retry-After</c> (capped at <paramref name="maxDelay"/>), 5xx retries by the policy.
    /// </summary>
    internal static Exception FailureOf(HttpResponseMessage response, Uri uri, TimeSpan maxDelay)
    {
        var status = (int)response.StatusCode;
        var detail = $"The webhook {uri} answered {status} {response.ReasonPhrase}.";
        if (status is >= 300 and < 400)
            return new DeadLetterException($"{detail} Redirects are not followed (Location: {response.Headers.Location?.ToString() ?? "none"}); configure the final URL.");
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
            return new RetryLaterException(RetryAfter(response.Headers.RetryAfter, maxDelay), detail);
        if (status >= 500) return new HttpRequestException(detail, null, response.StatusCode);
        return new DeadLetterException(detail);
    }

    /// <summary>
    /// A request that failed before an answer: a refused address dead-letters, the type's timeout (not the delivery's
    /// token) becomes a <see cref="TimeoutException"/>; null for any other exception, which passes as it is.
    /// </summary>
    internal static Exception? Unsent(Exception error, Uri uri, WebhookOptions options, CancellationToken delivery) => error switch
    {
        HttpRequestException { InnerException: AddressRefusedException refused } => new DeadLetterException(refused.Message, refused),
        OperationCanceledException when !delivery.IsCancellationRequested => new TimeoutException($"The webhook {uri} did not answer within {options.Timeout}."),
        _ => null,
    };

    /// <summary>The delay a 429's <c>Retry-After</c> asks for (1 s when it names none), never more than <paramref name="cap"/>.</summary>
    internal static TimeSpan RetryAfter(RetryConditionHeaderValue? header, TimeSpan cap)
    {
        var asked = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : TimeSpan.FromSeconds(1));
        if (asked < TimeSpan.Zero) asked = TimeSpan.Zero;
        return asked > cap ? cap : asked;
    }
}

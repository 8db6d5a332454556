namespace Actors.Http;

/// <summary>One webhook message type (<c>Actors:Webhooks:{type}</c>): where its payloads are POSTed and what the request may reach.</summary>
public sealed class WebhookOptions
{
    /// <summary>The smallest <see cref="MaxResponseBytes"/>: 1 KiB.</summary>
    public const int MinResponseBytes = 1024;

    /// <summary>The largest <see cref="MaxResponseBytes"/>: 16 MiB.</summary>
    public const int MaxResponseBytesLimit = 16 * 1024 * 1024;

    /// <summary>
    /// The URL the payload is POSTed to, used as configured (it need not match <see cref="AllowedUrlPrefixes"/>, but
    /// the addresses it resolves to are checked like any other). Required unless <see cref="AllowUrlPerMessage"/>
    /// and every message carries one. Default: none.
    /// </summary>
    public string? Url { get; set; }

    /// <summary>How long one attempt may take, connect and response body included. Default 30 s; range 1 s – 10 min.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// When true, a message's <c>webhook-url</c> header overrides <see cref="Url"/>; the URL must fall under one of
    /// <see cref="AllowedUrlPrefixes"/> (required then), or the message is dead-lettered. Default false.
    /// </summary>
    public bool AllowUrlPerMessage { get; set; }

    /// <summary>
    /// The absolute http(s) URL prefixes a per-message URL must fall under: same scheme, host and port, and a path
    /// under the prefix's at a segment boundary (<c>https://hooks.example.com/in</c> admits <c>/in/x</c>, not
    /// <c>/inbox</c>). Required (non-empty) when <see cref="AllowUrlPerMessage"/> is true. Default: empty.
    /// </summary>
    public IList<string> AllowedUrlPrefixes { get; set; } = new List<string>();

    /// <summary>
    /// CIDR networks (<c>127.0.0.0/8</c>, <c>10.1.0.0/16</c>, <c>fd00::/8</c>) the webhook may connect to although
    /// they are restricted: loopback, private (RFC 1918), shared (100.64.0.0/10), link-local (169.254.0.0/16, where
    /// cloud metadata lives; fe80::/10), unique-local (fc00::/7), multicast and reserved ranges are refused
    /// otherwise. Checked on the address actually connected to, for every request. Default: empty (public addresses only).
    /// </summary>
    public IList<string> AllowedNetworks { get; set; } = new List<string>();

    /// <summary>
    /// The largest response body stored as the result; a longer body is cut, the rest never read, and the result is
    /// <c>{"truncated":true,"bytes":n,"body":"&lt;base64 of the first n bytes&gt;"}</c>. Default 32768 (32 KiB), so
    /// even a truncated result (4/3 of it plus 50 bytes) fits the queue's default <c>MaxResultBytes</c> (64 KiB); range
    /// 1 KiB – 16 MiB (raise the queue's <c>MaxResultBytes</c> with it, or larger results are dead-lettered as too large).
    /// </summary>
    public int MaxResponseBytes { get; set; } = 32 * 1024;

    /// <summary>
    /// The HMAC key that signs deliveries: when set, requests carry <c>X-Actors-Timestamp</c> (unix seconds) and
    /// <c>X-Actors-Signature: v1=&lt;hex HMAC-SHA256(secret, "{timestamp}.{body}")&gt;</c> (see
    /// <see cref="Webhooks.WebhookSignature"/>). At least 16 characters; take it from a secret store or the
    /// environment (<c>Actors__Webhooks__{type}__Secret</c>). Default: none (unsigned).
    /// </summary>
    public string? Secret { get; set; }

    /// <summary>
    /// When true, messages of the type are POSTed several at a time, as one JSON array of
    /// <c>{"id","attempt","type","payload","headers"}</c>; the answer may name an outcome per message (see
    /// <see cref="WebhookBatch"/>). Cannot be combined with <see cref="AllowUrlPerMessage"/>. Default false.
    /// </summary>
    public bool Batched { get; set; }

    /// <summary>With <see cref="Batched"/>: most messages in one POST. Default 10; range 1–1000.</summary>
    public int BatchSize { get; set; } = 10;

    /// <summary>With <see cref="Batched"/>: longest a worker waits for a batch to fill before it POSTs what it holds. Default 100 ms; range 0–10 s.</summary>
    public TimeSpan BatchWait { get; set; } = TimeSpan.FromMilliseconds(100);
}

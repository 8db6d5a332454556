using Actors.Core.Tests;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Actors.Node.Tests;

/// <summary>
/// The webhook handler against a local receiver on 127.0.0.1: 2xx succeeds with the body as result, 5xx retries, 4xx
/// dead-letters; loopback is refused unless the type allows 127.0.0.0/8, redirects are not followed, a huge response is
/// stored capped, a per-message URL must fall under the allowed prefixes, deliveries are signed, Retry-After is capped.
/// </summary>
public sealed class WebhookTests : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, int> _calls = new();
    private readonly ConcurrentQueue<string> _seenHeaders = new();
    private const string Secret = "whsec_0123456789abcdef";
    private const int HugeBytes = 100 * 1024 * 1024;
    private WebApplication _receiver = null!;
    private NodeFactory _node = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _receiver = builder.Build();
        _receiver.MapPost("/huge", async (HttpContext http) =>
        {
            _calls.AddOrUpdate("huge", 1, (_, n) => n + 1);
            http.Response.ContentType = "application/octet-stream";
            http.Response.ContentLength = HugeBytes;
            var chunk = Enumerable.Repeat((byte)'x', 64 * 1024).ToArray();
            try
            {
                for (var sent = 0; sent < HugeBytes; sent += chunk.Length) await http.Response.Body.WriteAsync(chunk, http.RequestAborted);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
                // The node stopped reading at its cap and dropped the connection.
            }
        });
        _receiver.MapPost("/signed", async (HttpRequest request) =>
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer);
            var valid = IsFromActors(Secret, request.Headers["X-Actors-Timestamp"], request.Headers["X-Actors-Signature"], buffer.ToArray());
            var tampered = IsFromActors(Secret, request.Headers["X-Actors-Timestamp"], request.Headers["X-Actors-Signature"], [.. buffer.ToArray(), (byte)' ']);
            return valid && !tampered ? Results.Json(new { verified = true }) : Results.StatusCode(401);
        });
        _receiver.MapPost("/{behaviour}/{*rest}", (string behaviour, HttpRequest request) =>
        {
            var calls = _calls.AddOrUpdate(behaviour, 1, (_, n) => n + 1);
            _seenHeaders.Enqueue($"{request.Headers["X-Actors-Queue"]}|{request.Headers["X-Actors-Message-Id"]}|{request.Headers["X-Actors-Attempt"]}|{request.Headers["Idempotency-Key"]}");
            return behaviour switch
            {
                "ok" => Results.Json(new { handled = true }),
                "flaky" when calls < 3 => Results.StatusCode(503),
                "flaky" => Results.Json(new { handledOnAttempt = calls }),
                "routed" => Results.Json(new { routed = request.Path.Value }),
                "redirect" => Results.Redirect(_receiver.Urls.Single() + "/target", permanent: false, preserveMethod: true),
                "throttled" when calls == 1 => WithRetryAfter(request, Results.Text("slow down", statusCode: 429)),
                "throttled" => Results.Json(new { handledOnAttempt = calls }),
                _ => Results.StatusCode(400),
            };
        });
        await _receiver.StartAsync();
        var url = _receiver.Urls.Single();
        var settings = new Dictionary<string, string?>
        {
            ["Actors:Queues:hooks:Retry:BaseDelay"] = "00:00:00.050",
            ["Actors:Queues:hooks:Retry:MaxDelay"] = "00:00:00.100",
            ["Actors:Queues:paced:Retry:BaseDelay"] = "00:00:00.050",
            ["Actors:Queues:paced:Retry:MaxDelay"] = "00:00:00.100",
            ["Actors:Queues:paced:RetryLaterCountsAsAttempt"] = "false",
            // No AllowedNetworks: the receiver's loopback address is refused.
            ["Actors:Webhooks:blocked:Url"] = url + "/blocked",
            ["Actors:Webhooks:routed:AllowUrlPerMessage"] = "true",
            ["Actors:Webhooks:routed:AllowedUrlPrefixes:0"] = url + "/routed",
            ["Actors:Webhooks:signed:Secret"] = Secret,
        };
        foreach (var type in new[] { "ok", "flaky", "rejects", "redirect", "huge", "signed", "throttled" }) settings[$"Actors:Webhooks:{type}:Url"] = $"{url}/{type}";
        foreach (var type in new[] { "ok", "flaky", "rejects", "redirect", "huge", "signed", "throttled", "routed" }) settings[$"Actors:Webhooks:{type}:AllowedNetworks:0"] = "127.0.0.0/8";
        _node = new NodeFactory(settings);
        _http = _node.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _node.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private static IResult WithRetryAfter(HttpRequest request, IResult result)
    {
        request.HttpContext.Response.Headers.RetryAfter = "3600";
        return result;
    }

    /// <summary>The verification snippet of the README, as a receiver would write it.</summary>
    private static bool IsFromActors(string secret, string? timestamp, string? signature, byte[] body)
    {
        if (!long.TryParse(timestamp, out var seconds) || signature is null) return false;
        if (Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - seconds) > 300) return false; // reject replays older than 5 min
        byte[] signed = [.. Encoding.UTF8.GetBytes(timestamp + "."), .. body];
        var expected = "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(signature));
    }

    private async Task<JsonObject> Settle(string type, string? webhookUrl = null, string queue = "hooks")
    {
        var headers = webhookUrl is null ? "" : $",\"headers\":{{\"webhook-url\":\"{webhookUrl}\"}}";
        var response = await _http.PostAsync($"/queues/{queue}/messages", new StringContent($"{{\"type\":\"{type}\",\"payload\":{{\"x\":1}}{headers}}}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<long>();
        JsonObject message = null!;
        if (await Poll.WaitFor(async () => (message = (await _http.GetFromJsonAsync<JsonObject>($"/queues/{queue}/messages/{id}"))!)["status"]!.GetValue<string>() is "succeeded" or "dead-lettered",
                TimeSpan.FromSeconds(20)))
            return message;
        throw new TimeoutException($"message {id} still {message["status"]}");
    }

    [Fact]
    public async Task A_2xx_answer_completes_the_message_with_the_response_as_result()
    {
        var message = await Settle("ok");
        Assert.Equal("succeeded", message["status"]!.GetValue<string>());
        Assert.Equal("{\"handled\":true}", message["result"]!.ToJsonString());
        var id = message["id"]!.GetValue<long>();
        Assert.Contains($"hooks|{id}|1|hooks:{id}", _seenHeaders);
    }

    [Fact]
    public async Task A_5xx_answer_is_retried_until_it_succeeds()
    {
        var message = await Settle("flaky");
        Assert.Equal(("succeeded", 3), (message["status"]!.GetValue<string>(), message["attempts"]!.GetValue<int>()));
        Assert.Equal("{\"handledOnAttempt\":3}", message["result"]!.ToJsonString());
    }

    [Fact]
    public async Task A_4xx_answer_dead_letters_at_once()
    {
        var message = await Settle("rejects");
        Assert.Equal(("dead-lettered", 1), (message["status"]!.GetValue<string>(), message["attempts"]!.GetValue<int>()));
        Assert.Contains("400", message["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, _calls["rejects"]);
    }

    private static string FirstError(JsonObject message) => message["errors"]![0]!["message"]!.GetValue<string>();

    [Fact]
    public async Task A_loopback_receiver_is_refused_without_AllowedNetworks()
    {
        var message = await Settle("blocked");
        Assert.Equal(("dead-lettered", 1), (message["status"]!.GetValue<string>(), message["attempts"]!.GetValue<int>()));
        Assert.Contains("127.0.0.1 is a loopback address", FirstError(message), StringComparison.Ordinal);
        Assert.False(_calls.ContainsKey("blocked"));
    }

    [Fact]
    public async Task A_redirect_is_not_followed_and_dead_letters()
    {
        var message = await Settle("redirect");
        Assert.Equal(("dead-lettered", 1), (message["status"]!.GetValue<string>(), message["attempts"]!.GetValue<int>()));
        Assert.Contains("Redirects are not followed", FirstError(message), StringComparison.Ordinal);
        Assert.Equal(1, _calls["redirect"]);
        Assert.False(_calls.ContainsKey("target"));
    }

    [Fact]
    public async Task A_100_MB_response_is_stored_capped_and_flagged()
    {
        var message = await Settle("huge");
        Assert.Equal("succeeded", message["status"]!.GetValue<string>());
        var result = message["result"]!.AsObject();
        Assert.True(result["truncated"]!.GetValue<bool>());
        Assert.Equal(32 * 1024, result["bytes"]!.GetValue<int>());
        var kept = Convert.FromBase64String(result["body"]!.GetValue<string>());
        Assert.Equal(32 * 1024, kept.Length);
        Assert.All(kept, b => Assert.Equal((byte)'x', b));
        // The stored result is the cap in base64 plus a small envelope, not 100 MB.
        Assert.InRange(Encoding.UTF8.GetByteCount(result.ToJsonString()), 1, (32 * 1024 * 4 / 3) + 100);
    }

    [Fact]
    public async Task A_per_message_URL_outside_the_allowed_prefixes_is_dead_lettered()
    {
        var url = _receiver.Urls.Single();
        var outside = await Settle("routed", url + "/ok");
        Assert.Equal(("dead-lettered", 1), (outside["status"]!.GetValue<string>(), outside["attempts"]!.GetValue<int>()));
        Assert.Contains("outside the type's AllowedUrlPrefixes", FirstError(outside), StringComparison.Ordinal);
        Assert.False(_calls.ContainsKey("ok"));

        var inside = await Settle("routed", url + "/routed/orders");
        Assert.Equal("succeeded", inside["status"]!.GetValue<string>());
        Assert.Equal("{\"routed\":\"/routed/orders\"}", inside["result"]!.ToJsonString());
    }

    [Fact]
    public async Task A_signed_delivery_verifies_with_the_documented_algorithm()
    {
        var message = await Settle("signed");
        Assert.Equal("succeeded", message["status"]!.GetValue<string>());
        Assert.Equal("{\"verified\":true}", message["result"]!.ToJsonString());
    }

    [Fact]
    public async Task A_429_Retry_After_is_capped_at_the_queue_MaxDelay()
    {
        // The receiver asks for an hour; the queue's MaxDelay is 100 ms, so the second attempt comes within the settle deadline.
        var message = await Settle("throttled");
        Assert.Equal(("succeeded", 2), (message["status"]!.GetValue<string>(), message["attempts"]!.GetValue<int>()));
    }

    [Fact]
    public async Task A_429_on_a_queue_where_push_back_does_not_count_is_retried_with_the_same_attempt()
    {
        var message = await Settle("throttled", queue: "paced");
        Assert.Equal(("succeeded", 1), (message["status"]!.GetValue<string>(), message["attempts"]!.GetValue<int>()));
        var id = message["id"]!.GetValue<long>();
        Assert.Equal(2, _seenHeaders.Count(h => h.StartsWith($"paced|{id}|1|", StringComparison.Ordinal)));
    }
}

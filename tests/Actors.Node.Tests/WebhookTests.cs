using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Actors.Node.Tests;

/// <summary>The webhook handler against a local receiver: 2xx succeeds with the body as result, 5xx retries, 4xx dead-letters.</summary>
public sealed class WebhookTests : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, int> _calls = new();
    private readonly ConcurrentQueue<string> _seenHeaders = new();
    private WebApplication _receiver = null!;
    private NodeFactory _node = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _receiver = builder.Build();
        _receiver.MapPost("/{behaviour}", (string behaviour, HttpRequest request) =>
        {
            var calls = _calls.AddOrUpdate(behaviour, 1, (_, n) => n + 1);
            _seenHeaders.Enqueue($"{request.Headers["X-Actors-Queue"]}|{request.Headers["X-Actors-Message-Id"]}|{request.Headers["X-Actors-Attempt"]}|{request.Headers["Idempotency-Key"]}");
            return behaviour switch
            {
                "ok" => Results.Json(new { handled = true }),
                "flaky" when calls < 3 => Results.StatusCode(503),
                "flaky" => Results.Json(new { handledOnAttempt = calls }),
                _ => Results.StatusCode(400),
            };
        });
        await _receiver.StartAsync();
        var url = _receiver.Urls.Single();
        _node = new NodeFactory(new Dictionary<string, string?>
        {
            ["Actors:Queues:hooks:Retry:BaseDelay"] = "00:00:00.050",
            ["Actors:Queues:hooks:Retry:MaxDelay"] = "00:00:00.100",
            ["Actors:Webhooks:ok:Url"] = url + "/ok",
            ["Actors:Webhooks:flaky:Url"] = url + "/flaky",
            ["Actors:Webhooks:rejects:Url"] = url + "/rejects",
        });
        _http = _node.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _node.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private async Task<JsonObject> Settle(string type)
    {
        var response = await _http.PostAsync("/queues/hooks/messages", new StringContent($"{{\"type\":\"{type}\",\"payload\":{{\"x\":1}}}}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<long>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var message = (await _http.GetFromJsonAsync<JsonObject>($"/queues/hooks/messages/{id}"))!;
            var status = message["status"]!.GetValue<string>();
            if (status is "succeeded" or "dead-lettered") return message;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"message {id} still {status}");
            await Task.Delay(20);
        }
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
}

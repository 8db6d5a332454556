using Actors.Configuration;
using Actors.Core.Tests;
using Actors.Http;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Node.Tests;

/// <summary>
/// Batched webhook types against a local receiver on 127.0.0.1: one POST carries the batch as a JSON array, a plain
/// 2xx completes every message, an array of outcomes completes, retries or dead-letters each one, a 5xx retries them all.
/// </summary>
public sealed class WebhookBatchTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<(string Path, string? BatchSize, JsonArray Items)> _posts = new();
    private readonly ConcurrentDictionary<string, int> _calls = new();
    private WebApplication _receiver = null!;
    private NodeFactory _node = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _receiver = builder.Build();
        _receiver.MapPost("/{behaviour}", async (string behaviour, HttpRequest request) =>
        {
            var items = (await JsonNode.ParseAsync(request.Body))!.AsArray();
            _posts.Enqueue((behaviour, request.Headers["X-Actors-Batch-Size"], items));
            var calls = _calls.AddOrUpdate(behaviour, 1, (_, n) => n + 1);
            return behaviour switch
            {
                "down" when calls == 1 => Results.StatusCode(503),
                "sorted" => Results.Json(items.Select(item => Outcome(item!)).OfType<JsonObject>().ToArray()),
                _ => Results.Json(new { stored = items.Count }),
            };
        });
        await _receiver.StartAsync();
        var url = _receiver.Urls.Single();
        var settings = new Dictionary<string, string?>();
        foreach (var type in new[] { "logs", "sorted", "down" })
        {
            settings[$"Actors:Queues:{type}:Workers"] = "1";
            settings[$"Actors:Queues:{type}:Retry:BaseDelay"] = "00:00:00.050";
            settings[$"Actors:Queues:{type}:Retry:MaxDelay"] = "00:00:00.100";
            settings[$"Actors:Webhooks:{type}:Url"] = $"{url}/{type}";
            settings[$"Actors:Webhooks:{type}:AllowedNetworks:0"] = "127.0.0.0/8";
            settings[$"Actors:Webhooks:{type}:Batched"] = "true";
            settings[$"Actors:Webhooks:{type}:BatchSize"] = "4";
            settings[$"Actors:Webhooks:{type}:BatchWait"] = "00:00:01";
        }
        _node = new NodeFactory(settings);
        _http = _node.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _node.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    /// <summary>
    /// The "sorted" receiver: n=1 succeeds with a result, n=2 fails its first attempt, n=3 is dead-lettered, n=4 is left
    /// out of the first answer.
    /// </summary>
    private static JsonObject? Outcome(JsonNode item)
    {
        var id = item["id"]!.GetValue<long>();
        var first = item["attempt"]!.GetValue<int>() == 1;
        return item["payload"]!["n"]!.GetValue<int>() switch
        {
            1 => new JsonObject { ["id"] = id, ["ok"] = true, ["result"] = new JsonObject { ["indexed"] = "n1" } },
            2 when first => new JsonObject { ["id"] = id, ["ok"] = false, ["error"] = "index busy" },
            3 => new JsonObject { ["id"] = id, ["ok"] = false, ["error"] = "malformed line", ["deadLetter"] = true },
            4 when first => null,
            _ => new JsonObject { ["id"] = id, ["ok"] = true },
        };
    }

    private async Task<long[]> EnqueueFour(string queue)
    {
        var body = "[" + string.Join(",", Enumerable.Range(1, 4).Select(n => $"{{\"type\":\"{queue}\",\"payload\":{{\"n\":{n}}},\"headers\":{{\"source\":\"app-{n}\"}}}}")) + "]";
        var response = await _http.PostAsync($"/queues/{queue}/messages/batch", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.Content.ReadFromJsonAsync<JsonObject>())!["results"]!.AsArray();
        return results.Select(r => r!["id"]!.GetValue<long>()).ToArray();
    }

    private async Task<JsonObject> Settled(string queue, long id)
    {
        JsonObject message = null!;
        if (await Poll.WaitFor(async () => (message = (await _http.GetFromJsonAsync<JsonObject>($"/queues/{queue}/messages/{id}"))!)["status"]!.GetValue<string>() is "succeeded" or "dead-lettered",
                TimeSpan.FromSeconds(30)))
            return message;
        throw new TimeoutException($"message {id} still {message["status"]}");
    }

    private static (string Status, int Attempts) StatusOf(JsonObject message) => (message["status"]!.GetValue<string>(), message["attempts"]!.GetValue<int>());

    [Fact]
    public async Task A_batched_type_POSTs_its_messages_as_one_array_and_a_plain_2xx_completes_them_all()
    {
        var ids = await EnqueueFour("logs");
        foreach (var id in ids) Assert.Equal(("succeeded", 1), StatusOf(await Settled("logs", id)));

        var (_, size, items) = Assert.Single(_posts, post => post.Path == "logs");
        Assert.Equal("4", size);
        Assert.Equal(ids, items.Select(item => item!["id"]!.GetValue<long>()));
        var first = items[0]!;
        Assert.Equal((1, "logs", 1, "app-1"), (first["attempt"]!.GetValue<int>(), first["type"]!.GetValue<string>(), first["payload"]!["n"]!.GetValue<int>(), first["headers"]!["source"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_array_of_outcomes_completes_retries_or_dead_letters_each_message()
    {
        var ids = await EnqueueFour("sorted");
        var indexed = await Settled("sorted", ids[0]);
        Assert.Equal(("succeeded", 1), StatusOf(indexed));
        Assert.Equal("{\"indexed\":\"n1\"}", indexed["result"]!.ToJsonString());
        Assert.Equal(("succeeded", 2), StatusOf(await Settled("sorted", ids[1])));
        var malformed = await Settled("sorted", ids[2]);
        Assert.Equal(("dead-lettered", 1), StatusOf(malformed));
        Assert.Contains("malformed line", malformed["errors"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(("succeeded", 2), StatusOf(await Settled("sorted", ids[3])));

        // The first POST carried all four; only the two that failed came again.
        var posted = _posts.Where(post => post.Path == "sorted").SelectMany(post => post.Items).Select(item => item!["id"]!.GetValue<long>()).ToArray();
        Assert.Equal(ids, posted.Take(4));
        Assert.Equal(new[] { ids[1], ids[3] }, posted.Skip(4).Order());
    }

    [Fact]
    public async Task A_5xx_answer_retries_every_message_of_the_batch()
    {
        var ids = await EnqueueFour("down");
        foreach (var id in ids) Assert.Equal(("succeeded", 2), StatusOf(await Settled("down", id)));
        Assert.Equal(8, _posts.Where(post => post.Path == "down").Sum(post => post.Items.Count));
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_the_batched_webhook_request_and_its_outcomes()
    {
        var document = (await _http.GetFromJsonAsync<JsonObject>("/openapi/v1.json"))!;
        var post = document["webhooks"]!["batchedWebhook"]!["post"]!;
        var request = post["requestBody"]!["content"]!["application/json"]!["schema"]!;
        Assert.Equal("array", request["type"]!.GetValue<string>());
        Assert.NotNull(request["items"]!["properties"]!["attempt"]);
        Assert.NotNull(post["responses"]!["2XX"]!["content"]!["application/json"]!["schema"]!["items"]!["properties"]!["deadLetter"]);
        Assert.NotNull(document["webhooks"]!["messageWebhook"]!["post"]);
    }

    [Theory]
    [InlineData(true, 10, "AllowUrlPerMessage")]
    [InlineData(false, 0, "BatchSize must be 1–1000")]
    public void A_batched_type_with_a_per_message_URL_or_a_batch_size_out_of_range_is_refused(bool perMessage, int size, string reason)
    {
        var options = new WebhookOptions { Url = "https://hooks.example.com/logs", Batched = true, BatchSize = size, AllowUrlPerMessage = perMessage, AllowedUrlPrefixes = ["https://hooks.example.com"] };
        var error = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddWebhooks(new DurableQueuesOptions(), new Dictionary<string, WebhookOptions> { ["log_line"] = options }));
        Assert.Contains("'log_line'", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }
}

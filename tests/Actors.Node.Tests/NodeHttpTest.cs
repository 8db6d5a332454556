using Actors.Core.Tests;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Actors.Node.Tests;

/// <summary>
/// A test class over one in-process node (<see cref="NodeFactory"/>) with the given settings, and the helpers its HTTP
/// tests share: JSON bodies, problem-details checks, and polling a message until it reaches a status.
/// </summary>
public abstract class NodeHttpTest : IAsyncLifetime
{
    /// <summary>A node with <paramref name="settings"/> on top of the test defaults.</summary>
    protected NodeHttpTest(Dictionary<string, string?> settings) => Node = new NodeFactory(settings);

    /// <summary>The node under test.</summary>
    protected NodeFactory Node { get; }

    /// <summary>A client of the node.</summary>
    protected HttpClient Http { get; private set; } = null!;

    /// <inheritdoc />
    public Task InitializeAsync()
    {
        Http = Node.CreateClient();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Node.DisposeAsync();
    }

    /// <summary>A JSON request body.</summary>
    protected static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>Checks a problem-details answer: status, media type, stable type, a detail; returns it.</summary>
    protected static async Task<JsonObject> Problem(HttpResponseMessage response, HttpStatusCode status, string slug)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(body)!.AsObject();
        Assert.Equal($"urn:actors:problem:{slug}", problem["type"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(problem["detail"]?.GetValue<string>()));
        return problem;
    }

    /// <summary>A JSON answer with the expected status.</summary>
    protected static async Task<JsonObject> Body(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{response.StatusCode}: {body}");
        return JsonNode.Parse(body)!.AsObject();
    }

    /// <summary>Polls a GET route until its JSON satisfies <paramref name="done"/> (a state no event announces), failing after 20 s.</summary>
    protected async Task<JsonObject> AwaitJson(string path, Func<JsonObject, bool> done, string what)
    {
        JsonObject json = null!;
        if (await Poll.WaitFor(async () => done(json = (await Http.GetFromJsonAsync<JsonObject>(path))!), TimeSpan.FromSeconds(20))) return json;
        throw new TimeoutException($"waiting for {what}, {path} answered {json.ToJsonString()}");
    }

    /// <summary>Polls a message until its status is <paramref name="status"/>.</summary>
    protected Task<JsonObject> AwaitStatus(string queue, long id, string status) =>
        AwaitJson($"/queues/{queue}/messages/{id}", m => m["status"]!.GetValue<string>() == status, $"message {id} {status}");
}

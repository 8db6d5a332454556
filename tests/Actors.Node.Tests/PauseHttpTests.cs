using System.Net;
using Actors.Core.Tests;

namespace Actors.Node.Tests;

/// <summary>Pausing and resuming a queue over HTTP, and looking a message up by its idempotency key.</summary>
public sealed class PauseHttpTests() : NodeHttpTest(new Dictionary<string, string?> { ["Actors:Queues:held:Workers"] = "2" })
{
    private async Task<long> PostAsync(string body) =>
        (await Body(await Http.PostAsync("/queues/held/messages", Json(body)), HttpStatusCode.Accepted))["id"]!.GetValue<long>();

    [Fact]
    public async Task A_paused_queue_answers_202_to_producers_starts_nothing_and_runs_everything_once_resumed()
    {
        var paused = await Body(await Http.PostAsync("/queues/held/pause", Json("""{"reason":"deploy"}""")), HttpStatusCode.OK);
        Assert.True(paused["paused"]!.GetValue<bool>());
        Assert.Equal("deploy", paused["pause"]!["reason"]!.GetValue<string>());

        var ids = new List<long>();
        for (var i = 0; i < 3; i++) ids.Add(await PostAsync($"{{\"type\":\"echo\",\"payload\":{{\"n\":{i}}}}}"));
        var stats = await AwaitJson("/queues/held", s => s["depth"]!.GetValue<long>() == 3, "the three to wait");
        Assert.True(stats["paused"]!.GetValue<bool>());
        Assert.Equal("deploy", stats["pause"]!["reason"]!.GetValue<string>());
        Assert.Equal(0, stats["totals"]!["succeeded"]!.GetValue<long>());
        foreach (var id in ids) Assert.Equal("queued", (await Body(await Http.GetAsync($"/queues/held/messages/{id}"), HttpStatusCode.OK))["status"]!.GetValue<string>());

        // Pausing again keeps the first pause.
        Assert.Equal("deploy", (await Body(await Http.PostAsync("/queues/held/pause", null), HttpStatusCode.OK))["pause"]!["reason"]!.GetValue<string>());

        var resumed = await Body(await Http.PostAsync("/queues/held/resume", null), HttpStatusCode.OK);
        Assert.False(resumed["paused"]!.GetValue<bool>());
        foreach (var id in ids) await AwaitStatus("held", id, "succeeded");
        Assert.False((await Body(await Http.GetAsync("/queues/held"), HttpStatusCode.OK))["paused"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Pausing_an_unknown_queue_is_404_and_an_overlong_reason_400()
    {
        await Problem(await Http.PostAsync("/queues/nope/pause", null), HttpStatusCode.NotFound, "unknown-queue");
        await Problem(await Http.PostAsync("/queues/nope/resume", null), HttpStatusCode.NotFound, "unknown-queue");
        await Problem(await Http.PostAsync("/queues/held/pause", Json($$"""{"reason":"{{new string('x', 501)}}"}""")), HttpStatusCode.BadRequest, "invalid-request");
        Assert.False((await Body(await Http.GetAsync("/queues/held"), HttpStatusCode.OK))["paused"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_message_is_found_by_its_idempotency_key_with_its_status_and_trace_parent_and_404_for_an_unknown_key()
    {
        const string traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        var id = await PostAsync($$$"""{"type":"echo","payload":{"n":1},"idempotencyKey":"order-17","headers":{"traceparent":"{{{traceParent}}}"}}""");
        await AwaitStatus("held", id, "succeeded");

        var response = await Http.GetAsync("/queues/held/messages?idempotencyKey=order-17");
        var found = await Body(response, HttpStatusCode.OK);
        Assert.Equal(id, found["id"]!.GetValue<long>());
        Assert.Equal("succeeded", found["status"]!.GetValue<string>());
        Assert.Equal($"/queues/held/messages/{id}", response.Content.Headers.ContentLocation?.ToString());
        // A succeeded message keeps its trace parent, so its status names its trace.
        Assert.Equal(traceParent, found["headers"]!["traceparent"]!.GetValue<string>());

        await Problem(await Http.GetAsync("/queues/held/messages?idempotencyKey=order-99"), HttpStatusCode.NotFound, "message-not-found");
        await Problem(await Http.GetAsync("/queues/held/messages"), HttpStatusCode.BadRequest, "invalid-request");
        await Problem(await Http.GetAsync("/queues/nope/messages?idempotencyKey=order-17"), HttpStatusCode.NotFound, "unknown-queue");
    }
}

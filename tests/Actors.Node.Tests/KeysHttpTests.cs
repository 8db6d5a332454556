using System.Net;
using System.Text.Json.Nodes;
using Actors.Core.Tests;

namespace Actors.Node.Tests;

/// <summary>Ordering keys and priorities over HTTP: parked keys answered by the key routes, and bad keys or priorities refused.</summary>
public sealed class KeysHttpTests() : NodeHttpTest(new Dictionary<string, string?> { ["Actors:Queues:sync:Workers"] = "2" })
{
    private async Task<long> PostAsync(string body) =>
        (await Body(await Http.PostAsync("/queues/sync/messages", Json(body)), HttpStatusCode.Accepted))["id"]!.GetValue<long>();

    private async Task<string> StatusOf(long id) =>
        (await Body(await Http.GetAsync($"/queues/sync/messages/{id}"), HttpStatusCode.OK))["status"]!.GetValue<string>();

    private Task UntilStatus(long id, string status) =>
        Poll.Until(async () => await StatusOf(id) == status, $"message {id} to be {status}", TimeSpan.FromSeconds(30));

    [Fact]
    public async Task A_key_parked_by_a_message_that_cannot_run_waits_and_skip_release_and_purge_answer_it()
    {
        // No handler for "missing": it is dead-lettered at once, which parks its key; the echo behind it waits.
        var stuck = await PostAsync("""{"type":"missing","payload":{},"key":"k1"}""");
        var behind = await PostAsync("""{"type":"echo","payload":{"n":1},"key":"k1"}""");
        var other = await PostAsync("""{"type":"echo","payload":{"n":2},"key":"k2"}""");
        await UntilStatus(stuck, "parked");
        await UntilStatus(other, "succeeded");
        Assert.Equal("queued", await StatusOf(behind));
        var keys = (await Body(await Http.GetAsync("/queues/sync"), HttpStatusCode.OK))["keys"]!.AsObject();
        Assert.Equal(1, keys["parkedKeys"]!.GetValue<long>());

        var skipped = await Body(await Http.PostAsync("/queues/sync/keys/k1/skip", null), HttpStatusCode.OK);
        Assert.Equal("skipped", skipped["status"]!.GetValue<string>());
        Assert.Equal(stuck, skipped["messageIds"]!.AsArray().Single()!.GetValue<long>());
        await UntilStatus(behind, "succeeded");
        Assert.Equal("dead-lettered", await StatusOf(stuck));
        await Problem(await Http.PostAsync("/queues/sync/keys/k1/release", null), HttpStatusCode.Conflict, "key-not-parked");

        // Release runs the parked message again (here it parks again: it still has no handler).
        var again = await PostAsync("""{"type":"missing","payload":{},"key":"k3"}""");
        await UntilStatus(again, "parked");
        var released = await Body(await Http.PostAsync("/queues/sync/keys/k3/release", null), HttpStatusCode.OK);
        Assert.Equal("released", released["status"]!.GetValue<string>());
        await Poll.Until(async () => (await Body(await Http.GetAsync($"/queues/sync/messages/{again}"), HttpStatusCode.OK))["errors"]!.AsArray().Count == 2,
            "the released message to run again", TimeSpan.FromSeconds(30));
        await UntilStatus(again, "parked");

        // Purge deletes the parked message and cancels what waits behind it.
        var waiting = await PostAsync("""{"type":"echo","payload":{"n":3},"key":"k3"}""");
        var purged = await Body(await Http.PostAsync("/queues/sync/keys/k3/purge", null), HttpStatusCode.OK);
        Assert.Equal([again, waiting], purged["messageIds"]!.AsArray().Select(n => n!.GetValue<long>()).ToList());
        Assert.Equal("cancelled", await StatusOf(waiting));
        await Problem(await Http.GetAsync($"/queues/sync/messages/{again}"), HttpStatusCode.NotFound, "message-not-found");
    }

    [Fact]
    public async Task A_key_over_255_characters_or_a_priority_outside_0_to_9_is_refused_and_what_was_accepted_stays()
    {
        var kept = await PostAsync("""{"type":"echo","payload":{},"key":"fine","priority":9}""");
        var before = (await Body(await Http.GetAsync("/queues/sync"), HttpStatusCode.OK))["totals"]!["enqueued"]!.GetValue<long>();

        var longKey = new string('k', 256);
        await Problem(await Http.PostAsync("/queues/sync/messages", Json($$"""{"type":"echo","payload":{},"key":"{{longKey}}"}""")), HttpStatusCode.BadRequest, "invalid-headers");
        await Problem(await Http.PostAsync("/queues/sync/messages", Json("""{"type":"echo","payload":{},"priority":10}""")), HttpStatusCode.BadRequest, "invalid-request");
        await Problem(await Http.PostAsync("/queues/sync/messages", Json("""{"type":"echo","payload":{},"priority":"high"}""")), HttpStatusCode.BadRequest, "invalid-request");
        await Problem(await Http.PostAsync("/queues/sync/messages", Json("""{"type":"echo","payload":{},"headers":{"priority":"x"}}""")), HttpStatusCode.BadRequest, "invalid-headers");
        await Problem(await Http.PostAsync($"/queues/sync/keys/{longKey}/release", null), HttpStatusCode.BadRequest, "invalid-request");
        await Problem(await Http.PostAsync("/queues/nope/keys/k/skip", null), HttpStatusCode.NotFound, "unknown-queue");

        var after = await Body(await Http.GetAsync("/queues/sync"), HttpStatusCode.OK);
        Assert.Equal(before, after["totals"]!["enqueued"]!.GetValue<long>());
        await UntilStatus(kept, "succeeded");
    }

    [Fact]
    public async Task The_OpenAPI_document_shows_keys_priorities_and_the_key_routes_with_an_example()
    {
        var document = await Body(await Http.GetAsync("/openapi/v1.json"), HttpStatusCode.OK);
        var paths = document["paths"]!.AsObject();
        var enqueue = paths["/queues/{queue}/messages"]!["post"]!["requestBody"]!["content"]!["application/json"]!;
        var example = enqueue["examples"]!["example"]!["value"]!;
        Assert.Equal(("record-17", 7), (example["key"]!.GetValue<string>(), example["priority"]!.GetValue<int>()));
        Assert.NotNull(paths["/queues/{queue}/messages/batch"]!["post"]!["requestBody"]!["content"]!["application/json"]!["examples"]);
        foreach (var operation in new[] { "release", "skip", "purge" })
            Assert.NotNull(paths[$"/queues/{{queue}}/keys/{{key}}/{operation}"]?["post"]);
    }
}

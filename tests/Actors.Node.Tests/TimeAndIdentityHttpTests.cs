using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Actors.Node.Tests;

/// <summary>Idempotency keys, delayed and expiring messages and cancellation over HTTP, every refusal leaving earlier messages intact.</summary>
public sealed class TimeAndIdentityHttpTests() : NodeHttpTest(new Dictionary<string, string?>
{
    ["Actors:Queues:strict:RequireIdempotencyKey"] = "true",
    ["Actors:Queues:later:MaxDelay"] = "1.00:00:00",
    ["Actors:Queues:later:Workers"] = "1",
    ["Actors:Queues:parts:Partitions"] = "3",
})
{
    private Task<HttpResponseMessage> Post(string queue, string json, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/queues/{queue}/messages") { Content = Json(json) };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return Http.SendAsync(request);
    }

    [Fact]
    public async Task A_repeated_key_replays_the_first_answer_and_a_different_request_under_it_is_422()
    {
        var first = await Body(await Post("default", "{\"type\":\"echo\",\"payload\":{\"n\":1}}", "order-17"), HttpStatusCode.Accepted);
        var id = first["id"]!.GetValue<long>();
        await AwaitStatus("default", id, "succeeded");

        var again = await Post("default", "{\"type\":\"echo\",\"payload\":{\"n\":1}}", "order-17");
        var replayed = await Body(again, HttpStatusCode.OK);
        Assert.Equal((id, "succeeded"), (replayed["id"]!.GetValue<long>(), replayed["status"]!.GetValue<string>()));
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        // The key may come in the body instead of the header.
        Assert.Equal(id, (await Body(await Post("default", "{\"type\":\"echo\",\"payload\":{\"n\":1},\"idempotencyKey\":\"order-17\"}"), HttpStatusCode.OK))["id"]!.GetValue<long>());

        await Problem(await Post("default", "{\"type\":\"echo\",\"payload\":{\"n\":2}}", "order-17"), HttpStatusCode.UnprocessableEntity, "idempotency-key-mismatch");
        await Problem(await Post("default", "{\"type\":\"echo\",\"payload\":1}", new string('k', 256)), HttpStatusCode.BadRequest, "invalid-idempotency-key");
        await Problem(await Post("default", "{\"type\":\"echo\",\"payload\":1,\"idempotencyKey\":\"a\"}", "b"), HttpStatusCode.BadRequest, "invalid-request");
        await Problem(await Post("strict", "{\"type\":\"echo\",\"payload\":1}"), HttpStatusCode.BadRequest, "idempotency-key-required");
        var stats = (await Http.GetFromJsonAsync<JsonObject>("/queues/default"))!;
        Assert.Equal((1, 1), (stats["totals"]!["enqueued"]!.GetValue<int>(), stats["idempotencyKeys"]!.GetValue<int>()));
    }

    [Fact]
    public async Task Batch_items_with_keys_are_answered_one_by_one_and_a_partitioned_queue_routes_a_retry_to_the_same_partition()
    {
        var batch = "[{\"type\":\"noop\",\"payload\":1,\"idempotencyKey\":\"a\"},{\"type\":\"noop\",\"payload\":1,\"idempotencyKey\":\"a\"},{\"type\":\"noop\",\"payload\":2,\"idempotencyKey\":\"a\"},{\"type\":\"noop\",\"payload\":3,\"idempotencyKey\":\"b\"}]";
        var body = await Body(await Http.PostAsync("/queues/parts/messages/batch", Json(batch)), HttpStatusCode.OK);
        var results = body["results"]!.AsArray();
        Assert.Equal(results[0]!["id"]!.GetValue<long>(), results[1]!["id"]!.GetValue<long>());
        Assert.True(results[1]!["replayed"]!.GetValue<bool>());
        Assert.Equal("urn:actors:problem:idempotency-key-mismatch", results[2]!["error"]!["type"]!.GetValue<string>());

        var again = await Body(await Http.PostAsync("/queues/parts/messages/batch", Json(batch)), HttpStatusCode.OK);
        var replays = again["results"]!.AsArray();
        Assert.Equal(results[0]!["id"]!.GetValue<long>(), replays[0]!["id"]!.GetValue<long>());
        Assert.Equal(results[3]!["id"]!.GetValue<long>(), replays[3]!["id"]!.GetValue<long>());
        Assert.True(replays[3]!["replayed"]!.GetValue<bool>());
        var stats = (await Http.GetFromJsonAsync<JsonObject>("/queues/parts"))!;
        Assert.Equal(2, stats["totals"]!["enqueued"]!.GetValue<int>());
    }

    [Fact]
    public async Task Delayed_messages_are_scheduled_with_their_due_time_and_bad_timing_is_400()
    {
        var due = DateTimeOffset.UtcNow.AddHours(2);
        var scheduled = await Body(await Post("later", $"{{\"type\":\"noop\",\"payload\":1,\"deliverAt\":\"{due.ToOffset(TimeSpan.FromHours(1)):yyyy-MM-ddTHH:mm:ss.fffzzz}\"}}"), HttpStatusCode.Accepted);
        Assert.Equal("scheduled", scheduled["status"]!.GetValue<string>());
        var id = scheduled["id"]!.GetValue<long>();
        var message = await AwaitStatus("later", id, "scheduled");
        Assert.Equal(due.UtcDateTime, message["dueAt"]!.GetValue<DateTime>().ToUniversalTime(), TimeSpan.FromMilliseconds(1));
        var delayed = await Body(await Post("later", "{\"type\":\"noop\",\"payload\":2,\"delay\":\"PT1H\"}"), HttpStatusCode.Accepted);
        Assert.Equal("scheduled", delayed["status"]!.GetValue<string>());
        var soon = (await Body(await Post("later", "{\"type\":\"noop\",\"payload\":3,\"delay\":0.2}"), HttpStatusCode.Accepted))["id"]!.GetValue<long>();
        await AwaitStatus("later", soon, "succeeded");

        await Problem(await Post("later", "{\"type\":\"noop\",\"delay\":\"P2D\"}"), HttpStatusCode.BadRequest, "delay-too-long");
        await Problem(await Post("later", "{\"type\":\"noop\",\"delay\":\"PT1M\",\"deliverAt\":\"2030-01-01T00:00:00Z\"}"), HttpStatusCode.BadRequest, "invalid-timing");
        await Problem(await Post("later", "{\"type\":\"noop\",\"delay\":\"PT1H\",\"ttl\":\"PT1M\",\"expiresAt\":\"2030-01-01T00:00:00Z\"}"), HttpStatusCode.BadRequest, "invalid-timing");
        // A time to live counts from receipt: an hour's delay with a minute to live would expire before it is due.
        await Problem(await Post("later", "{\"type\":\"noop\",\"delay\":\"PT1H\",\"ttl\":\"PT1M\"}"), HttpStatusCode.BadRequest, "invalid-timing");
        await Problem(await Post("later", $"{{\"type\":\"noop\",\"deliverAt\":\"{DateTimeOffset.UtcNow.AddHours(2):O}\",\"expiresAt\":\"{DateTimeOffset.UtcNow.AddHours(1):O}\"}}"), HttpStatusCode.BadRequest, "invalid-timing");
        await Problem(await Post("later", "{\"type\":\"noop\",\"deliverAt\":\"2030-01-01T00:00:00\"}"), HttpStatusCode.BadRequest, "invalid-request");
        await Problem(await Post("later", "{\"type\":\"noop\",\"delay\":\"ten minutes\"}"), HttpStatusCode.BadRequest, "invalid-request");

        var stats = (await Http.GetFromJsonAsync<JsonObject>("/queues/later"))!;
        Assert.Equal(2, stats["scheduled"]!.GetValue<int>());
        Assert.Equal("scheduled", (await AwaitStatus("later", id, "scheduled"))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Delete_cancels_a_scheduled_message_and_answers_409_for_a_finished_one_and_404_for_an_unknown_one()
    {
        var kept = (await Body(await Post("later", "{\"type\":\"noop\",\"payload\":1,\"delay\":\"PT1H\"}"), HttpStatusCode.Accepted))["id"]!.GetValue<long>();
        var scheduled = (await Body(await Post("later", "{\"type\":\"noop\",\"payload\":2,\"delay\":\"PT1H\"}"), HttpStatusCode.Accepted))["id"]!.GetValue<long>();
        var cancelled = await Body(await Http.DeleteAsync($"/queues/later/messages/{scheduled}"), HttpStatusCode.OK);
        Assert.Equal(("cancelled", "scheduled"), (cancelled["status"]!.GetValue<string>(), cancelled["previousStatus"]!.GetValue<string>()));
        await AwaitStatus("later", scheduled, "cancelled");

        await Problem(await Http.DeleteAsync($"/queues/later/messages/{scheduled}"), HttpStatusCode.Conflict, "message-finished");
        await Problem(await Http.DeleteAsync("/queues/later/messages/424242"), HttpStatusCode.NotFound, "message-not-found");
        await Problem(await Http.DeleteAsync($"/queues/nope/messages/{kept}"), HttpStatusCode.NotFound, "unknown-queue");
        Assert.Equal("scheduled", (await AwaitStatus("later", kept, "scheduled"))["status"]!.GetValue<string>());
    }
}

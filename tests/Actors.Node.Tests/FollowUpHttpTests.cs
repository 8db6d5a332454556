using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Actors.Node.Tests;

/// <summary>
/// <c>then</c> and <c>onFailure</c> over HTTP: a chain of follow-ups runs, the status names each message's follow-up,
/// an unknown target queue is 404 and a malformed continuation 400, with nothing stored, and the OpenAPI document
/// describes both fields.
/// </summary>
public sealed class FollowUpHttpTests() : NodeHttpTest(new Dictionary<string, string?>
{
    ["Actors:Queues:next:Retry:MaxAttempts"] = "1",
})
{
    /// <summary>Waits until the message's follow-up is stored and returns it (<c>on</c>, <c>queue</c>, <c>id</c>).</summary>
    private async Task<JsonObject> FollowUp(string queue, long id)
    {
        var message = await AwaitJson($"/queues/{queue}/messages/{id}", m => m["followUp"]?["id"] is not null, $"message {id}'s follow-up");
        return message["followUp"]!.AsObject();
    }

    private async Task<JsonObject> Finished(string queue, long id) =>
        await Body(await Http.GetAsync($"/queues/{queue}/messages/{id}?wait=20s"), HttpStatusCode.OK);

    [Fact]
    public async Task A_chain_of_then_steps_runs_across_two_queues_and_each_status_names_its_follow_up()
    {
        const string body = """
            {"type":"echo","payload":{"n":1},
             "then":{"queue":"next","type":"echo","useResult":true,
                     "then":{"queue":"default","type":"echo","payload":{"step":3}}}}
            """;
        var first = await Body(await Http.PostAsync("/queues/default/messages?wait=20s", Json(body)), HttpStatusCode.OK);
        Assert.Equal("succeeded", first["status"]!.GetValue<string>());

        var second = await FollowUp("default", first["id"]!.GetValue<long>());
        Assert.Equal(("then", "next"), (second["on"]!.GetValue<string>(), second["queue"]!.GetValue<string>()));
        var secondMessage = await Finished("next", second["id"]!.GetValue<long>());
        Assert.Equal(1, secondMessage["result"]!["n"]!.GetValue<int>());

        var third = await FollowUp("next", second["id"]!.GetValue<long>());
        Assert.Equal("default", third["queue"]!.GetValue<string>());
        var thirdMessage = await Finished("default", third["id"]!.GetValue<long>());
        Assert.Equal(3, thirdMessage["result"]!["step"]!.GetValue<int>());
        Assert.Null(thirdMessage["followUp"]);
    }

    [Fact]
    public async Task A_dead_letter_sends_its_on_failure_follow_up_with_the_failure()
    {
        var accepted = await Body(await Http.PostAsync("/queues/next/messages",
            Json("""{"type":"unhandled","payload":1,"onFailure":{"queue":"default","type":"echo","useResult":true}}""")), HttpStatusCode.Accepted);
        var id = accepted["id"]!.GetValue<long>();
        Assert.Equal("dead-lettered", (await Finished("next", id))["status"]!.GetValue<string>());

        var followUp = await FollowUp("next", id);
        Assert.Equal(("onFailure", "default"), (followUp["on"]!.GetValue<string>(), followUp["queue"]!.GetValue<string>()));
        var failure = (await Finished("default", followUp["id"]!.GetValue<long>()))["result"]!;
        Assert.Equal(("next", id), (failure["queue"]!.GetValue<string>(), failure["messageId"]!.GetValue<long>()));
        Assert.False(string.IsNullOrEmpty(failure["error"]!["message"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_unknown_target_is_404_a_malformed_continuation_400_and_nothing_is_stored()
    {
        var unknown = await Problem(await Http.PostAsync("/queues/default/messages", Json("""{"type":"echo","then":{"queue":"nowhere","type":"echo"}}""")),
            HttpStatusCode.NotFound, "unknown-queue");
        Assert.Contains("nowhere", unknown["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        await Problem(await Http.PostAsync("/queues/default/messages", Json("""{"type":"echo","onFailure":{"queue":"next","type":"echo","then":{"queue":"gone","type":"x"}}}""")),
            HttpStatusCode.NotFound, "unknown-queue");
        foreach (var bad in new[] { "\"next\"", "{\"queue\":\"next\"}", "{\"queue\":\"next\",\"type\":\"echo\",\"useResult\":\"yes\"}", "{\"queue\":\"next\",\"type\":\"echo\",\"useResult\":true,\"payload\":1}" })
            await Problem(await Http.PostAsync("/queues/default/messages", Json($"{{\"type\":\"echo\",\"then\":{bad}}}")), HttpStatusCode.BadRequest, "invalid-request");
        await Problem(await Http.PostAsync("/queues/default/messages", Json("""{"type":"echo","headers":{"then":"not json"}}""")), HttpStatusCode.BadRequest, "invalid-headers");

        var batch = await Body(await Http.PostAsync("/queues/default/messages/batch",
            Json("""[{"type":"echo","then":{"queue":"nowhere","type":"echo"}},{"type":"echo","then":{"queue":"next"}}]""")), HttpStatusCode.OK);
        Assert.Equal(0, batch["accepted"]!.GetValue<int>());
        Assert.Equal("UnknownQueue", batch["results"]![0]!["error"]!["code"]!.GetValue<string>());
        Assert.NotNull(batch["results"]![1]!["error"]);

        var stats = (await Http.GetFromJsonAsync<JsonObject>("/queues/default"))!;
        Assert.Equal(0, stats["totals"]!["enqueued"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_openapi_document_describes_then_and_on_failure()
    {
        var document = (await Http.GetFromJsonAsync<JsonObject>("/openapi/v1.json"))!;
        var schemas = document["components"]!["schemas"]!;
        var request = schemas["EnqueueRequest"]!["properties"]!;
        Assert.NotNull(request["then"]);
        Assert.NotNull(request["onFailure"]);
        Assert.Contains("useResult", request["then"]!.ToJsonString(), StringComparison.Ordinal);
        var continuation = schemas["ContinuationRequest"]!["properties"]!;
        Assert.NotNull(continuation["useResult"]);
        Assert.NotNull(continuation["queue"]);
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Actors.Node.Tests;

/// <summary><c>?wait=</c> on the enqueue and status routes: the outcome once final, 202 with the status when the wait ends first, 400 for a bad value, 503 beyond <c>MaxWaiters</c>.</summary>
public sealed class AwaitingResultsHttpTests() : NodeHttpTest(new Dictionary<string, string?>
{
    ["Actors:Queues:few:MaxWaiters"] = "1",
})
{
    private const string Later = "{\"type\":\"noop\",\"payload\":1,\"delay\":\"PT1H\"}";

    [Fact]
    public async Task Enqueue_with_wait_answers_the_outcome_and_a_wait_that_ends_first_is_202_with_the_status()
    {
        var done = await Body(await Http.PostAsync("/queues/default/messages?wait=20s", Json("{\"type\":\"echo\",\"payload\":{\"n\":7}}")), HttpStatusCode.OK);
        Assert.Equal("succeeded", done["status"]!.GetValue<string>());
        Assert.Equal(7, done["result"]!["n"]!.GetValue<int>());
        Assert.Equal(1, done["attempts"]!.GetValue<int>());
        var id = done["id"]!.GetValue<long>();
        // The status route with a wait answers a finished message at once, with the body GET gives.
        var again = await Body(await Http.GetAsync($"/queues/default/messages/{id}?wait=PT10S"), HttpStatusCode.OK);
        Assert.Equal(done.ToJsonString(), again.ToJsonString());

        var pending = await Http.PostAsync("/queues/default/messages?wait=0.3", Json(Later));
        var scheduled = await Body(pending, HttpStatusCode.Accepted);
        Assert.Equal("scheduled", scheduled["status"]!.GetValue<string>());
        var laterId = scheduled["id"]!.GetValue<long>();
        Assert.Equal($"/queues/default/messages/{laterId}", pending.Headers.Location?.OriginalString);
        var stillScheduled = await Body(await Http.GetAsync($"/queues/default/messages/{laterId}?wait=300ms"), HttpStatusCode.Accepted);
        Assert.Equal("scheduled", stillScheduled["status"]!.GetValue<string>());
        // Without a wait, the status route answers 200 as ever.
        await Body(await Http.GetAsync($"/queues/default/messages/{laterId}"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_openapi_document_names_wait_on_both_routes()
    {
        var paths = (await Http.GetFromJsonAsync<JsonObject>("/openapi/v1.json"))!["paths"]!;
        foreach (var operation in new[] { paths["/queues/{queue}/messages"]!["post"]!, paths["/queues/{queue}/messages/{id}"]!["get"]! })
            Assert.Contains(operation["parameters"]!.AsArray(), p => p!["name"]!.GetValue<string>() == "wait" && p["in"]!.GetValue<string>() == "query"
                && p["description"]?.GetValue<string>()?.Contains("outcome", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task A_bad_wait_is_400_and_stores_nothing()
    {
        foreach (var wait in new[] { "soon", "-1", "-PT1S", "1h", "1,5" })
        {
            await Problem(await Http.PostAsync($"/queues/default/messages?wait={wait}", Json("{\"type\":\"echo\",\"payload\":1}")), HttpStatusCode.BadRequest, "invalid-request");
            await Problem(await Http.GetAsync($"/queues/default/messages/1?wait={wait}"), HttpStatusCode.BadRequest, "invalid-request");
        }
        var stats = (await Http.GetFromJsonAsync<JsonObject>("/queues/default"))!;
        Assert.Equal(0, stats["totals"]!["enqueued"]!.GetValue<int>());
    }

    [Fact]
    public async Task Beyond_MaxWaiters_a_status_wait_is_503_an_enqueue_still_answers_and_a_cancel_answers_the_waiter()
    {
        var id = (await Body(await Http.PostAsync("/queues/few/messages", Json(Later)), HttpStatusCode.Accepted))["id"]!.GetValue<long>();

        // Two callers wait for it at once: the queue takes one of them, the other is refused at once.
        var waits = new[] { Http.GetAsync($"/queues/few/messages/{id}?wait=30"), Http.GetAsync($"/queues/few/messages/{id}?wait=30") };
        var first = await Task.WhenAny(waits);
        var refused = await first;
        var problem = await Problem(refused, HttpStatusCode.ServiceUnavailable, "too-many-waiters");
        Assert.Equal("TooManyWaiters", problem["code"]!.GetValue<string>());
        Assert.NotNull(refused.Headers.RetryAfter);
        var holder = waits.Single(w => w != first);

        // The message is stored whatever the wait: a refused wait after an enqueue answers as a plain enqueue.
        var stored = await Body(await Http.PostAsync("/queues/few/messages?wait=10", Json(Later)), HttpStatusCode.Accepted);
        Assert.Equal("scheduled", stored["status"]!.GetValue<string>());
        Assert.Null(stored["attempts"]);

        Assert.Equal(HttpStatusCode.OK, (await Http.DeleteAsync($"/queues/few/messages/{id}")).StatusCode);
        var cancelled = await Body(await holder, HttpStatusCode.OK);
        Assert.Equal((id, "cancelled"), (cancelled["id"]!.GetValue<long>(), cancelled["status"]!.GetValue<string>()));
    }
}

using System.Net;

namespace Actors.Node.Tests;

/// <summary>Purging a queue and deleting one declared at run time over HTTP: <c>POST /queues/{queue}/purge</c>, <c>DELETE /queues/{queue}</c>.</summary>
public sealed class QueueLifecycleHttpTests() : NodeHttpTest(new Dictionary<string, string?>
{
    ["Actors:Queues:held:Workers"] = "0",
})
{
    [Fact]
    public async Task POST_purge_answers_the_count_and_the_queue_is_empty_after()
    {
        for (var i = 0; i < 3; i++) await Body(await Http.PostAsync("/queues/held/messages", Json("""{"type":"echo","payload":1}""")), HttpStatusCode.Accepted);
        await Body(await Http.PostAsync("/queues/held/messages", Json("""{"type":"echo","payload":1,"delay":"PT1H"}""")), HttpStatusCode.Accepted);

        var purged = await Body(await Http.PostAsync("/queues/held/purge", null), HttpStatusCode.OK);
        Assert.Equal(4, purged["purged"]!.GetValue<int>());
        var stats = await Body(await Http.GetAsync("/queues/held"), HttpStatusCode.OK);
        Assert.Equal((0L, 0L), (stats["depth"]!.GetValue<long>(), stats["scheduled"]!.GetValue<long>()));
        await Problem(await Http.PostAsync("/queues/nope/purge", null), HttpStatusCode.NotFound, "unknown-queue");
    }

    [Fact]
    public async Task DELETE_removes_a_declared_queue_refuses_a_configured_one_and_checks_its_conditions()
    {
        await Body(await Http.PutAsync("/queues/rt-temp", null), HttpStatusCode.Created);
        await Body(await Http.PostAsync("/queues/rt-temp/messages", Json("""{"type":"echo","payload":1}""")), HttpStatusCode.Accepted);

        var configured = await Problem(await Http.DeleteAsync("/queues/held"), HttpStatusCode.Conflict, "delete-refused");
        Assert.Contains("configuration", configured["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        await Problem(await Http.DeleteAsync("/queues/rt-temp?ifEmpty=true"), HttpStatusCode.Conflict, "delete-refused");

        var deleted = await Body(await Http.DeleteAsync("/queues/rt-temp?ifUnused=true"), HttpStatusCode.OK);
        Assert.Equal((true, 1), (deleted["deleted"]!.GetValue<bool>(), deleted["messages"]!.GetValue<int>()));
        await Problem(await Http.GetAsync("/queues/rt-temp"), HttpStatusCode.NotFound, "unknown-queue");
        await Problem(await Http.PostAsync("/queues/rt-temp/messages", Json("""{"type":"echo","payload":1}""")), HttpStatusCode.NotFound, "unknown-queue");
        await Problem(await Http.DeleteAsync("/queues/rt-temp"), HttpStatusCode.NotFound, "unknown-queue");

        await Body(await Http.PutAsync("/queues/rt-temp", null), HttpStatusCode.Created);
        Assert.Equal(0, (await Body(await Http.GetAsync("/queues/rt-temp"), HttpStatusCode.OK))["totals"]!["enqueued"]!.GetValue<long>());
    }
}

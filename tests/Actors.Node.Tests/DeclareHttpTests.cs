using System.Net;
using Actors.Core.Tests;

namespace Actors.Node.Tests;

/// <summary>Declaring queues at run time over HTTP: <c>PUT /queues/{queue}</c>.</summary>
public sealed class DeclareHttpTests() : NodeHttpTest(new Dictionary<string, string?>
{
    ["Actors:Queues:held:Workers"] = "1",
    ["Actors:DeclaredQueueDefaults:MaxLength"] = "4321",
})
{
    [Fact]
    public async Task PUT_creates_a_queue_with_the_node_defaults_with_201_and_answers_200_when_it_exists()
    {
        var response = await Http.PutAsync("/queues/rt-jobs", null);
        var created = await Body(response, HttpStatusCode.Created);
        Assert.Equal("/queues/rt-jobs", response.Headers.Location?.ToString());
        Assert.True(created["created"]!.GetValue<bool>());
        Assert.Equal((0, 1, 4321), (created["workers"]!.GetValue<int>(), created["partitions"]!.GetValue<int>(), created["maxLength"]!.GetValue<int>()));

        var again = await Body(await Http.PutAsync("/queues/rt-jobs", Json("""{"maxLength":5}""")), HttpStatusCode.OK);
        Assert.False(again["created"]!.GetValue<bool>());
        Assert.Equal(4321, again["maxLength"]!.GetValue<int>());
        Assert.False((await Body(await Http.PutAsync("/queues/held", null), HttpStatusCode.OK))["created"]!.GetValue<bool>());

        var listed = await AwaitJson("/queues", q => q["queues"]?.AsArray().Any(s => s!["queue"]?.GetValue<string>() == "rt-jobs") ?? false, "the declared queue to be listed");
        Assert.NotNull(listed);
        await Body(await Http.PostAsync("/queues/rt-jobs/messages", Json("""{"type":"echo","payload":1}""")), HttpStatusCode.Accepted);
        await AwaitJson("/queues/rt-jobs", s => s["depth"]!.GetValue<long>() == 1, "the message to wait for a consumer");
    }

    [Fact]
    public async Task PUT_with_workers_runs_the_queue_in_its_own_pool()
    {
        var created = await Body(await Http.PutAsync("/queues/rt-pooled", Json("""{"workers":2,"maxAttempts":3}""")), HttpStatusCode.Created);
        Assert.Equal((2, 3, 4321), (created["workers"]!.GetValue<int>(), created["maxAttempts"]!.GetValue<int>(), created["maxLength"]!.GetValue<int>()));
        var id = (await Body(await Http.PostAsync("/queues/rt-pooled/messages", Json("""{"type":"echo","payload":{"n":1}}""")), HttpStatusCode.Accepted))["id"]!.GetValue<long>();
        await AwaitStatus("rt-pooled", id, "succeeded");
    }

    [Fact]
    public async Task PUT_with_a_bad_name_or_bad_options_is_400_and_creates_nothing()
    {
        await Problem(await Http.PutAsync("/queues/bad%20name", null), HttpStatusCode.BadRequest, "invalid-queue-name");
        await Problem(await Http.PutAsync("/queues/rt-bad", Json("""{"workers":-1}""")), HttpStatusCode.BadRequest, "invalid-request");
        await Problem(await Http.PutAsync("/queues/rt-bad", Json("""{"workers":"many"}""")), HttpStatusCode.BadRequest, "invalid-request");
        await Problem(await Http.GetAsync("/queues/rt-bad"), HttpStatusCode.NotFound, "unknown-queue");
    }
}

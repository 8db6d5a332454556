using Actors.Core.Tests;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Actors.Http;
using Akka.Actor;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Node.Tests;

/// <summary>Every route and every error of the HTTP API, each error case also checking earlier messages are intact.</summary>
public sealed class HttpApiTests() : NodeHttpTest(new Dictionary<string, string?>
{
    ["Actors:SqliteBusyTimeout"] = "00:00:01",
    ["Actors:Queues:small:MaxLength"] = "2",
    ["Actors:Queues:small:MaxPayloadBytes"] = "64",
    ["Actors:Queues:small:AllowedTypes:0"] = "stuck",
    ["Actors:Queues:small:Retry:BaseDelay"] = "01:00:00",
    ["Actors:Queues:small:Retry:MaxDelay"] = "01:00:00",
    // A webhook nobody listens on: each attempt fails fast and the retry is an hour away, so messages stay put.
    ["Actors:Webhooks:stuck:Url"] = "http://127.0.0.1:9/",
    ["Actors:Webhooks:stuck:Timeout"] = "00:00:02",
    // Loopback allowed, or the address guard would dead-letter them at once and the queue would never fill.
    ["Actors:Webhooks:stuck:AllowedNetworks:0"] = "127.0.0.0/8",
    ["Actors:Queues:dlq:Retry:MaxAttempts"] = "1",
    // 10/s: one dead letter a redrive chunk, so a redrive of more is a job that runs for a while.
    ["Actors:Queues:dlqjob:Retry:MaxAttempts"] = "1",
    ["Actors:Queues:dlqjob:RedrivePerSecond"] = "10",
    ["Actors:Queues:parts:Partitions"] = "3",
    // Autoscaled from the configuration: each partition deploys 4 workers and starts with 2 active.
    ["Actors:Queues:parts:Workers"] = "2",
    ["Actors:Queues:parts:Autoscale:MaxWorkers"] = "4",
    ["Actors:Queues:parts:Autoscale:ScaleDownAfter"] = "00:10:00",
})
{
    private async Task<long> Enqueue(string queue, string type, string payloadJson)
    {
        var response = await Http.PostAsync($"/queues/{queue}/messages", Json($"{{\"type\":\"{type}\",\"payload\":{payloadJson}}}"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        var id = body!["id"]!.GetValue<long>();
        Assert.Equal($"/queues/{queue}/messages/{id}", response.Headers.Location!.OriginalString);
        Assert.Equal("queued", body["status"]!.GetValue<string>());
        return id;
    }

    private async Task<JsonObject> Message(string queue, long id)
    {
        var response = await Http.GetAsync($"/queues/{queue}/messages/{id}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    [Fact]
    public async Task Post_stores_the_message_and_get_shows_its_result()
    {
        var id = await Enqueue("default", "echo", "{\"hello\":\"world\"}");
        var message = await AwaitStatus("default", id, "succeeded");
        Assert.Equal("{\"hello\":\"world\"}", message["result"]!.ToJsonString());
        Assert.Equal(1, message["attempts"]!.GetValue<int>());
    }

    [Fact]
    public async Task Batch_answers_each_message_on_its_own()
    {
        var response = await Http.PostAsync("/queues/default/messages/batch",
            Json("[{\"type\":\"echo\",\"payload\":1},{\"payload\":2},{\"type\":\"not-allowed\",\"payload\":3},{\"type\":\"noop\",\"payload\":4}]"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal((2, 2), (body["accepted"]!.GetValue<int>(), body["rejected"]!.GetValue<int>()));
        var results = body["results"]!.AsArray();
        Assert.NotNull(results[0]!["id"]);
        Assert.Equal("urn:actors:problem:invalid-request", results[1]!["error"]!["type"]!.GetValue<string>());
        Assert.Equal("urn:actors:problem:unknown-message-type", results[2]!["error"]!["type"]!.GetValue<string>());
        await AwaitStatus("default", results[3]!["id"]!.GetValue<long>(), "succeeded");
    }

    [Fact]
    public async Task Queues_list_and_stats_show_littles_law()
    {
        await Enqueue("default", "noop", "null");
        var list = (await Http.GetFromJsonAsync<JsonObject>("/queues"))!;
        Assert.Equal(["default", "dlq", "dlqjob", "parts", "small"], list["queues"]!.AsArray().Select(q => q!["queue"]!.GetValue<string>()));
        var stats = (await Http.GetFromJsonAsync<JsonObject>("/queues/default"))!;
        Assert.Equal(1, stats["totals"]!["enqueued"]!.GetValue<long>());
        Assert.NotNull(stats["littlesLaw"]!["waitingPredicted"]);
        await Problem(await Http.GetAsync("/queues/nope"), HttpStatusCode.NotFound, "unknown-queue");
    }

    [Fact]
    public async Task Bad_input_gets_a_clear_error_and_loses_nothing()
    {
        var kept = await Enqueue("small", "stuck", "{\"n\":1}");

        await Problem(await Http.PostAsync("/queues/small/messages", Json("{\"type\": \"stuck\", ")), HttpStatusCode.BadRequest, "malformed-json");
        await Problem(await Http.PostAsync("/queues/small/messages", Json("{\"payload\": 1}")), HttpStatusCode.BadRequest, "invalid-request");
        await Problem(await Http.PostAsync("/queues/nope/messages", Json("{\"type\":\"echo\"}")), HttpStatusCode.NotFound, "unknown-queue");
        await Problem(await Http.PostAsync("/queues/bad%20name/messages", Json("{\"type\":\"echo\"}")), HttpStatusCode.BadRequest, "invalid-queue-name");
        await Problem(await Http.PostAsync("/queues/small/messages", Json("{\"type\":\"bad type\"}")), HttpStatusCode.UnprocessableEntity, "invalid-message-type");
        await Problem(await Http.PostAsync("/queues/small/messages", Json("{\"type\":\"echo\"}")), HttpStatusCode.UnprocessableEntity, "unknown-message-type");
        var big = JsonSerializer.Serialize(new string('x', 100));
        var tooLarge = await Problem(await Http.PostAsync("/queues/small/messages", Json($"{{\"type\":\"stuck\",\"payload\":{big}}}")), HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
        Assert.Equal("PayloadTooLarge", tooLarge["code"]!.GetValue<string>());
        var wrongMethod = await Http.DeleteAsync("/queues/small/messages");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);

        await Enqueue("small", "stuck", "{\"n\":2}");
        var full = await Http.PostAsync("/queues/small/messages", Json("{\"type\":\"stuck\",\"payload\":3}"));
        await Problem(full, HttpStatusCode.TooManyRequests, "queue-full");
        Assert.NotNull(full.Headers.RetryAfter);

        var message = await Message("small", kept);
        Assert.Equal("{\"n\":1}", message["payload"]!.ToJsonString());
        Assert.Contains(message["status"]!.GetValue<string>(), new[] { "queued", "in-flight", "failed-retrying" });
    }

    [Fact]
    public async Task Text_that_is_not_valid_unicode_a_missing_content_type_and_bad_paging_are_400_or_415_and_lose_nothing()
    {
        var kept = await Enqueue("default", "noop", "{\"n\":1}");
        await AwaitStatus("default", kept, "succeeded");

        // A lone surrogate escape is valid JSON text but not Unicode: refused wherever it appears.
        await Problem(await Http.PostAsync("/queues/default/messages", Json("{\"type\":\"noop\",\"payload\":{\"a\":[\"ok\",\"\\ud800\"]}}")), HttpStatusCode.BadRequest, "invalid-request");
        await Problem(await Http.PostAsync("/queues/default/messages", Json("{\"type\":\"noop\",\"payload\":{\"\\udc00\":1}}")), HttpStatusCode.BadRequest, "invalid-request");
        await Problem(await Http.PostAsync("/queues/default/messages", Json("{\"type\":\"no\\ud800op\"}")), HttpStatusCode.BadRequest, "invalid-request");
        await Problem(await Http.PostAsync("/queues/default/messages", Json("{\"type\":\"noop\",\"key\":\"\\ud800\"}")), HttpStatusCode.BadRequest, "invalid-request");
        await Problem(await Http.PostAsync("/queues/default/messages", Json("{\"type\":\"noop\",\"headers\":{\"h\":\"\\udfff\"}}")), HttpStatusCode.BadRequest, "invalid-request");
        await Problem(await Http.PostAsync("/queues/default/messages", Json("{\"type\":\"noop\",\"idempotencyKey\":\"\\ud800\"}")), HttpStatusCode.BadRequest, "invalid-request");
        // ...including a field name of the message itself, alone or in a batch (found by HttpFuzzTests: was a 500).
        await Problem(await Http.PostAsync("/queues/default/messages", Json("{\"\\ud800\":1,\"type\":\"noop\"}")), HttpStatusCode.BadRequest, "invalid-request");
        var namedBadly = (await (await Http.PostAsync("/queues/default/messages/batch", Json("[{\"type\":\"noop\",\"\\udc00x\":1},{\"type\":\"noop\"}]"))).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal((1, 1), (namedBadly["accepted"]!.GetValue<int>(), namedBadly["rejected"]!.GetValue<int>()));
        // A valid pair of escapes is fine, and in a batch only the bad item is refused.
        var pair = await Http.PostAsync("/queues/default/messages", Json("{\"type\":\"echo\",\"payload\":\"\\ud83d\\ude00\"}"));
        Assert.Equal(HttpStatusCode.Accepted, pair.StatusCode);
        var batch = (await (await Http.PostAsync("/queues/default/messages/batch", Json("[{\"type\":\"noop\",\"payload\":\"\\ud800\"},{\"type\":\"noop\",\"payload\":2}]"))).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal((1, 1), (batch["accepted"]!.GetValue<int>(), batch["rejected"]!.GetValue<int>()));

        var noType = new StringContent("{\"type\":\"noop\"}", Encoding.UTF8);
        noType.Headers.ContentType = null;
        await Problem(await Http.PostAsync("/queues/default/messages", noType), HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
        // Another media type is refused by routing itself (the route accepts application/json only).
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await Http.PostAsync("/queues/default/messages/batch", new StringContent("[]", Encoding.UTF8, "text/plain"))).StatusCode);
        // Its answer is a problem even to a client that asks for HTML (found by HttpFuzzTests: was text/plain).
        using (var html = new HttpRequestMessage(HttpMethod.Post, "/queues/default/messages/batch") { Content = new StringContent("[]", Encoding.UTF8, "text/plain") })
        {
            html.Headers.Accept.ParseAdd("text/html");
            var refused = await Http.SendAsync(html);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Equal(415, (await refused.Content.ReadFromJsonAsync<JsonObject>())!["status"]!.GetValue<int>());
        }

        await Problem(await Http.GetAsync("/queues/default/dead-letters?limit=ten"), HttpStatusCode.BadRequest, "invalid-request");
        await Problem(await Http.GetAsync("/queues/default/dead-letters?after=-1"), HttpStatusCode.BadRequest, "invalid-request");
        Assert.Equal("succeeded", (await Message("default", kept))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Too_many_headers_and_too_large_a_batch_are_refused_and_lose_nothing()
    {
        var kept = await Enqueue("default", "noop", "{\"n\":1}");
        var headers = string.Join(",", Enumerable.Range(0, 65).Select(i => $"\"h{i}\":\"v\""));
        var invalid = await Problem(await Http.PostAsync("/queues/default/messages", Json($"{{\"type\":\"noop\",\"headers\":{{{headers}}}}}")), HttpStatusCode.BadRequest, "invalid-headers");
        Assert.Equal("InvalidHeaders", invalid["code"]!.GetValue<string>());

        var items = string.Join(",", Enumerable.Repeat("{\"type\":\"noop\"}", QueueEndpoints.MaxBatchSize + 1));
        await Problem(await Http.PostAsync("/queues/default/messages/batch", Json($"[{items}]")), HttpStatusCode.RequestEntityTooLarge, "batch-too-large");
        // Reading stops at item 10,001: what follows it is never parsed, so its malformed tail does not matter.
        await Problem(await Http.PostAsync("/queues/default/messages/batch", Json($"[{items}, {{\"type\": oops")), HttpStatusCode.RequestEntityTooLarge, "batch-too-large");
        // Up to item 10,000 everything is read: a malformed tail there is a malformed body.
        var most = string.Join(",", Enumerable.Repeat("{\"type\":\"noop\"}", QueueEndpoints.MaxBatchSize));
        await Problem(await Http.PostAsync("/queues/default/messages/batch", Json($"[{most}, oops")), HttpStatusCode.BadRequest, "malformed-json");
        await Problem(await Http.PostAsync("/queues/default/messages/batch", Json($"[{most}] trailing")), HttpStatusCode.BadRequest, "malformed-json");
        await Problem(await Http.PostAsync("/queues/default/messages/batch", Json("{\"type\":\"noop\"}")), HttpStatusCode.BadRequest, "invalid-request");

        await AwaitStatus("default", kept, "succeeded");
        var stats = (await Http.GetFromJsonAsync<JsonObject>("/queues/default"))!;
        Assert.Equal(1, stats["totals"]!["enqueued"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_locked_journal_answers_503_and_the_queue_recovers_with_everything_it_accepted()
    {
        var kept = await Enqueue("default", "noop", "{\"n\":1}");
        await AwaitStatus("default", kept, "succeeded");
        var before = await Enqueue("small", "stuck", "{\"n\":2}");

        // Another process holding SQLite's write lock is what a dead or stuck journal looks like to the node.
        await using (var locker = new SqliteConnection($"Data Source={Path.Combine(Node.DataDirectory, "actors.db")};Pooling=False"))
        {
            await locker.OpenAsync();
            await using (var begin = locker.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE;";
                await begin.ExecuteNonQueryAsync();
            }
            var down = await Http.PostAsync("/queues/default/messages", Json("{\"type\":\"noop\",\"payload\":3}"));
            await Problem(down, HttpStatusCode.ServiceUnavailable, "journal-unavailable");
            Assert.NotNull(down.Headers.RetryAfter);
            // The readiness probe takes the node out of service while its journal takes no writes.
            var notReady = await Problem(await Http.GetAsync("/health/ready"), HttpStatusCode.ServiceUnavailable, "not-ready");
            Assert.Contains("journal", notReady["detail"]!.GetValue<string>(), StringComparison.Ordinal);
            await using var rollback = locker.CreateCommand();
            rollback.CommandText = "ROLLBACK;";
            await rollback.ExecuteNonQueryAsync();
        }

        HttpResponseMessage response = null!;
        await Poll.WaitFor(async () => (response = await Http.PostAsync("/queues/default/messages", Json("{\"type\":\"noop\",\"payload\":4}"))).StatusCode == HttpStatusCode.Accepted,
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        Assert.Equal("succeeded", (await Message("default", kept))["status"]!.GetValue<string>());
        Assert.Equal("{\"n\":2}", (await Message("small", before))["payload"]!.ToJsonString());
        await Poll.Until(async () => (await Http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK, "the node to be ready again", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task A_draining_node_refuses_new_work_with_503_shutting_down_and_keeps_what_it_accepted()
    {
        var kept = await Enqueue("default", "noop", "{\"n\":1}");
        await AwaitStatus("default", kept, "succeeded");
        var scheduled = (await Body(await Http.PostAsync("/queues/default/messages", Json("{\"type\":\"noop\",\"delay\":\"PT1H\"}")), HttpStatusCode.Accepted))["id"]!.GetValue<long>();

        // What SIGTERM does first: every queue stops taking work and lets its deliveries finish.
        var registry = Node.Services.GetRequiredService<Akka.Hosting.ActorRegistry>();
        registry.Get<Actors.Hosting.DurableQueueManager>().Tell(Protocol.QueueCommands.Drain.Instance);

        HttpResponseMessage refused = null!;
        await Poll.Until(async () => (refused = await Http.PostAsync("/queues/default/messages", Json("{\"type\":\"noop\"}"))).StatusCode != HttpStatusCode.Accepted,
            "the queue to start draining", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50));
        var problem = await Problem(refused, HttpStatusCode.ServiceUnavailable, "shutting-down");
        Assert.Equal("ShuttingDown", problem["code"]!.GetValue<string>());
        var batch = await Body(await Http.PostAsync("/queues/default/messages/batch", Json("[{\"type\":\"noop\"}]")), HttpStatusCode.OK);
        Assert.Equal((0, "ShuttingDown"), (batch["accepted"]!.GetValue<int>(), batch["results"]![0]!["error"]!["code"]!.GetValue<string>()));

        Assert.Equal("succeeded", (await Message("default", kept))["status"]!.GetValue<string>());
        Assert.Equal("scheduled", (await Message("default", scheduled))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Dead_letters_are_listed_grouped_deleted_and_redriven()
    {
        var ids = new List<long>();
        for (var i = 0; i < 3; i++) ids.Add(await Enqueue("dlq", "no_handler", $"{{\"n\":{i}}}"));
        foreach (var id in ids) await AwaitStatus("dlq", id, "dead-lettered");

        var page = (await Http.GetFromJsonAsync<JsonObject>("/queues/dlq/dead-letters?limit=2"))!;
        Assert.Equal(3, page["total"]!.GetValue<int>());
        Assert.Equal(2, page["items"]!.AsArray().Count);
        Assert.Contains("no_handler", page["items"]![0]!["lastError"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        var next = (await Http.GetFromJsonAsync<JsonObject>(page["next"]!.GetValue<string>()))!;
        Assert.Equal([ids[2]], next["items"]!.AsArray().Select(d => d!["id"]!.GetValue<long>()));
        var groups = (await Http.GetFromJsonAsync<JsonObject>("/queues/dlq/dead-letters/groups"))!;
        Assert.Equal(3, groups["groups"]![0]!["count"]!.GetValue<int>());
        var filtered = (await Http.GetFromJsonAsync<JsonObject>("/queues/dlq/dead-letters?type=other"))!;
        Assert.Equal(0, filtered["total"]!.GetValue<int>());

        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync($"/queues/dlq/dead-letters/{ids[0]}")).StatusCode);
        await Problem(await Http.DeleteAsync($"/queues/dlq/dead-letters/{ids[0]}"), HttpStatusCode.NotFound, "dead-letter-not-found");
        var redrive = await Http.PostAsync("/queues/dlq/dead-letters/redrive", Json($"{{\"ids\":[{ids[1]}]}}"));
        Assert.Equal(1, (await redrive.Content.ReadFromJsonAsync<JsonObject>())!["redriven"]!.GetValue<int>());
        await Problem(await Http.PostAsync("/queues/dlq/dead-letters/redrive", Json("{\"ids\": [")), HttpStatusCode.BadRequest, "malformed-json");
        await AwaitStatus("dlq", ids[1], "dead-lettered"); // still no handler: back in the dead-letter set, attempts fresh
        var purge = await Http.DeleteAsync("/queues/dlq/dead-letters");
        Assert.Equal(2, (await purge.Content.ReadFromJsonAsync<JsonObject>())!["purged"]!.GetValue<int>());
        await Problem(await Http.GetAsync("/queues/nope/dead-letters"), HttpStatusCode.NotFound, "unknown-queue");
    }

    [Fact]
    public async Task A_large_redrive_answers_202_with_a_job_that_is_listed_in_stats_and_can_be_cancelled()
    {
        const int count = 100;
        var batch = string.Join(",", Enumerable.Range(0, count).Select(i => $"{{\"type\":\"no_handler\",\"payload\":{i}}}"));
        Assert.True((await Http.PostAsync("/queues/dlqjob/messages/batch", Json($"[{batch}]"))).IsSuccessStatusCode);
        await AwaitJson("/queues/dlqjob", s => s["deadLettered"]!.GetValue<long>() == count, "every message to be dead-lettered");

        var response = await Http.PostAsync("/queues/dlqjob/dead-letters/redrive", Json("{}"));
        var accepted = await Body(response, HttpStatusCode.Accepted);
        var job = accepted["job"]!.AsObject();
        var jobId = job["id"]!.GetValue<string>();
        var status = $"/queues/dlqjob/dead-letters/redrives/{jobId}";
        Assert.Equal(status, response.Headers.Location!.OriginalString);
        Assert.Equal((0, count, count), (accepted["redriven"]!.GetValue<int>(), accepted["selected"]!.GetValue<int>(), job["total"]!.GetValue<int>()));

        var progress = await Body(await Http.GetAsync(status), HttpStatusCode.OK);
        Assert.Equal((jobId, count), (progress["id"]!.GetValue<string>(), progress["total"]!.GetValue<int>()));
        Assert.Equal(count, progress["redriven"]!.GetValue<int>() + progress["remaining"]!.GetValue<int>());
        var stats = (await Http.GetFromJsonAsync<JsonObject>("/queues/dlqjob"))!;
        Assert.Equal(jobId, stats["redriveJobs"]![0]!["id"]!.GetValue<string>());
        var list = (await Http.GetFromJsonAsync<JsonObject>("/queues/dlqjob/dead-letters/redrives"))!;
        Assert.Equal([jobId], list["jobs"]!.AsArray().Select(j => j!["id"]!.GetValue<string>()));

        var cancelled = await Body(await Http.DeleteAsync(status), HttpStatusCode.OK);
        Assert.True(cancelled["cancelled"]!.GetValue<bool>());
        Assert.True(cancelled["job"]!["remaining"]!.GetValue<int>() > 0, cancelled.ToJsonString());
        await Problem(await Http.DeleteAsync(status), HttpStatusCode.NotFound, "redrive-job-not-found");
        await Problem(await Http.GetAsync(status), HttpStatusCode.NotFound, "redrive-job-not-found");
        Assert.Empty((await Http.GetFromJsonAsync<JsonObject>("/queues/dlqjob/dead-letters/redrives"))!["jobs"]!.AsArray());
        Assert.Empty((await Http.GetFromJsonAsync<JsonObject>("/queues/dlqjob"))!["redriveJobs"]!.AsArray());
    }

    [Fact]
    public async Task Health_and_openapi_answer()
    {
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync("/health/live")).StatusCode);
        var ready = (await Http.GetFromJsonAsync<JsonObject>("/health/ready"))!;
        Assert.Equal("ready", ready["status"]!.GetValue<string>());
        // A standalone node hosts every partition of every queue: default, dlq, small and the partitions of parts.
        Assert.True(ready["queues"]!.GetValue<int>() >= 4, ready.ToJsonString());
        Assert.Equal("ready", ready["checks"]!["journal"]!["status"]!.GetValue<string>());
        Assert.Equal("ready", ready["checks"]!["queues"]!["status"]!.GetValue<string>());
        var openApi = (await Http.GetFromJsonAsync<JsonObject>("/openapi/v1.json"))!;
        Assert.NotNull(openApi["paths"]!["/queues/{queue}/messages"]);
    }

    [Fact]
    public async Task Cluster_status_shows_a_standalone_node_hosting_every_queue_and_its_workers()
    {
        // Each queue learns its workers from its pool router right after it starts.
        var status = await AwaitJson("/cluster", s => s["queues"]!.AsArray().All(q => q!["workersByNode"]!.AsObject().Count > 0), "every queue's workers");
        Assert.Equal("standalone", status["mode"]!.GetValue<string>());
        var self = status["self"]!.GetValue<string>();
        Assert.Equal(self, status["members"]!.AsArray().Single()!["address"]!.GetValue<string>());
        var queues = status["queues"]!.AsArray().Select(q => q!).ToList();
        Assert.Equal(["default", "dlq", "dlqjob", "parts", "small"], queues.Select(q => q["queue"]!.GetValue<string>()).Order());
        Assert.All(queues, q =>
        {
            Assert.Equal(self, q["node"]!.GetValue<string>());
            Assert.True(q["workersByNode"]?[self]?.GetValue<int>() > 0, q.ToJsonString());
        });
    }

    [Fact]
    public async Task A_partitioned_queue_routes_by_key_and_answers_for_all_its_partitions()
    {
        var ids = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            var response = await Http.PostAsync("/queues/parts/messages", Json($"{{\"type\":\"echo\",\"payload\":{i},\"key\":\"customer-{i % 2}\"}}"));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<long>();
            Assert.Equal(Partitions.OfKey($"customer-{i % 2}", 3), Partitions.OfMessage(id));
            ids.Add(id);
        }
        for (var i = 0; i < 6; i++)
            Assert.Equal(i, (await AwaitStatus("parts", ids[i], "succeeded"))["result"]!.GetValue<int>());
        var stats = (await Http.GetFromJsonAsync<JsonObject>("/queues/parts"))!;
        Assert.Equal(6, stats["totals"]!["succeeded"]!.GetValue<int>());
    }

    [Fact]
    public async Task An_autoscaled_queue_shows_its_active_target_and_deployed_workers_summed_over_its_partitions()
    {
        var stats = await AwaitJson("/queues/parts", s => s["autoscale"]?["activeWorkers"]?.GetValue<int>() == 6, "two active workers in each of three partitions");
        var autoscale = stats["autoscale"]!;
        Assert.Equal((6, 12, 0), (autoscale["targetWorkers"]!.GetValue<int>(), autoscale["deployedWorkers"]!.GetValue<int>(), autoscale["drainingWorkers"]!.GetValue<int>()));
        Assert.Equal(0.8, autoscale["targetUtilisation"]!.GetValue<double>());
        Assert.Equal(6, stats["workers"]!.GetValue<int>());
        Assert.Null((await Http.GetFromJsonAsync<JsonObject>("/queues/default"))!["autoscale"]);
    }
}

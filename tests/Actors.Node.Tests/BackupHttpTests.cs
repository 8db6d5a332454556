using Actors.Core.Tests;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Actors.Http.Security;

namespace Actors.Node.Tests;

/// <summary>
/// <c>POST /admin/backup</c> under load, and a second node started on the copy: every message acknowledged before the
/// backup began is there with its state. Listing, downloading and the refusals of the backup routes.
/// </summary>
public sealed class BackupHttpTests() : NodeHttpTest(new Dictionary<string, string?>())
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_node_started_on_a_backup_taken_under_load_recovers_every_message_acknowledged_before_it()
    {
        // Producers keep enqueuing through the backup; each records the ids it was answered 202 for.
        var acknowledged = new ConcurrentDictionary<long, string>();
        using var stop = new CancellationTokenSource();
        async Task Produce(int producer)
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var payload = $"{{\"producer\":{producer},\"n\":{n}}}";
                using var response = await Http.PostAsync("/queues/default/messages", Json($"{{\"type\":\"echo\",\"payload\":{payload}}}"));
                if (response.StatusCode != HttpStatusCode.Accepted) continue;
                var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<long>();
                acknowledged[id] = payload;
            }
        }
        var producers = Enumerable.Range(0, 4).Select(p => Task.Run(() => Produce(p))).ToArray();
        await Poll.Until(() => acknowledged.Count >= 300, "300 messages acknowledged", Wait);

        // The state each message had on the first node before the backup began: a finished one must stay finished.
        var before = acknowledged.ToDictionary(p => p.Key, p => p.Value);
        var statusBefore = new Dictionary<long, JsonObject>();
        foreach (var id in before.Keys) statusBefore[id] = await Message(Http, id);
        var taken = await Body(await Http.PostAsync("/admin/backup", null), HttpStatusCode.OK);
        await stop.CancelAsync();
        await Task.WhenAll(producers);

        var path = taken["path"]!.GetValue<string>();
        Assert.True(Path.IsPathRooted(path));
        Assert.Equal(Path.GetFullPath(Path.Combine(Node.DataDirectory, "backups")), Path.GetDirectoryName(path));
        Assert.Matches(@"^actors-[0-9]{8}T[0-9]{6}Z\.db$", Path.GetFileName(path));
        Assert.Equal(new FileInfo(path).Length, taken["bytes"]!.GetValue<long>());
        var sequenceNumbers = taken["lastSequenceNumbers"]!.AsObject();
        Assert.True(sequenceNumbers["queue-default-0"]!.GetValue<long>() > 0, taken.ToJsonString());

        // Listed, and downloadable byte for byte.
        var listed = await Body(await Http.GetAsync("/admin/backups"), HttpStatusCode.OK);
        Assert.Contains(listed["backups"]!.AsArray(), b => b!["name"]!.GetValue<string>() == Path.GetFileName(path) && b["bytes"]!.GetValue<long>() == taken["bytes"]!.GetValue<long>());
        using var download = await Http.GetAsync("/admin/backups/" + Path.GetFileName(path));
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("application/vnd.sqlite3", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal(await File.ReadAllBytesAsync(path), await download.Content.ReadAsByteArrayAsync());

        // A second node on a fresh data directory whose database file is the backup.
        await using var restored = new NodeFactory(new Dictionary<string, string?>());
        Directory.CreateDirectory(restored.DataDirectory);
        File.Copy(path, Path.Combine(restored.DataDirectory, "actors.db"));
        using var http = restored.CreateClient();
        foreach (var (id, payload) in before)
        {
            var message = await Message(http, id);
            Assert.Equal("echo", message["type"]!.GetValue<string>());
            if (message["payload"] is { } stored) Assert.Equal(JsonNode.Parse(payload)!.ToJsonString(), stored.ToJsonString());
            if (statusBefore[id]["status"]!.GetValue<string>() == "succeeded")
            {
                Assert.Equal("succeeded", message["status"]!.GetValue<string>());
                Assert.Equal(statusBefore[id]["attempts"]!.GetValue<int>(), message["attempts"]!.GetValue<int>());
            }
        }
    }

    [Fact]
    public async Task Unknown_backup_names_are_404_and_names_that_are_not_backup_names_400()
    {
        await Problem(await Http.GetAsync("/admin/backups/actors-20260101T000000Z.db"), HttpStatusCode.NotFound, "unknown-backup");
        // The database itself, a traversal (encoded so the client keeps it), and near misses of the pattern.
        foreach (var name in new[] { "actors.db", "..%2Factors.db", "..%2F..%2Fetc%2Fpasswd", "actors-20260101T000000Z.db%0A", "..%5Cactors.db", "actors-20260101T000000Z.db.partial", "ACTORS-20260101T000000Z.DB" })
            await Problem(await Http.GetAsync("/admin/backups/" + name), HttpStatusCode.BadRequest, "invalid-backup-name");
        var listed = await Body(await Http.GetAsync("/admin/backups"), HttpStatusCode.OK);
        Assert.Empty(listed["backups"]!.AsArray());
    }

    [Fact]
    public async Task Two_backups_in_the_same_second_get_two_files()
    {
        var first = await Body(await Http.PostAsync("/admin/backup", null), HttpStatusCode.OK);
        var second = await Body(await Http.PostAsync("/admin/backup", null), HttpStatusCode.OK);
        Assert.NotEqual(first["path"]!.GetValue<string>(), second["path"]!.GetValue<string>());
        var listed = await Body(await Http.GetAsync("/admin/backups"), HttpStatusCode.OK);
        Assert.Equal(2, listed["backups"]!.AsArray().Count);
    }

    [Fact]
    public async Task Backup_routes_need_the_admin_permission()
    {
        var (key, hash) = ApiKeys.Generate();
        await using var node = new NodeFactory(new Dictionary<string, string?>
        {
            ["Actors:Auth:Keys:reader:Hash"] = hash,
            ["Actors:Auth:Keys:reader:Permissions:0"] = "read:*",
            ["Actors:Auth:Keys:reader:Permissions:1"] = "manage:*",
        });
        using var http = node.CreateClient();
        http.DefaultRequestHeaders.Add("X-Api-Key", key);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.PostAsync("/admin/backup", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("/admin/backups")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("/admin/backups/actors-20260101T000000Z.db")).StatusCode);
        Assert.False(Directory.Exists(Path.Combine(node.DataDirectory, "backups")));
    }

    private static async Task<JsonObject> Message(HttpClient http, long id)
    {
        using var response = await http.GetAsync($"/queues/default/messages/{id}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted, $"message {id}: {response.StatusCode} {body}");
        return JsonNode.Parse(body)!.AsObject();
    }
}

/// <summary>A PostgreSQL node has no file to copy: its backup routes point to pg_dump.</summary>
public sealed class PostgresBackupHttpTests
{
    [Fact]
    public async Task A_PostgreSQL_node_answers_501_pointing_to_pg_dump()
    {
        // Nothing listens on port 9: the routes answer without touching the database.
        await using var node = new NodeFactory(new Dictionary<string, string?>
        {
            ["Actors:Journal"] = "PostgreSql",
            ["Actors:ConnectionString"] = "Host=127.0.0.1;Port=9;Username=postgres;Database=actors;Timeout=1",
        });
        using var http = node.CreateClient();
        foreach (var response in new[] { await http.PostAsync("/admin/backup", null), await http.GetAsync("/admin/backups") })
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.NotImplemented, $"{response.StatusCode}: {body}");
            var problem = JsonNode.Parse(body)!.AsObject();
            Assert.Equal("urn:actors:problem:backup-not-supported", problem["type"]!.GetValue<string>());
            Assert.Contains("pg_dump", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }
        Assert.False(Directory.Exists(Path.Combine(node.DataDirectory, "backups")));
    }
}

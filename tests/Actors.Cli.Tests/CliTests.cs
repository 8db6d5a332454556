using System.Text.Json.Nodes;
using Actors.Core.Tests;

namespace Actors.Cli.Tests;

/// <summary>The <c>actors</c> commands against an in-process node: tables, <c>--json</c>, and the exit code of each class of failure.</summary>
public sealed class CliTests(CliNode node) : IClassFixture<CliNode>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private async Task<JsonNode> AwaitStatus(string queue, long id, string status)
    {
        JsonNode message = null!;
        var reached = await Poll.WaitFor(async () =>
            (message = (await node.Run("get", queue, id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json")).Json())["status"]!.GetValue<string>() == status, Patience);
        Assert.True(reached, $"message {id} of {queue} never reached {status}: {message?.ToJsonString()}");
        return message!;
    }

    private async Task<long> Enqueue(string queue, string type, string payload) =>
        (await node.Run("enqueue", queue, type, payload, "--json")).Json()["id"]!.GetValue<long>();

    [Fact]
    public async Task Queues_prints_a_table_with_a_row_per_queue()
    {
        var lines = (await node.Run("queues")).Ok().Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.StartsWith("QUEUE", lines[0], StringComparison.Ordinal);
        Assert.Contains("DEPTH", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines.Skip(1), l => l.StartsWith("default ", StringComparison.Ordinal));
        Assert.Contains(lines.Skip(1), l => l.StartsWith("dlq ", StringComparison.Ordinal));
        var json = (await node.Run("queues", "--json")).Json();
        Assert.Contains(json["queues"]!.AsArray(), q => q!["queue"]!.GetValue<string>() == "default");
    }

    [Fact]
    public async Task Enqueue_then_get_in_json_shows_the_message_and_its_result()
    {
        var enqueued = (await node.Run("enqueue", "default", "echo", "{\"hello\":\"world\"}", "--json")).Json();
        Assert.Equal("queued", enqueued["status"]!.GetValue<string>());
        var id = enqueued["id"]!.GetValue<long>();

        var message = await AwaitStatus("default", id, "succeeded");
        Assert.Equal("echo", message["type"]!.GetValue<string>());
        Assert.Equal("world", message["result"]!["hello"]!.GetValue<string>());

        var table = (await node.Run("get", "default", id.ToString(System.Globalization.CultureInfo.InvariantCulture))).Ok();
        Assert.Contains("status:", table, StringComparison.Ordinal);
        Assert.Contains("succeeded", table, StringComparison.Ordinal);

        // A delayed message keeps its ordering key and priority as headers until it runs.
        var delayed = (await node.Run("enqueue", "default", "echo", "{}", "--key", "k1", "--priority", "3", "--delay", "2h", "--json")).Json();
        Assert.Equal("scheduled", delayed["status"]!.GetValue<string>());
        var waiting = (await node.Run("get", "default", delayed["id"]!.ToJsonString(), "--json")).Json();
        Assert.Equal("k1", waiting["headers"]!["key"]!.GetValue<string>());
        Assert.Equal("3", waiting["headers"]!["priority"]!.GetValue<string>());
        Assert.True(DateTimeOffset.Parse(waiting["dueAt"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.AddHours(1));
    }

    [Fact]
    public async Task Enqueue_reads_the_payload_from_standard_input_or_a_file_and_keeps_a_delay()
    {
        var fromInput = await node.RunWith(new Dictionary<string, string?> { ["ACTORS_API_KEY"] = CliNode.Key }, "[1,2,3]", "enqueue", "default", "echo", "-", "--json");
        var inputId = fromInput.Json()["id"]!.GetValue<long>();
        Assert.Equal(3, (await AwaitStatus("default", inputId, "succeeded"))["result"]!.AsArray().Count);

        var file = Path.Combine(node.DataDirectory, "payload.json");
        await File.WriteAllTextAsync(file, "{\"from\":\"file\"}");
        var fileId = await Enqueue("default", "echo", "@" + file);
        Assert.Equal("file", (await AwaitStatus("default", fileId, "succeeded"))["result"]!["from"]!.GetValue<string>());

        var delayed = (await node.Run("enqueue", "default", "noop", "null", "--delay", "1h", "--idempotency-key", "cli-delayed")).Ok();
        Assert.Contains("scheduled", delayed, StringComparison.Ordinal);
        var replayed = (await node.Run("enqueue", "default", "noop", "null", "--delay", "1h", "--idempotency-key", "cli-delayed")).Ok();
        Assert.Contains("idempotent replay", replayed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dead_letters_are_listed_grouped_redriven_and_purged()
    {
        var first = await Enqueue("dlq", "no_handler", "{\"n\":1}");
        var second = await Enqueue("dlq", "no_handler", "{\"n\":2}");
        await AwaitStatus("dlq", first, "dead-lettered");
        await AwaitStatus("dlq", second, "dead-lettered");

        var list = (await node.Run("dlq", "list", "dlq", "--json")).Json();
        Assert.Equal(2, list["total"]!.GetValue<int>());
        Assert.Equal([first, second], list["items"]!.AsArray().Select(d => d!["id"]!.GetValue<long>()));
        var table = (await node.Run("dlq", "list", "dlq")).Ok();
        Assert.StartsWith("ID", table, StringComparison.Ordinal);
        Assert.Contains("2 of 2 dead letters", table, StringComparison.Ordinal);
        Assert.Equal(0, (await node.Run("dlq", "list", "dlq", "--type", "other", "--json")).Json()["total"]!.GetValue<int>());
        var groups = (await node.Run("dlq", "groups", "dlq", "--json")).Json();
        Assert.Equal(2, groups["groups"]![0]!["count"]!.GetValue<int>());

        var redrive = (await node.Run("dlq", "redrive", "dlq", "--ids", first.ToString(System.Globalization.CultureInfo.InvariantCulture))).Ok();
        Assert.Contains("redriven 1", redrive, StringComparison.Ordinal);
        // Still no handler: back in the dead-letter set once its one attempt fails again.
        await Poll.Until(async () => (await node.Run("get", "dlq", first.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json")).Json()["attempts"]!.GetValue<int>() == 1
            && (await node.Run("dlq", "list", "dlq", "--json")).Json()["total"]!.GetValue<int>() == 2, "the redriven message dead-lettered again", Patience);

        var unselected = await node.Run("dlq", "purge", "dlq");
        Assert.Equal(ExitCodes.Usage, unselected.Code);
        Assert.Contains("--all", unselected.Error, StringComparison.Ordinal);
        Assert.Contains("purged 1", (await node.Run("dlq", "purge", "dlq", "--ids", second.ToString(System.Globalization.CultureInfo.InvariantCulture))).Ok(), StringComparison.Ordinal);
        Assert.Equal(1, (await node.Run("dlq", "purge", "dlq", "--all", "--json")).Json()["purged"]!.GetValue<long>());
        Assert.Equal(0, (await node.Run("dlq", "list", "dlq", "--json")).Json()["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task An_unknown_queue_or_message_exits_2_with_the_reason()
    {
        var queue = await node.Run("stats", "nope");
        Assert.Equal(ExitCodes.NotFound, queue.Code);
        Assert.Contains("nope", queue.Error, StringComparison.Ordinal);
        Assert.Contains("unknown-queue", queue.Error, StringComparison.Ordinal);
        Assert.Equal("", queue.Out);

        var message = await node.Run("get", "default", "987654321");
        Assert.Equal(ExitCodes.NotFound, message.Code);
        Assert.Contains("message-not-found", message.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotFound, (await node.Run("schedules", "get", "no-such-schedule")).Code);
    }

    [Fact]
    public async Task A_wrong_or_missing_api_key_exits_4()
    {
        var wrong = await node.RunWith(new Dictionary<string, string?>(), null, "queues", "--api-key", "not-the-key");
        Assert.Equal(ExitCodes.Auth, wrong.Code);
        Assert.Contains("unauthenticated", wrong.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Auth, (await node.RunWith(new Dictionary<string, string?>(), null, "queues")).Code);
        var forbidden = await node.RunWith(new Dictionary<string, string?>(), null, "dlq", "purge", "dlq", "--all", "--api-key", CliNode.ReaderKey);
        Assert.Equal(ExitCodes.Auth, forbidden.Code);
        Assert.Contains("forbidden", forbidden.Error, StringComparison.Ordinal);
        // The environment supplies the key when the command line does not.
        (await node.RunWith(new Dictionary<string, string?> { ["ACTORS_API_KEY"] = CliNode.Key }, null, "queues")).Ok();
    }

    [Fact]
    public async Task Usage_errors_exit_1_and_a_key_that_is_not_parked_exits_3()
    {
        Assert.Equal(ExitCodes.Usage, (await node.Run("enqueue", "default", "echo", "{not json")).Code);
        Assert.Equal(ExitCodes.Usage, (await node.Run("enqueue", "default", "echo", "1", "--delay", "soon")).Code);
        Assert.Equal(ExitCodes.Usage, (await node.Run("no-such-command")).Code);
        Assert.Equal(ExitCodes.Usage, (await node.Run("queues", "--url", "ftp://example")).Code);
        // Nothing listens on port 1: the CLI's own client finds no node there.
        Assert.Equal(ExitCodes.Unavailable, await Cli.RunAsync(["queues", "--url", "http://127.0.0.1:1"], TextWriter.Null, TextWriter.Null, environment: _ => null));
        var notParked = await node.Run("keys", "release", "keyed", "never-parked");
        Assert.Equal(ExitCodes.Refused, notParked.Code);
        Assert.Contains("key-not-parked", notParked.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_parked_key_is_skipped_and_then_is_no_longer_parked()
    {
        // No handler for "missing": dead-lettered at once, which parks its key; the echo behind it waits.
        var stuck = await Enqueue("keyed", "missing", "{}");
        var parked = (await node.Run("enqueue", "keyed", "missing", "{}", "--key", "k1", "--json")).Json()["id"]!.GetValue<long>();
        var behind = (await node.Run("enqueue", "keyed", "echo", "{}", "--key", "k1", "--json")).Json()["id"]!.GetValue<long>();
        await AwaitStatus("keyed", parked, "parked");

        var skipped = (await node.Run("keys", "skip", "keyed", "k1")).Ok();
        Assert.Contains($"key k1 skipped: messages {parked}", skipped, StringComparison.Ordinal);
        await AwaitStatus("keyed", behind, "succeeded");
        Assert.Equal(ExitCodes.Refused, (await node.Run("keys", "skip", "keyed", "k1")).Code);
        await AwaitStatus("keyed", stuck, "dead-lettered"); // without a key, nothing parks
    }

    [Fact]
    public async Task Stats_watch_prints_a_snapshot_a_second_until_cancelled()
    {
        using var stop = new CancellationTokenSource();
        using var output = new LinesUntil(2, stop);
        using var error = new StringWriter();
        var code = await Cli.RunAsync(["stats", "default", "--watch", "--json", "--api-key", CliNode.Key], output, error, node.Http, _ => null, cancellationToken: stop.Token);

        Assert.True(code == 0, error.ToString());
        var snapshots = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(snapshots.Length >= 2, output.ToString());
        Assert.All(snapshots, s => Assert.Equal("default", JsonNode.Parse(s)!["queue"]!.GetValue<string>()));
        Assert.Contains("Little's Law waiting", (await node.Run("stats", "default")).Ok(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Schedules_are_listed_triggered_paused_and_deleted()
    {
        using var put = new HttpRequestMessage(HttpMethod.Put, "/schedules/cli-nightly")
        {
            Content = new StringContent("{\"every\":\"PT1H\",\"queue\":\"default\",\"type\":\"noop\"}", System.Text.Encoding.UTF8, "application/json"),
        };
        put.Headers.Authorization = new("Bearer", CliNode.Key);
        Assert.True((await node.Http.SendAsync(put)).IsSuccessStatusCode);

        var list = (await node.Run("schedules", "list")).Ok();
        Assert.Contains(list.Split('\n'), l => l.StartsWith("cli-nightly ", StringComparison.Ordinal) && l.Contains("every PT1H", StringComparison.Ordinal));
        var fired = (await node.Run("schedules", "trigger", "cli-nightly", "--json")).Json();
        await AwaitStatus("default", fired["messageId"]!.GetValue<long>(), "succeeded");
        Assert.True((await node.Run("schedules", "pause", "cli-nightly", "--json")).Json()["paused"]!.GetValue<bool>());
        Assert.False((await node.Run("schedules", "resume", "cli-nightly", "--json")).Json()["paused"]!.GetValue<bool>());
        Assert.Contains("deleted schedule cli-nightly", (await node.Run("schedules", "delete", "cli-nightly")).Ok(), StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotFound, (await node.Run("schedules", "delete", "cli-nightly")).Code);
    }

    [Fact]
    public async Task Cluster_shows_a_standalone_node_as_its_only_member()
    {
        var json = (await node.Run("cluster", "--json")).Json();
        Assert.Single(json["members"]!.AsArray());
        var table = (await node.Run("cluster")).Ok();
        Assert.Contains("MEMBER", table, StringComparison.Ordinal);
        Assert.Contains("default", table, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("30s", "30")]
    [InlineData("5m", "300")]
    [InlineData("2h", "7200")]
    [InlineData("1d", "86400")]
    [InlineData("250ms", "0.25")]
    [InlineData("12", "12")]
    [InlineData("pt10m", "\"PT10M\"")]
    public void Delays_are_sent_as_seconds_or_iso_durations(string given, string sent) =>
        Assert.Equal(sent, Commands.QueueCommands.Delay(given).ToJsonString());

    [Fact]
    public void Ids_are_taken_comma_separated_or_repeated() =>
        Assert.Equal([1L, 2, 3], Commands.DeadLetterCommands.ParseIds(["1,2", "3"]));

    /// <summary>Standard output that cancels the run once it has received <paramref name="lines"/> lines.</summary>
    private sealed class LinesUntil(int lines, CancellationTokenSource stop) : StringWriter
    {
        private int _seen;

        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            if (Interlocked.Increment(ref _seen) >= lines) stop.Cancel();
        }
    }
}

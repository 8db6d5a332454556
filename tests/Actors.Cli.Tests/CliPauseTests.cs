using System.Globalization;
using System.Text.Json.Nodes;
using Actors.Core.Tests;

namespace Actors.Cli.Tests;

/// <summary><c>actors pause</c>, <c>resume</c> and <c>get --idempotency-key</c> against an in-process node.</summary>
public sealed class CliPauseTests(CliNode node) : IClassFixture<CliNode>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private async Task<JsonNode> AwaitStats(Func<JsonNode, bool> done, string what)
    {
        JsonNode stats = null!;
        Assert.True(await Poll.WaitFor(async () => done(stats = (await node.Run("stats", "pausable", "--json")).Json()), Patience), $"{what}: {stats?.ToJsonString()}");
        return stats!;
    }

    [Fact]
    public async Task Pause_holds_deliveries_with_its_reason_in_stats_and_resume_runs_them()
    {
        var paused = (await node.Run("pause", "pausable", "--reason", "deploy")).Ok();
        Assert.Contains("paused since", paused, StringComparison.Ordinal);
        Assert.Contains("by ops: deploy", paused, StringComparison.Ordinal);

        var id = (await node.Run("enqueue", "pausable", "echo", "{\"n\":1}", "--idempotency-key", "cli-17", "--json")).Json()["id"]!.GetValue<long>();
        var stats = await AwaitStats(s => s["depth"]!.GetValue<long>() == 1, "the message to wait");
        Assert.True(stats["paused"]!.GetValue<bool>());
        Assert.Contains("deploy", (await node.Run("stats", "pausable")).Ok(), StringComparison.Ordinal);

        // Found by its idempotency key, still queued.
        var found = (await node.Run("get", "pausable", "--idempotency-key", "cli-17", "--json")).Json();
        Assert.Equal((id, "queued"), (found["id"]!.GetValue<long>(), found["status"]!.GetValue<string>()));

        Assert.Contains("running", (await node.Run("resume", "pausable")).Ok(), StringComparison.Ordinal);
        await AwaitStats(s => s["totals"]!["succeeded"]!.GetValue<long>() == 1, "the message to succeed after the resume");
        Assert.Contains("succeeded", (await node.Run("get", "pausable", "--idempotency-key", "cli-17")).Ok(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pausing_an_unknown_queue_exits_2_and_get_needs_an_id_or_a_key()
    {
        Assert.Equal(ExitCodes.NotFound, (await node.Run("pause", "nope")).Code);
        Assert.Equal(ExitCodes.NotFound, (await node.Run("get", "pausable", "--idempotency-key", "never-used")).Code);
        Assert.Equal(ExitCodes.Usage, (await node.Run("get", "pausable")).Code);
        Assert.Equal(ExitCodes.Usage, (await node.Run("get", "pausable", "1", "--idempotency-key", "k")).Code);
        Assert.Equal(ExitCodes.NotFound, (await node.Run("get", "pausable", 987654321L.ToString(CultureInfo.InvariantCulture))).Code);
    }
}

namespace Actors.Cli.Tests;

/// <summary><c>actors purge</c> and <c>actors delete-queue</c> against an in-process node.</summary>
public sealed class CliQueueLifecycleTests(CliNode node) : IClassFixture<CliNode>
{
    [Fact]
    public async Task Purge_needs_yes_and_drops_what_waits()
    {
        (await node.Run("pause", "pausable")).Ok();
        try
        {
            for (var i = 0; i < 2; i++) (await node.Run("enqueue", "pausable", "echo", "{}")).Ok();
            var unconfirmed = await node.Run("purge", "pausable");
            Assert.Equal(ExitCodes.Usage, unconfirmed.Code);
            Assert.Contains("--yes", unconfirmed.Error, StringComparison.Ordinal);

            Assert.Equal(2, (await node.Run("purge", "pausable", "--yes", "--json")).Json()["purged"]!.GetValue<int>());
            Assert.Contains("purged 0 message(s) from pausable", (await node.Run("purge", "pausable", "--yes")).Ok(), StringComparison.Ordinal);
            Assert.Equal(ExitCodes.NotFound, (await node.Run("purge", "nope", "--yes")).Code);
        }
        finally
        {
            (await node.Run("resume", "pausable")).Ok();
        }
    }

    [Fact]
    public async Task Delete_queue_needs_yes_refuses_a_configured_queue_with_3_and_deletes_a_declared_one()
    {
        using (var declare = new HttpRequestMessage(HttpMethod.Put, "queues/cli-temp"))
        {
            declare.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", CliNode.Key);
            Assert.Equal(System.Net.HttpStatusCode.Created, (await node.Http.SendAsync(declare)).StatusCode);
        }
        (await node.Run("enqueue", "cli-temp", "echo", "{}")).Ok();

        Assert.Equal(ExitCodes.Usage, (await node.Run("delete-queue", "cli-temp")).Code);
        var configured = await node.Run("delete-queue", "dlq", "--yes");
        Assert.Equal(ExitCodes.Refused, configured.Code);
        Assert.Contains("delete-refused", configured.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Refused, (await node.Run("delete-queue", "cli-temp", "--yes", "--if-empty")).Code);

        Assert.Contains("deleted cli-temp (1 message(s))", (await node.Run("delete-queue", "cli-temp", "--yes")).Ok(), StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotFound, (await node.Run("stats", "cli-temp")).Code);
    }
}

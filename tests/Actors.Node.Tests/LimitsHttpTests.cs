using System.Net;

namespace Actors.Node.Tests;

/// <summary>Rate and concurrency limits in a node's configuration: shown in the queue's statistics, and refused at start when ≤ 0.</summary>
public sealed class LimitsHttpTests() : NodeHttpTest(new Dictionary<string, string?>
{
    ["Actors:Queues:paced:RateLimit:Permits"] = "100",
    ["Actors:Queues:paced:RateLimit:Period"] = "00:00:01",
    ["Actors:Queues:paced:RateLimit:Burst"] = "20",
    ["Actors:Queues:paced:MaxConcurrency"] = "4",
    ["Actors:Queues:paced:Partitions"] = "2",
})
{
    [Fact]
    public async Task A_queues_statistics_show_its_limits_summed_over_its_partitions()
    {
        var stats = await Body(await Http.GetAsync("/queues/paced"), HttpStatusCode.OK);
        var limits = stats["limits"]!.AsObject();
        Assert.Equal(100, limits["rate"]!["permits"]!.GetValue<int>());
        Assert.Equal("00:00:01", limits["rate"]!["period"]!.GetValue<string>());
        Assert.Equal(20, limits["rate"]!["burst"]!.GetValue<int>());
        Assert.Equal(4, limits["maxConcurrency"]!.GetValue<int>());
        Assert.Equal(0, limits["waitedForRate"]!.GetValue<long>());
        Assert.Null((await Body(await Http.GetAsync("/queues/default"), HttpStatusCode.OK))["limits"]);
    }

    [Theory]
    [InlineData("Actors:Queues:limited:MaxConcurrency", "0", "Queue 'limited': MaxConcurrency must be 1–1,000,000, was 0.")]
    [InlineData("Actors:Queues:limited:RateLimit:Permits", "0", "Queue 'limited': RateLimit.Permits must be 1–1,000,000, was 0.")]
    [InlineData("Actors:Queues:limited:RateLimit:Burst", "-1", "Queue 'limited': RateLimit.Burst must be 1–1,000,000, was -1.")]
    [InlineData("Actors:Queues:limited:RateLimit:Period", "00:00:00", "Queue 'limited': RateLimit.Period must be 1 ms – 1 day, was 00:00:00.")]
    public async Task A_node_configured_with_a_limit_of_zero_or_less_does_not_start_and_says_which(string key, string value, string expected)
    {
        await using var node = new NodeFactory(new Dictionary<string, string?>
        {
            ["Actors:Queues:limited:RateLimit:Permits"] = "10",
            [key] = value,
        });
        var error = Assert.ThrowsAny<Exception>(() => node.CreateClient());
        var messages = new List<string>();
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
            if (e is AggregateException aggregate) messages.AddRange(aggregate.Flatten().InnerExceptions.Select(i => i.Message));
        }
        Assert.Contains(expected, messages);
    }
}

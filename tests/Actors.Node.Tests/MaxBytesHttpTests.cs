using System.Net;
using System.Text.Json;

namespace Actors.Node.Tests;

/// <summary>A queue's byte limit over HTTP: past <c>MaxBytes</c> of held payloads a POST is 429 queue-full, and what was accepted before is intact.</summary>
public sealed class MaxBytesHttpTests() : NodeHttpTest(new Dictionary<string, string?>
{
    ["Actors:Queues:bytes:MaxBytes"] = "1048576",
    ["Actors:Queues:bytes:AllowedTypes:0"] = "stuck",
    ["Actors:Queues:bytes:Retry:BaseDelay"] = "01:00:00",
    ["Actors:Queues:bytes:Retry:MaxDelay"] = "01:00:00",
    // A webhook nobody listens on: each attempt fails fast and the retry is an hour away, so messages stay put.
    ["Actors:Webhooks:stuck:Url"] = "http://127.0.0.1:9/",
    ["Actors:Webhooks:stuck:Timeout"] = "00:00:02",
    ["Actors:Webhooks:stuck:AllowedNetworks:0"] = "127.0.0.0/8",
})
{
    private static string Payload(char fill) => JsonSerializer.Serialize(new string(fill, 400_000));

    [Fact]
    public async Task A_post_past_the_queue_byte_limit_is_429_queue_full_naming_bytes_and_earlier_messages_are_intact()
    {
        var kept = new List<long>();
        foreach (var fill in "ab")
        {
            var accepted = await Body(await Http.PostAsync("/queues/bytes/messages", Json($"{{\"type\":\"stuck\",\"payload\":{Payload(fill)}}}")), HttpStatusCode.Accepted);
            kept.Add(accepted["id"]!.GetValue<long>());
        }

        var full = await Problem(await Http.PostAsync("/queues/bytes/messages", Json($"{{\"type\":\"stuck\",\"payload\":{Payload('c')}}}")), HttpStatusCode.TooManyRequests, "queue-full");
        Assert.Contains("1048576 bytes", full["detail"]!.GetValue<string>());
        // A small message still fits.
        await Body(await Http.PostAsync("/queues/bytes/messages", Json("{\"type\":\"stuck\",\"payload\":1}")), HttpStatusCode.Accepted);

        foreach (var (id, fill) in kept.Zip("ab"))
        {
            var message = await Body(await Http.GetAsync($"/queues/bytes/messages/{id}"), HttpStatusCode.OK);
            Assert.Equal(Payload(fill), message["payload"]!.ToJsonString());
        }
    }
}

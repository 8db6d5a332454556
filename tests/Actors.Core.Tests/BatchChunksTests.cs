using Actors.Client;
using Actors.Configuration;
using static Actors.Protocol.QueueCommands;

namespace Actors.Core.Tests;

public sealed class BatchChunksTests
{
    private static NewMessage Message(int payloadBytes) => new("t", new byte[payloadBytes]);

    [Fact]
    public void Runs_cover_the_batch_in_order_and_each_stays_under_the_limit_unless_it_holds_one_message()
    {
        var batch = new[] { 100, 300, 300, 50, 2000, 10, 10 }.Select(Message).ToList();
        var runs = BatchChunks.Runs(batch, maxRunBytes: 700).ToList();

        Assert.Equal(Enumerable.Range(0, batch.Count), runs.SelectMany(r => Enumerable.Range(r.Start, r.Count)));
        Assert.All(runs, r => Assert.True(r.Count == 1 || batch.Skip(r.Start).Take(r.Count).Sum(BatchChunks.EstimatedBytes) <= 700));
        // The 2,000-byte message is alone in its run; the small ones around it are grouped.
        Assert.Contains((4, 1), runs);
        Assert.Equal(4, runs.Count);
    }

    [Fact]
    public void A_batch_under_the_limit_is_one_run_and_an_empty_one_none()
    {
        Assert.Equal([(0, 3)], BatchChunks.Runs([Message(1), Message(2), Message(3)]));
        Assert.Empty(BatchChunks.Runs([]));
    }

    [Fact]
    public void The_remoting_frame_holds_the_largest_payload_a_queue_accepts()
    {
        var options = new DurableQueuesOptions();
        Assert.Equal(16 * 1024 * 1024, DurableQueues.MaximumFrameBytes(options));
        options.AddQueue("big", q => q.MaxPayloadBytes = 40 * 1024 * 1024);
        Assert.True(DurableQueues.MaximumFrameBytes(options) > 40 * 1024 * 1024);
    }
}

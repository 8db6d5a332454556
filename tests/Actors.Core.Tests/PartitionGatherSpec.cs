using System.Collections.Immutable;
using Actors.Protocol;
using Actors.Queues;
using Akka.Actor;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueQueries;

namespace Actors.Core.Tests;

/// <summary>A gathered request always answers its requester, also when a partition never does.</summary>
public class PartitionGatherSpec : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task PartitionGather_must_answer_a_query_with_queue_unavailable_when_a_partition_times_out()
    {
        var (p0, p1) = (CreateTestProbe(), CreateTestProbe());
        var request = new GetStats("q");
        var requests = new List<(IActorRef, IWithQueueId)> { (p0.Ref, request with { QueueId = "q" }), (p1.Ref, request with { QueueId = "q#1" }) };
        Sys.ActorOf(PartitionGather.Props("q", requests, _ => "merged",
            (_, reason) => QueueHost.Unavailable(request, RejectionCode.JournalUnavailable, reason)!, TestActor, Timeout));

        await p0.ExpectMsgAsync<GetStats>();
        await p1.ExpectMsgAsync<GetStats>();
        p0.Reply("partition 0's stats");

        var unavailable = await ExpectMsgAsync<QueueUnavailable>(TimeSpan.FromSeconds(5));
        Assert.Equal("q", unavailable.QueueId);
        Assert.Contains("1 of 2 partitions", unavailable.Reason, StringComparison.Ordinal);
        await ExpectNoMsgAsync(Timeout * 2);
    }

    [Fact]
    public async Task PartitionGather_must_answer_a_batch_with_the_answered_outcomes_and_journal_unavailable_for_the_rest()
    {
        var (p0, p1) = (CreateTestProbe(), CreateTestProbe());
        NewMessage Message(int i) => new("t", new byte[] { (byte)i });
        var batch = new EnqueueBatch("q", [Message(0), Message(1), Message(2)], CorrelationId: 9);
        // Items 0 and 2 went to partition 0, item 1 to partition 1.
        int[][] indices = [[0, 2], [1]];
        var requests = new List<(IActorRef, IWithQueueId)>
        {
            (p0.Ref, batch with { QueueId = "q", Messages = [Message(0), Message(2)], CorrelationId = 0 }),
            (p1.Ref, batch with { QueueId = "q#1", Messages = [Message(1)], CorrelationId = 1 }),
        };
        Sys.ActorOf(PartitionGather.Props("q", requests,
            replies => PartitionMerge.Batch("q", 9, 3, indices, replies),
            (replies, reason) => PartitionMerge.Batch("q", 9, 3, indices, replies, reason), TestActor, Timeout));

        await p0.ExpectMsgAsync<EnqueueBatch>();
        p0.Reply(new BatchResult("q", [new EnqueueOutcome(1, null, null), new EnqueueOutcome(2, null, null)], 0));

        var result = await ExpectMsgAsync<BatchResult>(TimeSpan.FromSeconds(5));
        Assert.Equal(9, result.CorrelationId);
        Assert.Equal([1L, null, 2L], result.Outcomes.Select(o => o.MessageId));
        Assert.Equal(RejectionCode.JournalUnavailable, result.Outcomes[1].Code);
    }

    [Fact]
    public async Task PartitionGather_must_merge_when_every_partition_answers_in_time()
    {
        var (p0, p1) = (CreateTestProbe(), CreateTestProbe());
        var request = new GetStats("q");
        var requests = new List<(IActorRef, IWithQueueId)> { (p0.Ref, request), (p1.Ref, request with { QueueId = "q#1" }) };
        Sys.ActorOf(PartitionGather.Props("q", requests, replies => string.Join("+", replies.Cast<string>().Order(StringComparer.Ordinal)),
            (_, reason) => reason, TestActor, Timeout));

        await p0.ExpectMsgAsync<GetStats>();
        p0.Reply("a");
        await p1.ExpectMsgAsync<GetStats>();
        p1.Reply("b");

        Assert.Equal("a+b", await ExpectMsgAsync<string>());
        await ExpectNoMsgAsync(Timeout * 2);
    }
}

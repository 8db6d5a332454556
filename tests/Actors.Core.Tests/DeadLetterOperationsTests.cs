using Actors.Protocol;
using Actors.Queues;
using static Actors.Protocol.QueueEvents;

namespace Actors.Core.Tests;

public class DeadLetterOperationsTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static PendingWrite CommitAll(GroupCommitWriter writer)
    {
        var write = writer.StartWrite();
        for (var i = 0; i < write.Events.Count; i++)
        {
            writer.CommitNext(out var index);
            write.Callbacks[index]?.Invoke();
        }
        writer.Complete(write);
        return write;
    }

    [Fact]
    public void A_redrive_is_persisted_one_chunk_per_tick_and_answered_after_its_last_chunk()
    {
        // 100/s with a 100 ms tick: 10 a chunk.
        var operations = new DeadLetterOperations("q", redrivePerSecond: 100, TimeSpan.FromMilliseconds(100));
        var writer = new GroupCommitWriter(writesInFlight: 1);
        var requester = CreateTestProbe();
        var committed = 0;
        Assert.Equal(10, operations.RedriveChunkSize);

        Assert.True(operations.QueueRedrive(requester.Ref, Enumerable.Range(1, 25).Select(i => (long)i).ToList()));
        var chunks = new List<int>();
        while (operations.BufferNextRedriveChunk(writer, T0, () => committed++))
        {
            var write = CommitAll(writer);
            chunks.Add(((DeadLettersRedrivenEvent)write.Events.Single()).Ids.Length);
            if (chunks.Count < 3) Assert.False(requester.HasMessages);
        }

        Assert.Equal(new[] { 10, 10, 5 }, chunks);
        Assert.Equal(3, committed);
        Assert.Equal(0, operations.QueuedRedrives);
        Assert.Equal(25, requester.ExpectMsg<DeadLetterCommands.DeadLettersRedriven>().Count);
    }

    [Fact]
    public void An_empty_redrive_or_purge_buffers_nothing()
    {
        var operations = new DeadLetterOperations("q", redrivePerSecond: 100, TimeSpan.FromMilliseconds(100));
        var writer = new GroupCommitWriter(writesInFlight: 1);

        Assert.False(operations.QueueRedrive(TestActor, []));
        Assert.False(operations.BufferNextRedriveChunk(writer, T0, () => { }));
        Assert.False(operations.BufferPurge(writer, [], TestActor, T0));
        Assert.False(writer.HasBuffered);
    }

    [Fact]
    public void A_purge_is_written_in_chunks_and_answered_once_after_the_last()
    {
        var operations = new DeadLetterOperations("q", redrivePerSecond: 100, TimeSpan.FromMilliseconds(100));
        var writer = new GroupCommitWriter(writesInFlight: 1);
        var requester = CreateTestProbe();
        var ids = Enumerable.Range(1, 2 * DeadLetterOperations.PurgeChunk + 1).Select(i => (long)i).ToList();

        Assert.True(operations.BufferPurge(writer, ids, requester.Ref, T0));
        var write = writer.StartWrite();

        Assert.Equal(new[] { DeadLetterOperations.PurgeChunk, DeadLetterOperations.PurgeChunk, 1 }, write.Events.Select(e => ((DeadLettersPurgedEvent)e).Ids.Length));
        write.Callbacks[0]!();
        write.Callbacks[1]!();
        Assert.False(requester.HasMessages);
        write.Callbacks[2]!();
        Assert.Equal(ids.Count, requester.ExpectMsg<DeadLetterCommands.DeadLettersPurged>().Count);
        requester.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_rejected_redrive_chunk_answers_its_requester_at_once_and_drops_the_rest_of_the_job()
    {
        var operations = new DeadLetterOperations("q", redrivePerSecond: 100, TimeSpan.FromMilliseconds(100));
        var writer = new GroupCommitWriter(writesInFlight: 1);
        var requester = CreateTestProbe();
        Assert.True(operations.QueueRedrive(requester.Ref, Enumerable.Range(1, 25).Select(i => (long)i).ToList()));

        Assert.True(operations.BufferNextRedriveChunk(writer, T0, () => { }));
        CommitAll(writer);
        Assert.True(operations.BufferNextRedriveChunk(writer, T0, () => { }));
        writer.Reject(writer.StartWrite(), "q", "rejected", _ => { });

        var failure = requester.ExpectMsg<QueueQueries.QueueUnavailable>();
        Assert.Contains("10 dead letters redriven before", failure.Reason, StringComparison.Ordinal);
        Assert.Equal(0, operations.QueuedRedrives);
        Assert.False(operations.BufferNextRedriveChunk(writer, T0, () => { }));
        requester.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Queued_redrives_are_answered_when_the_journal_fails()
    {
        var operations = new DeadLetterOperations("q", redrivePerSecond: 100, TimeSpan.FromMilliseconds(100));
        var writer = new GroupCommitWriter(writesInFlight: 1);
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        operations.QueueRedrive(first.Ref, Enumerable.Range(1, 25).Select(i => (long)i).ToList());
        operations.QueueRedrive(second.Ref, [100]);
        Assert.True(operations.BufferNextRedriveChunk(writer, T0, () => { }));
        writer.StartWrite();

        writer.FailAll("q", "down");
        operations.FailAll("the journal is unavailable");

        first.ExpectMsg<QueueQueries.QueueUnavailable>();
        second.ExpectMsg<QueueQueries.QueueUnavailable>();
        Assert.Equal(0, operations.QueuedRedrives);
        first.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_rejected_purge_answers_its_requester_once()
    {
        var operations = new DeadLetterOperations("q", redrivePerSecond: 100, TimeSpan.FromMilliseconds(100));
        var writer = new GroupCommitWriter(writesInFlight: 1);
        var requester = CreateTestProbe();
        var ids = Enumerable.Range(1, 2 * DeadLetterOperations.PurgeChunk + 1).Select(i => (long)i).ToList();

        Assert.True(operations.BufferPurge(writer, ids, requester.Ref, T0));
        writer.Reject(writer.StartWrite(), "q", "rejected", _ => { });

        Assert.Contains("purge", requester.ExpectMsg<QueueQueries.QueueUnavailable>().Reason, StringComparison.Ordinal);
        requester.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }
}

using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Protocol;
using Actors.Queues;
using Actors.State;
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
    public void A_small_redrive_is_one_event_answered_after_it_commits()
    {
        // 100/s with a 100 ms tick: 10 a chunk.
        var operations = new DeadLetterOperations("q", redrivePerSecond: 100, TimeSpan.FromMilliseconds(100));
        var writer = new GroupCommitWriter(writesInFlight: 1);
        var requester = CreateTestProbe();
        var committed = 0;
        Assert.Equal(10, operations.RedriveChunkSize);

        Assert.True(operations.BufferRedrive(writer, [1, 2, 3], requester.Ref, T0, () => committed++));
        Assert.False(requester.HasMessages);
        var write = CommitAll(writer);

        Assert.Equal(new long[] { 1, 2, 3 }, ((DeadLettersRedrivenEvent)write.Events.Single()).Ids);
        Assert.Equal(1, committed);
        Assert.Equal(3, requester.ExpectMsg<DeadLetterCommands.DeadLettersRedriven>().Count);
    }

    [Fact]
    public void An_empty_redrive_or_purge_buffers_nothing()
    {
        var operations = new DeadLetterOperations("q", redrivePerSecond: 100, TimeSpan.FromMilliseconds(100));
        var writer = new GroupCommitWriter(writesInFlight: 1);

        Assert.False(operations.BufferRedrive(writer, [], TestActor, T0, () => { }));
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
    public void A_rejected_small_redrive_answers_its_requester_with_journal_unavailable()
    {
        var operations = new DeadLetterOperations("q", redrivePerSecond: 100, TimeSpan.FromMilliseconds(100));
        var writer = new GroupCommitWriter(writesInFlight: 1);
        var requester = CreateTestProbe();

        Assert.True(operations.BufferRedrive(writer, [1, 2], requester.Ref, T0, () => { }));
        writer.Reject(writer.StartWrite(), "q", "rejected", _ => { });

        Assert.Contains("redrive", requester.ExpectMsg<QueueQueries.QueueUnavailable>().Reason, StringComparison.Ordinal);
        requester.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_job_chunk_redrives_only_what_is_still_dead_lettered_and_answers_the_job()
    {
        var state = new QueueState("q", new QueueOptions());
        state.Apply(new MessagesEnqueued([
            new EnqueuedMessage(1, "t", new byte[] { 1 }, ImmutableDictionary<string, string>.Empty, T0),
            new EnqueuedMessage(2, "t", new byte[] { 2 }, ImmutableDictionary<string, string>.Empty, T0),
        ]), 1);
        state.Apply(new DeadLettered(2, 1, new ErrorInfo("E", "m", null, null, T0), "gave up"), 2);
        var writer = new GroupCommitWriter(writesInFlight: 1);
        var job = CreateTestProbe();

        // Id 1 is not dead-lettered (any more) and 3 is unknown: only 2 is written.
        Assert.True(DeadLetterOperations.BufferChunk(writer, state, new RedriveProtocol.Chunk("j", 3, [1, 2, 3]), job.Ref, T0, () => { }));
        Assert.False(job.HasMessages);
        var write = CommitAll(writer);
        Assert.Equal(new long[] { 2 }, ((DeadLettersRedrivenEvent)write.Events.Single()).Ids);
        Assert.Equal(new RedriveProtocol.ChunkStored("j", 3), job.ExpectMsg<RedriveProtocol.ChunkStored>());

        // A chunk with nothing left to redrive (sent again after a crash) is answered at once, with nothing written.
        Assert.False(DeadLetterOperations.BufferChunk(writer, state, new RedriveProtocol.Chunk("j", 3, [1, 3]), job.Ref, T0, () => { }));
        Assert.False(writer.HasBuffered);
        Assert.Equal(new RedriveProtocol.ChunkStored("j", 3), job.ExpectMsg<RedriveProtocol.ChunkStored>());
    }

    [Fact]
    public void A_rejected_job_chunk_tells_the_job_to_send_it_again()
    {
        var state = new QueueState("q", new QueueOptions());
        state.Apply(new MessagesEnqueued([new EnqueuedMessage(1, "t", new byte[] { 1 }, ImmutableDictionary<string, string>.Empty, T0)]), 1);
        state.Apply(new DeadLettered(1, 1, new ErrorInfo("E", "m", null, null, T0), "gave up"), 2);
        var writer = new GroupCommitWriter(writesInFlight: 1);
        var job = CreateTestProbe();

        Assert.True(DeadLetterOperations.BufferChunk(writer, state, new RedriveProtocol.Chunk("j", 1, [1]), job.Ref, T0, () => { }));
        writer.Reject(writer.StartWrite(), "q", "rejected", _ => { });

        Assert.Equal(("j", 1), job.ExpectMsg<RedriveProtocol.ChunkFailed>() is var f ? (f.JobId, f.End) : default);
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

using Actors.State;
using static Actors.Protocol.RedriveJobs;

namespace Actors.Core.Tests;

public class RedriveJobBookTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Jobs_run_oldest_first_one_chunk_at_a_time_from_their_stored_position()
    {
        var book = new RedriveJobBook(partition: 2);
        book.Apply(new RedriveJobStarted("a", [1, 2, 3, 4, 5], T0, "ops"));
        book.Apply(new RedriveJobStarted("b", [9], T0.AddSeconds(1), null));

        var first = book.NextChunk(2)!;
        Assert.Equal(("a", 2), (first.JobId, first.End));
        Assert.Equal(new long[] { 1, 2 }, first.Ids.ToArray());
        book.Apply(new RedriveChunkDone("a", 2));
        Assert.Equal(new long[] { 3, 4 }, book.NextChunk(2)!.Ids.ToArray());
        Assert.Equal(new RedriveJobStatus("a", 2, 5, 2, T0, "ops"), book.Statuses()[0]);
        Assert.Equal(3, book.Statuses()[0].Remaining);

        book.Apply(new RedriveChunkDone("a", 5));
        Assert.True(book.IsComplete("a"));
        Assert.True(book.NextChunk(2)!.Ids.IsEmpty);
        book.Apply(new RedriveJobFinished("a", T0));
        Assert.Equal("b", book.NextChunk(2)!.JobId);
        Assert.Equal(["b"], book.Statuses().Select(s => s.JobId));
    }

    [Fact]
    public void A_cancelled_job_is_gone_and_late_progress_for_it_changes_nothing()
    {
        var book = new RedriveJobBook(partition: 0);
        book.Apply(new RedriveJobStarted("a", [1, 2, 3], T0, null));
        book.Apply(new RedriveJobCancelled("a", T0, "ops"));
        book.Apply(new RedriveChunkDone("a", 2));

        Assert.True(book.IsEmpty);
        Assert.Null(book.NextChunk(10));
        Assert.Null(book.Status("a"));
    }

    [Fact]
    public void Progress_never_goes_back_and_a_snapshot_restores_the_positions()
    {
        var book = new RedriveJobBook(partition: 1);
        book.Apply(new RedriveJobStarted("a", [1, 2, 3, 4], T0, null));
        book.Apply(new RedriveChunkDone("a", 3));
        book.Apply(new RedriveChunkDone("a", 1)); // a stale chunk answer

        var restored = RedriveJobBook.FromSnapshot(1, book.ToSnapshot());
        Assert.Equal(book.Statuses().ToArray(), restored.Statuses().ToArray());
        Assert.Equal(new long[] { 4 }, restored.NextChunk(10)!.Ids.ToArray());
    }
}

using System.Collections.Immutable;
using Actors.Protocol;
using Actors.Queues;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueEvents;

namespace Actors.Core.Tests;

public class GroupCommitWriterTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static EnqueuedMessage Message(long id) => new(id, "work", new byte[] { 1 }, ImmutableDictionary<string, string>.Empty, T0);

    private static ErrorInfo Error() => new("boom", "boom", null, null, T0);

    /// <summary>Records the answers a producer would get.</summary>
    private sealed class RecordingReply : IReplyTarget
    {
        public long? AcceptedId { get; private set; }
        public RejectionCode? RejectedWith { get; private set; }
        public int Answers { get; private set; }

        public void Accept(string queueId, long messageId, bool replayed)
        {
            AcceptedId = messageId;
            Answers++;
        }

        public void Reject(string queueId, RejectionCode code, string reason)
        {
            RejectedWith = code;
            Answers++;
        }
    }

    private static List<RecordingReply> BufferMessages(GroupCommitWriter writer, int count, long firstId = 1)
    {
        var replies = new List<RecordingReply>();
        for (var i = 0; i < count; i++)
        {
            var reply = new RecordingReply();
            replies.Add(reply);
            writer.BufferMessage(Message(firstId + i), reply);
        }
        return replies;
    }

    [Fact]
    public void A_write_carries_at_most_MessagesPerWrite_messages_in_events_of_MessagesPerEvent_and_the_rest_wait()
    {
        var writer = new GroupCommitWriter(writesInFlight: 2);
        BufferMessages(writer, QueueActor.MessagesPerWrite + 150);

        var write = writer.StartWrite();

        Assert.Equal(QueueActor.MessagesPerWrite / QueueActor.MessagesPerEvent, write.Events.Count);
        Assert.All(write.Events, e => Assert.Equal(QueueActor.MessagesPerEvent, Assert.IsType<MessagesEnqueued>(e).Messages.Length));
        Assert.Equal(1L, ((MessagesEnqueued)write.Events[0]).Messages[0].Id);
        Assert.True(writer.HasBuffered);
        Assert.Equal(QueueActor.MessagesPerWrite + 150, writer.UnappliedEnqueues);

        var rest = writer.StartWrite();
        Assert.Equal(new[] { 100, 50 }, rest.Events.Select(e => ((MessagesEnqueued)e).Messages.Length));
        Assert.Equal(QueueActor.MessagesPerWrite + 1L, ((MessagesEnqueued)rest.Events[0]).Messages[0].Id);
        Assert.False(writer.HasBuffered);
    }

    [Fact]
    public void Acks_are_grouped_per_AcksPerEvent_and_decisions_follow_them_with_their_callbacks()
    {
        var writer = new GroupCommitWriter(writesInFlight: 1);
        for (var i = 0; i < QueueActor.AcksPerEvent + 1; i++) writer.BufferAck(new AckedMessage(i, 1, null, T0));
        var ran = 0;
        writer.BufferDecision(new RetryScheduled(7, 1, Error(), T0), () => ran++);

        var write = writer.StartWrite();

        Assert.Equal(3, write.Events.Count);
        Assert.Equal(QueueActor.AcksPerEvent, ((MessagesAcked)write.Events[0]).Acks.Length);
        Assert.Single(((MessagesAcked)write.Events[1]).Acks);
        Assert.IsType<RetryScheduled>(write.Events[2]);
        Assert.Null(write.Callbacks[0]);
        write.Callbacks[2]!();
        Assert.Equal(1, ran);
    }

    [Fact]
    public void No_more_writes_start_than_the_journal_allows_in_flight()
    {
        var writer = new GroupCommitWriter(writesInFlight: 1);
        BufferMessages(writer, 1);
        Assert.True(writer.CanStartWrite);
        var first = writer.StartWrite();

        BufferMessages(writer, 1, firstId: 2);
        Assert.False(writer.CanStartWrite);
        Assert.Equal(1, writer.WritesInFlight);

        writer.CommitNext(out _);
        Assert.True(first.IsDone);
        Assert.True(writer.Complete(first));
        Assert.False(writer.Complete(first));
        Assert.True(writer.CanStartWrite);
    }

    [Fact]
    public void Commits_are_matched_to_the_oldest_write_in_order_and_producers_are_answered_with_their_ids()
    {
        var writer = new GroupCommitWriter(writesInFlight: 2);
        var replies = BufferMessages(writer, QueueActor.MessagesPerEvent + 1);
        var first = writer.StartWrite();
        BufferMessages(writer, 1, firstId: 500);
        var second = writer.StartWrite();

        var write = writer.CommitNext(out var index);
        Assert.Same(first, write);
        Assert.Equal(0, index);
        writer.Accept("q", (MessagesEnqueued)write.Events[index], write.Replies[index]!);
        Assert.Equal(1L, replies[0].AcceptedId);
        Assert.Null(replies[^1].AcceptedId);
        Assert.False(first.IsDone);

        write = writer.CommitNext(out index);
        Assert.Equal((first, 1), (write, index));
        writer.Accept("q", (MessagesEnqueued)write.Events[index], write.Replies[index]!);
        Assert.True(first.IsDone);
        Assert.Equal(QueueActor.MessagesPerEvent + 1L, replies[^1].AcceptedId);
        Assert.Equal(1, writer.UnappliedEnqueues);
        writer.Complete(first);

        Assert.Same(second, writer.CommitNext(out _));
    }

    [Fact]
    public void A_rejected_write_answers_its_producers_and_returns_its_acks_and_decisions_to_ready()
    {
        var writer = new GroupCommitWriter(writesInFlight: 1);
        var replies = BufferMessages(writer, 2);
        writer.BufferAck(new AckedMessage(10, 1, null, T0));
        writer.BufferDecision(new DeadLettered(11, 3, Error(), "attempts"));
        writer.BufferDecision(new DeadLettersPurgedEvent([12], T0));
        var write = writer.StartWrite();
        var returned = new List<long>();

        Assert.Same(write, writer.RemoveWriteOf(write.Events[1]));
        Assert.Null(writer.RemoveWriteOf(write.Events[0]));
        writer.Reject(write, "q", "rejected", returned.Add);

        Assert.All(replies, r => Assert.Equal(RejectionCode.JournalUnavailable, r.RejectedWith));
        Assert.Equal(new long[] { 10, 11 }, returned);
        Assert.Equal(0, writer.UnappliedEnqueues);
        Assert.True(writer.IsIdle);
    }

    [Fact]
    public void A_journal_failure_answers_everyone_waiting_once_and_drops_buffered_messages()
    {
        var writer = new GroupCommitWriter(writesInFlight: 1);
        var inFlight = BufferMessages(writer, 2);
        writer.StartWrite();
        var buffered = BufferMessages(writer, 3, firstId: 3);

        writer.FailAll("q", "down");

        Assert.All(inFlight.Concat(buffered), r => Assert.Equal((RejectionCode.JournalUnavailable, 1), (r.RejectedWith!.Value, r.Answers)));
        Assert.Equal(0, writer.WritesInFlight);
        Assert.False(writer.HasBuffered);
    }

    [Fact]
    public void A_batch_is_answered_once_when_its_last_item_is_known()
    {
        var probe = CreateTestProbe();
        var outcomes = new EnqueueOutcome[3];
        outcomes[1] = new EnqueueOutcome(null, RejectionCode.PayloadTooLarge, "too large");
        var batch = new BatchReply(probe.Ref, correlationId: 42, outcomes) { Remaining = 2 };

        new BatchItemReply(batch, 0).Accept("q", 5, replayed: false);
        Assert.False(probe.HasMessages);
        new BatchItemReply(batch, 2).Reject("q", RejectionCode.JournalUnavailable, "down");

        var result = probe.ExpectMsg<BatchResult>();
        Assert.Equal(42, result.CorrelationId);
        Assert.Equal(5L, result.Outcomes[0].MessageId);
        Assert.Equal(RejectionCode.PayloadTooLarge, result.Outcomes[1].Code);
        Assert.Equal(RejectionCode.JournalUnavailable, result.Outcomes[2].Code);
    }
}

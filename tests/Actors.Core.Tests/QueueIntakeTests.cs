using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Protocol;
using Actors.Queues;
using Actors.State;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueEvents;

namespace Actors.Core.Tests;

public class QueueIntakeTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private sealed class FixedClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => T0;
    }

    private static Enqueue Command(string type = "work", int bytes = 1, long correlationId = 0) => new("q", type, new byte[bytes], CorrelationId: correlationId);

    [Fact]
    public void Accepted_messages_get_the_next_ids_and_the_enqueue_time_and_wait_for_the_write()
    {
        var intake = new QueueIntake("q", new FixedClock());
        intake.ContinueAfter(41);
        var writer = new GroupCommitWriter(writesInFlight: 1);
        var state = new QueueState("q", new QueueOptions());

        Assert.Null(intake.Enqueue(Command(correlationId: 7), TestActor, state, writer));
        Assert.Null(intake.Enqueue(Command(), TestActor, state, writer));

        var enqueued = (MessagesEnqueued)writer.StartWrite().Events.Single();
        Assert.Equal(new[] { 42L, 43L }, enqueued.Messages.Select(m => m.Id));
        Assert.All(enqueued.Messages, m => Assert.Equal(T0.UtcDateTime, m.EnqueuedAt));
        Assert.Equal(43, intake.LastId);
        Assert.False(HasMessages);
    }

    [Fact]
    public void A_full_queue_counts_messages_accepted_but_not_yet_written()
    {
        var intake = new QueueIntake("q", new FixedClock());
        var writer = new GroupCommitWriter(writesInFlight: 1);
        var state = new QueueState("q", new QueueOptions { MaxLength = 2 });

        Assert.Null(intake.Enqueue(Command(), TestActor, state, writer));
        Assert.Null(intake.Enqueue(Command(), TestActor, state, writer));
        var rejected = Assert.IsType<Rejected>(intake.Enqueue(Command(correlationId: 9), TestActor, state, writer));

        Assert.Equal((RejectionCode.QueueFull, 9L), (rejected.Code, rejected.CorrelationId));
        Assert.Equal(2, writer.UnappliedEnqueues);
    }

    [Fact]
    public void A_batch_with_nothing_valid_is_answered_at_once_and_a_partly_valid_one_after_its_write()
    {
        var intake = new QueueIntake("q", new FixedClock());
        var writer = new GroupCommitWriter(writesInFlight: 1);
        var state = new QueueState("q", new QueueOptions { MaxPayloadBytes = 10 });
        var tooLarge = new NewMessage("work", new byte[11]);

        var result = intake.EnqueueBatch(new EnqueueBatch("q", [tooLarge, tooLarge], 3), TestActor, state, writer);
        Assert.Equal(new RejectionCode?[] { RejectionCode.PayloadTooLarge, RejectionCode.PayloadTooLarge }, result!.Outcomes.Select(o => o.Code));
        Assert.False(writer.HasBuffered);

        Assert.Null(intake.EnqueueBatch(new EnqueueBatch("q", [new NewMessage("work", new byte[1]), tooLarge], 4), TestActor, state, writer));
        var write = writer.StartWrite();
        writer.CommitNext(out var index);
        writer.Accept("q", (MessagesEnqueued)write.Events[index], write.Replies[index]!);
        var answer = ExpectMsg<BatchResult>();
        Assert.Equal(4, answer.CorrelationId);
        Assert.Equal(1L, answer.Outcomes[0].MessageId);
        Assert.Equal(RejectionCode.PayloadTooLarge, answer.Outcomes[1].Code);
    }

    [Fact]
    public void While_shutting_down_every_message_is_refused()
    {
        var intake = new QueueIntake("q", new FixedClock());

        Assert.Equal(RejectionCode.ShuttingDown, intake.ShuttingDown(Command()).Code);
        var batch = intake.ShuttingDown(new EnqueueBatch("q", [new NewMessage("work", new byte[1]), new NewMessage("work", new byte[1])], 5));
        Assert.Equal((2, 5L), (batch.Outcomes.Count(o => o.Code == RejectionCode.ShuttingDown), batch.CorrelationId));
    }

    private static Enqueue Keyed(string key, string payload = "a", long correlationId = 0, MessageTiming? timing = null) =>
        new("q", "work", System.Text.Encoding.UTF8.GetBytes(payload), CorrelationId: correlationId, IdempotencyKey: key, Timing: timing);

    /// <summary>Commits everything buffered into <paramref name="state"/>, as the actor does from the write's callback.</summary>
    private static void CommitAll(QueueIntake intake, GroupCommitWriter writer, QueueState state)
    {
        var write = writer.StartWrite();
        foreach (var _ in write.Events)
        {
            writer.CommitNext(out var index);
            var enqueued = (MessagesEnqueued)write.Events[index];
            state.Apply(enqueued);
            writer.Accept("q", enqueued, write.Replies[index]!);
            intake.Committed(enqueued);
        }
        writer.Complete(write);
    }

    [Fact]
    public void A_repeated_idempotency_key_gets_the_first_answer_and_a_different_request_under_it_is_refused()
    {
        var intake = new QueueIntake("q", new FixedClock());
        var writer = new GroupCommitWriter(writesInFlight: 1);
        var state = new QueueState("q", new QueueOptions());

        Assert.Null(intake.Enqueue(Keyed("order-17", correlationId: 1), TestActor, state, writer));
        // While the first is being written: in progress, or a mismatch when the request differs.
        Assert.Equal(RejectionCode.IdempotencyKeyInProgress, Assert.IsType<Rejected>(intake.Enqueue(Keyed("order-17", correlationId: 2), TestActor, state, writer)).Code);
        Assert.Equal(RejectionCode.IdempotencyKeyMismatch, Assert.IsType<Rejected>(intake.Enqueue(Keyed("order-17", "b"), TestActor, state, writer)).Code);
        CommitAll(intake, writer, state);
        var first = ExpectMsg<Accepted>();
        Assert.False(first.Replayed);

        var again = Assert.IsType<Accepted>(intake.Enqueue(Keyed("order-17", correlationId: 3), TestActor, state, writer));
        Assert.Equal((first.MessageId, true, 3L), (again.MessageId, again.Replayed, again.CorrelationId));
        Assert.Equal(RejectionCode.IdempotencyKeyMismatch, Assert.IsType<Rejected>(intake.Enqueue(Keyed("order-17", "b"), TestActor, state, writer)).Code);
        Assert.Equal(RejectionCode.IdempotencyKeyMismatch,
            Assert.IsType<Rejected>(intake.Enqueue(Keyed("order-17", timing: MessageTiming.After(TimeSpan.FromSeconds(1))), TestActor, state, writer)).Code);
        Assert.False(writer.HasBuffered);
        Assert.Equal(1, state.PendingCount);
    }

    [Fact]
    public void A_key_repeated_inside_one_batch_gets_the_first_items_id_after_its_write()
    {
        var intake = new QueueIntake("q", new FixedClock());
        var writer = new GroupCommitWriter(writesInFlight: 1);
        var state = new QueueState("q", new QueueOptions());
        var item = new NewMessage("work", new byte[] { 1 }, IdempotencyKey: "k");

        Assert.Null(intake.EnqueueBatch(new EnqueueBatch("q", [item, item, item with { Payload = new byte[] { 2 } }], 8), TestActor, state, writer));
        CommitAll(intake, writer, state);
        var result = ExpectMsg<BatchResult>();
        Assert.Equal(result.Outcomes[0].MessageId, result.Outcomes[1].MessageId);
        Assert.Equal((false, true), (result.Outcomes[0].Replayed, result.Outcomes[1].Replayed));
        Assert.Equal(RejectionCode.IdempotencyKeyMismatch, result.Outcomes[2].Code);
        Assert.Equal(1, state.PendingCount);
        Assert.Equal(0, intake.PendingKeys);
    }

    [Fact]
    public void A_rejected_write_frees_its_keys_and_refuses_the_batch_items_waiting_on_them()
    {
        var intake = new QueueIntake("q", new FixedClock());
        var writer = new GroupCommitWriter(writesInFlight: 1);
        var state = new QueueState("q", new QueueOptions());
        var item = new NewMessage("work", new byte[] { 1 }, IdempotencyKey: "k");

        Assert.Null(intake.EnqueueBatch(new EnqueueBatch("q", [item, item], 8), TestActor, state, writer));
        var write = writer.StartWrite();
        writer.RemoveWriteOf(write.Events[0]);
        intake.Released((MessagesEnqueued)write.Events[0], "down");
        writer.Reject(write, "q", "down", _ => { });
        var result = ExpectMsg<BatchResult>();
        Assert.All(result.Outcomes, o => Assert.Equal(RejectionCode.JournalUnavailable, o.Code));
        Assert.Null(intake.Enqueue(Keyed("k"), TestActor, state, writer));
    }

    [Fact]
    public void Timing_becomes_absolute_due_and_expiry_times_from_the_receipt_and_bad_timing_is_refused()
    {
        var intake = new QueueIntake("q", new FixedClock());
        var writer = new GroupCommitWriter(writesInFlight: 1);
        var state = new QueueState("q", new QueueOptions());

        Assert.Null(intake.Enqueue(Command() with { Timing = new MessageTiming(Delay: TimeSpan.FromMinutes(5), Ttl: TimeSpan.FromMinutes(10)) }, TestActor, state, writer));
        Assert.Null(intake.Enqueue(Command() with { Timing = MessageTiming.At(T0.UtcDateTime.AddSeconds(-1)) }, TestActor, state, writer));
        Assert.Equal(RejectionCode.InvalidTiming,
            Assert.IsType<Rejected>(intake.Enqueue(Command() with { Timing = new MessageTiming(DeliverAt: T0.UtcDateTime.AddHours(1), ExpiresAt: T0.UtcDateTime) }, TestActor, state, writer)).Code);

        var stored = ((MessagesEnqueued)writer.StartWrite().Events.Single()).Messages;
        Assert.Equal((T0.UtcDateTime.AddMinutes(5), (DateTime?)T0.UtcDateTime.AddMinutes(10)), (stored[0].DueAt!.Value, stored[0].ExpiresAt));
        Assert.Null(stored[1].DueAt);
    }
}

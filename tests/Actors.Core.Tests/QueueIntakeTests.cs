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
        var rejected = intake.Enqueue(Command(correlationId: 9), TestActor, state, writer);

        Assert.Equal((RejectionCode.QueueFull, 9L), (rejected!.Code, rejected.CorrelationId));
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
}

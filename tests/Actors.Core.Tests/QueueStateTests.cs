using System.Collections.Immutable;
using System.Text;
using Actors.Configuration;
using Actors.Protocol;
using Actors.State;
using static Actors.Protocol.QueueEvents;

namespace Actors.Core.Tests;

public class QueueStateTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    internal static MessagesEnqueued Enqueued(params long[] ids) => new(ids.Select(id =>
        new EnqueuedMessage(id, "work", Encoding.UTF8.GetBytes($"payload-{id}"), ImmutableDictionary<string, string>.Empty, T0)).ToImmutableArray());

    private static ErrorInfo Error(string type = "System.InvalidOperationException") => new(type, "boom", null, "w", T0);

    [Fact]
    public void Enqueued_messages_are_dispatched_oldest_first()
    {
        var state = new QueueState("q", new QueueOptions());
        state.Apply(Enqueued(1, 2, 3));

        Assert.Equal(3, state.ReadyCount);
        Assert.Equal(1, state.Dispatch(0, T0)!.Id);
        Assert.Equal(2, state.Dispatch(0, T0)!.Id);
        Assert.Equal(1, state.ReadyCount);
        Assert.Equal(2, state.InFlightCount);
    }

    [Fact]
    public void A_completion_naming_a_stale_attempt_is_ignored()
    {
        var state = new QueueState("q", new QueueOptions());
        state.Apply(Enqueued(1));
        var message = state.Dispatch(0, T0)!;
        Assert.Equal(1, message.Attempt);

        Assert.False(state.TryBeginCompletion(1, attempt: 2, out _));
        Assert.True(state.TryBeginCompletion(1, attempt: 1, out _));
        Assert.False(state.TryBeginCompletion(1, attempt: 1, out _));
        state.Apply(new MessagesAcked([new AckedMessage(1, 1, null, T0)]));

        Assert.Equal(0, state.PendingCount);
        Assert.Equal(MessageStatus.Succeeded, state.Describe(1)!.Status);
    }

    [Fact]
    public void An_expired_lease_is_found_and_the_retry_carries_the_next_attempt()
    {
        var state = new QueueState("q", new QueueOptions { Lease = TimeSpan.FromSeconds(10), Retry = { Jitter = JitterMode.None } });
        state.Apply(Enqueued(1));
        state.Dispatch(0, T0);

        Assert.Empty(state.ExpiredLeases(T0.AddSeconds(9)));
        var expired = Assert.Single(state.ExpiredLeases(T0.AddSeconds(10)));
        Assert.True(state.TryBeginFailure(expired.Id, expired.Attempt, out var failing));
        var decision = Assert.IsType<RetryScheduled>(state.DecideFailure(failing, Error("LeaseExpired"), RequestedFailureAction.FollowPolicy, null, T0.AddSeconds(10), 0.5));
        Assert.Equal(T0.AddSeconds(11), decision.DueAt);
        state.Apply(decision);

        Assert.Equal(0, state.PromoteDue(T0.AddSeconds(10.5)));
        Assert.Equal(1, state.PromoteDue(T0.AddSeconds(11)));
        Assert.Equal(2, state.Dispatch(0, T0.AddSeconds(11))!.Attempt);
        // The late completion of attempt 1 no longer counts.
        Assert.False(state.TryBeginCompletion(1, 1, out _));
    }

    [Fact]
    public void The_last_allowed_attempt_dead_letters_with_every_error()
    {
        var state = new QueueState("q", new QueueOptions { Retry = { MaxAttempts = 3, BaseDelay = TimeSpan.Zero } });
        state.Apply(Enqueued(7));
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            state.PromoteDue(T0.AddMinutes(attempt));
            var message = state.Dispatch(0, T0)!;
            Assert.Equal(attempt, message.Attempt);
            Assert.True(state.TryBeginFailure(7, attempt, out var failing));
            state.Apply(state.DecideFailure(failing, Error() with { Message = $"failure {attempt}" }, RequestedFailureAction.FollowPolicy, null, T0, 0));
        }

        var info = state.Describe(7)!;
        Assert.Equal(MessageStatus.DeadLettered, info.Status);
        Assert.Equal(["failure 1", "failure 2", "failure 3"], info.Errors.Select(e => e.Message));
        Assert.Equal(1, state.DeadLetterCount);
        Assert.Equal(0, state.PendingCount);
    }

    [Fact]
    public void Rules_dead_letter_or_discard_by_exception_type_and_a_handler_can_dead_letter()
    {
        var options = new QueueOptions();
        options.Retry.Rules.Add(new RetryRule { ExceptionType = "ArgumentException", Action = FailureAction.DeadLetter });
        options.Retry.Rules.Add(new RetryRule { ExceptionType = "System.OperationCanceledException", Action = FailureAction.Discard });
        var state = new QueueState("q", options);
        state.Apply(Enqueued(1, 2, 3));
        var m1 = state.Dispatch(0, T0)!;
        var m2 = state.Dispatch(0, T0)!;
        var m3 = state.Dispatch(0, T0)!;

        Assert.IsType<DeadLettered>(state.DecideFailure(m1, Error("System.ArgumentException"), RequestedFailureAction.FollowPolicy, null, T0, 0));
        Assert.IsType<Discarded>(state.DecideFailure(m2, Error("System.OperationCanceledException"), RequestedFailureAction.FollowPolicy, null, T0, 0));
        Assert.IsType<DeadLettered>(state.DecideFailure(m3, Error(), RequestedFailureAction.DeadLetter, null, T0, 0));
        var retry = Assert.IsType<RetryScheduled>(state.DecideFailure(m3, Error(), RequestedFailureAction.RetryAfter, TimeSpan.FromSeconds(42), T0, 0));
        Assert.Equal(T0.AddSeconds(42), retry.DueAt);
    }

    [Fact]
    public void Limits_are_checked_with_buffered_messages_counted()
    {
        var state = new QueueState("q", new QueueOptions { MaxLength = 3, MaxPayloadBytes = 10, AllowedTypes = ["a", "b"] });
        state.Apply(Enqueued(1));

        Assert.Null(state.Validate("a", 10, null, buffered: 1));
        Assert.Equal(RejectionCode.QueueFull, state.Validate("a", 10, null, buffered: 2)?.Code);
        Assert.Equal(RejectionCode.PayloadTooLarge, state.Validate("a", 11, null, 0)?.Code);
        Assert.Equal(RejectionCode.UnknownMessageType, state.Validate("c", 1, null, 0)?.Code);
        Assert.Equal(RejectionCode.InvalidMessageType, state.Validate("bad type!", 1, null, 0)?.Code);
        Assert.Equal(RejectionCode.InvalidHeaders, state.Validate("a", 1, ImmutableDictionary<string, string>.Empty.Add("", "x"), 0)?.Code);
    }

    [Fact]
    public void A_snapshot_restores_waiting_scheduled_dead_and_succeeded_messages_and_forgets_deliveries()
    {
        var state = new QueueState("q", new QueueOptions { Retry = { MaxAttempts = 1 } });
        state.Apply(Enqueued(1, 2, 3, 4));
        var inFlight = state.Dispatch(0, T0)!;              // 1: in flight → ready after restore
        var failing = state.Dispatch(0, T0)!;               // 2: dead-lettered
        state.TryBeginFailure(failing.Id, 1, out _);
        state.Apply(state.DecideFailure(failing, Error(), RequestedFailureAction.FollowPolicy, null, T0, 0));
        var done = state.Dispatch(0, T0)!;                  // 3: succeeded
        state.TryBeginCompletion(done.Id, 1, out _);
        state.Apply(new MessagesAcked([new AckedMessage(3, 1, new byte[] { 42 }, T0)]));

        var restored = QueueState.FromSnapshot("q", state.Options, state.ToSnapshot());

        Assert.Equal(4, restored.LastId);
        Assert.Equal(2, restored.ReadyCount);
        Assert.Equal(0, restored.InFlightCount);
        Assert.Equal(MessageStatus.Queued, restored.Describe(inFlight.Id)!.Status);
        Assert.Equal(MessageStatus.DeadLettered, restored.Describe(2)!.Status);
        Assert.Equal(new byte[] { 42 }, restored.Describe(3)!.Result!.Value.ToArray());
        Assert.Equal(state.TotalSucceeded, restored.TotalSucceeded);
        Assert.Equal(state.TotalDeadLettered, restored.TotalDeadLettered);
    }

    private static MessagesEnqueued Sized(int bytes, params long[] ids) => new(ids.Select(id =>
        new EnqueuedMessage(id, "work", new byte[bytes], ImmutableDictionary<string, string>.Empty, T0)).ToImmutableArray());

    [Fact]
    public void Payloads_past_the_budget_stay_in_the_journal_and_come_back_in_order_before_dispatch()
    {
        var state = new QueueState("q", new QueueOptions { PayloadMemoryBytes = 64 * 1024 });
        state.Apply(Sized(32 * 1024, 1, 2), sequenceNr: 1);   // fills the budget
        state.Apply(Sized(32 * 1024, 3, 4), sequenceNr: 2);   // held without payloads
        state.Apply(Sized(1, 5), sequenceNr: 3);              // small, but after held ones: held too, to keep the order

        Assert.Equal((5, 3), (state.ReadyCount, state.ReadyWithoutPayload));
        Assert.Null(state.PayloadsWanted);                    // the budget is full
        Assert.Equal(1, state.Dispatch(0, T0)!.Id);
        Assert.Null(state.PayloadsWanted);                    // still half full
        Assert.Equal(2, state.Dispatch(0, T0)!.Id);
        Assert.Null(state.Dispatch(0, T0));                   // 3 has no payload yet
        Assert.Equal(2, state.PayloadsWanted);

        Assert.Equal(2, state.AttachPayloads(2, Sized(32 * 1024, 3, 4)));
        Assert.Null(state.PayloadsWanted);
        Assert.Equal(3, state.Dispatch(0, T0)!.Id);
        Assert.Equal(4, state.Dispatch(0, T0)!.Id);
        Assert.Null(state.Dispatch(0, T0));
        Assert.Equal(3, state.PayloadsWanted);
        Assert.Equal(1, state.AttachPayloads(3, Sized(1, 5)));
        Assert.Equal(5, state.Dispatch(0, T0)!.Id);
        Assert.Equal((0, 0, 0L), (state.ReadyCount, state.ReadyWithoutPayload, state.ReadyPayloadBytes));
    }

    [Fact]
    public void A_scheduled_retry_lets_go_of_its_payload_and_gets_it_back_when_due()
    {
        var state = new QueueState("q", new QueueOptions());
        state.Apply(Sized(100, 1), sequenceNr: 4);
        var failing = state.Dispatch(0, T0)!;
        state.TryBeginFailure(failing.Id, 1, out _);
        var retry = Assert.IsType<RetryScheduled>(state.DecideFailure(failing, Error(), RequestedFailureAction.FollowPolicy, null, T0, 0.5));
        state.Apply(retry, sequenceNr: 5);
        Assert.False(failing.HasPayload);

        state.PromoteDue(retry.DueAt);

        Assert.Null(state.Dispatch(0, retry.DueAt));
        Assert.Equal(4, state.PayloadsWanted);
        state.AttachPayloads(4, Sized(100, 1));
        var again = state.Dispatch(0, retry.DueAt)!;
        Assert.Equal((1L, 2, 100), (again.Id, again.Attempt, again.Payload.Length));
    }

    [Fact]
    public void A_replayed_retry_of_a_message_with_its_payload_is_dispatched_only_once_its_payload_is_back()
    {
        var state = new QueueState("q", new QueueOptions());
        state.Apply(Sized(100, 1, 2, 3), sequenceNr: 1);                                    // replay: all in memory
        state.Apply(new RetryScheduled(2, 1, Error(), T0), sequenceNr: 2);                   // 2 failed before the crash
        state.PromoteDue(T0);

        Assert.Equal([1L, 3L], new[] { state.Dispatch(0, T0)!.Id, state.Dispatch(0, T0)!.Id });
        Assert.Null(state.Dispatch(0, T0));
        Assert.Equal(1, state.PayloadsWanted);
        state.AttachPayloads(1, Sized(100, 1, 2, 3));
        var retried = state.Dispatch(0, T0)!;
        Assert.Equal((2L, 100), (retried.Id, retried.Payload.Length));
        Assert.Equal((0, 0), (state.ReadyCount, state.ReadyWithoutPayload));
    }

    [Fact]
    public void Reads_for_returned_messages_that_fill_the_budget_behind_the_oldest_do_not_stall_the_queue()
    {
        var state = new QueueState("q", new QueueOptions { PayloadMemoryBytes = 64 * 1024 });
        for (long i = 1; i <= 200; i++) state.Apply(Sized(1024, i), sequenceNr: i);      // 1..64 in memory
        state.Apply(new RetryScheduled(100, 1, Error(), T0), sequenceNr: 201);
        state.Apply(new RetryScheduled(150, 1, Error(), T0), sequenceNr: 202);
        state.PromoteDue(T0);

        var delivered = new List<long>();
        for (var round = 0; round < 1000; round++)
        {
            while (state.Dispatch(0, T0) is { } m) delivered.Add(m.Id);
            if (state.PayloadsWanted is not { } from) break;
            for (var seq = from; seq < from + 30 && seq <= 200; seq++) state.AttachPayloads(seq, Sized(1024, seq));
        }

        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), delivered.Order());
        Assert.Equal((0, 0, 0L), (state.ReadyCount, state.ReadyWithoutPayload, state.ReadyPayloadBytes));
    }

    [Fact]
    public void A_snapshot_refers_to_journal_payloads_and_keeps_the_oldest_event_they_need()
    {
        var state = new QueueState("q", new QueueOptions { Retry = { MaxAttempts = 1 } });
        state.Apply(Sized(10, 1, 2), sequenceNr: 5);
        state.Apply(Sized(10, 3), sequenceNr: 6);
        var dead = state.Dispatch(0, T0)!;
        state.TryBeginFailure(dead.Id, 1, out _);
        state.Apply(state.DecideFailure(dead, Error(), RequestedFailureAction.FollowPolicy, null, T0, 0), sequenceNr: 7);

        var snapshot = state.ToSnapshot();

        // The dead letter's payload moved into the snapshot; the waiting ones point at their events.
        Assert.Equal([(1L, 0L, 10), (2L, 5L, 0), (3L, 6L, 0)], snapshot.Messages.Select(m => (m.Id, m.SequenceNr, m.Payload.Length)));
        Assert.Equal(5, QueueState.PayloadLowWatermark(snapshot, ifNone: 8));
        var restored = QueueState.FromSnapshot("q", state.Options, snapshot);
        Assert.Equal((2, 2), (restored.ReadyCount, restored.ReadyWithoutPayload));
        Assert.Null(restored.Dispatch(0, T0));
        Assert.Equal(5, restored.PayloadsWanted);
        restored.AttachPayloads(5, Sized(10, 1, 2));
        Assert.Equal(2, restored.Dispatch(0, T0)!.Id);
        Assert.Equal(6, restored.PayloadsWanted);
    }

    [Fact]
    public void Backoff_grows_exponentially_up_to_the_cap_and_jitter_stays_in_bounds()
    {
        var policy = new RetryPolicy { BaseDelay = TimeSpan.FromSeconds(1), Factor = 2, MaxDelay = TimeSpan.FromSeconds(10) };
        Assert.Equal(TimeSpan.FromSeconds(1), policy.BackoffFor(1));
        Assert.Equal(TimeSpan.FromSeconds(4), policy.BackoffFor(3));
        Assert.Equal(TimeSpan.FromSeconds(10), policy.BackoffFor(30));

        Assert.Equal(TimeSpan.Zero, policy.ApplyJitter(TimeSpan.FromSeconds(8), 0));
        Assert.True(policy.ApplyJitter(TimeSpan.FromSeconds(8), 0.999) < TimeSpan.FromSeconds(8));
        policy.Jitter = JitterMode.Equal;
        Assert.Equal(TimeSpan.FromSeconds(4), policy.ApplyJitter(TimeSpan.FromSeconds(8), 0));
        policy.Jitter = JitterMode.None;
        Assert.Equal(TimeSpan.FromSeconds(8), policy.ApplyJitter(TimeSpan.FromSeconds(8), 0.7));
    }

    [Theory]
    [InlineData("default", true)]
    [InlineData("orders.eu-1_b", true)]
    [InlineData("", false)]
    [InlineData("-starts-with-dash", false)]
    [InlineData("has space", false)]
    [InlineData("a/b", false)]
    [InlineData("ünïcode", false)]
    public void Queue_names_follow_the_rule(string name, bool valid) => Assert.Equal(valid, Names.IsValidQueueName(name));

    [Fact]
    public void Queue_names_are_at_most_64_characters() =>
        Assert.Equal([true, false], new[] { new string('a', 64), new string('a', 65) }.Select(Names.IsValidQueueName));
}

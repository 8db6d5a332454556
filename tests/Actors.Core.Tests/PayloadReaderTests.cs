using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Protocol;
using Actors.Queues;
using Actors.State;
using static Actors.Protocol.QueueEvents;

namespace Actors.Core.Tests;

public class PayloadReaderTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualClock : TimeProvider
    {
        public DateTime Now { get; set; } = T0;
        public override DateTimeOffset GetUtcNow() => new(Now);
    }

    private static MessagesEnqueued Sized(int bytes, params long[] ids) => new(ids.Select(id =>
        new EnqueuedMessage(id, "work", new byte[bytes], ImmutableDictionary<string, string>.Empty, T0)).ToImmutableArray());

    /// <summary>A queue with a 64 KiB budget whose messages 3 and 4 (event 2) wait for their payloads.</summary>
    private static QueueState StateWaitingForEvent2()
    {
        var state = new QueueState("q", new QueueOptions { PayloadMemoryBytes = 64 * 1024 });
        state.Apply(Sized(32 * 1024, 1, 2), sequenceNr: 1);
        state.Apply(Sized(32 * 1024, 3, 4), sequenceNr: 2);
        state.Dispatch(0, T0);
        state.Dispatch(0, T0);
        Assert.Equal(2, state.PayloadsWanted);
        return state;
    }

    [Fact]
    public void Nothing_is_read_while_the_state_wants_no_payloads()
    {
        var reader = new PayloadReader(64 * 1024, new ManualClock());
        var state = new QueueState("q", new QueueOptions());
        state.Apply(Sized(10, 1), sequenceNr: 1);

        Assert.False(reader.TryStart(state, out _, out _));
        Assert.False(reader.InFlight);
    }

    [Fact]
    public void One_read_at_a_time_from_the_wanted_event_sized_from_the_mean_event()
    {
        var reader = new PayloadReader(64 * 1024, new ManualClock());
        var state = StateWaitingForEvent2();
        // Before any event was counted, events are assumed to be 64 KiB: one per read under a 64 KiB budget.
        Assert.Equal(1, reader.EventsPerRead);
        reader.CountEnqueued(Sized(1_000, 1, 2));   // ~2 KiB an event → 32 KiB / 2,128 bytes = 15 events

        Assert.True(reader.TryStart(state, out var from, out var to));
        Assert.Equal((2L, 16L), (from, to));
        Assert.True(reader.InFlight);
        Assert.False(reader.TryStart(state, out _, out _));

        Assert.Null(reader.OnRead(attached: 2, wantedAfter: null));
        Assert.False(reader.InFlight);
    }

    [Fact]
    public void Reads_are_capped_at_EventsPerPayloadRead()
    {
        var reader = new PayloadReader(16L * 1024 * 1024, new ManualClock());
        reader.CountEnqueued(Sized(1, 1));
        Assert.Equal(QueueActor.EventsPerPayloadRead, reader.EventsPerRead);
    }

    [Fact]
    public void A_failed_or_empty_read_pauses_reads_for_a_second()
    {
        var clock = new ManualClock();
        var reader = new PayloadReader(64 * 1024, clock);
        var state = StateWaitingForEvent2();

        Assert.True(reader.TryStart(state, out _, out _));
        reader.OnFailed();
        Assert.False(reader.TryStart(state, out _, out _));
        clock.Now += PayloadReader.PauseAfterFailure - TimeSpan.FromTicks(1);
        Assert.False(reader.TryStart(state, out _, out _));
        clock.Now += TimeSpan.FromTicks(1);
        Assert.True(reader.TryStart(state, out _, out _));

        Assert.Null(reader.OnRead(attached: 0, wantedAfter: 2));
        Assert.False(reader.TryStart(state, out _, out _));
        clock.Now += PayloadReader.PauseAfterFailure;
        Assert.True(reader.TryStart(state, out _, out _));
    }

    [Fact]
    public void The_reader_gives_up_on_an_event_only_after_it_was_missing_from_several_reads_in_a_row()
    {
        var clock = new ManualClock();
        var reader = new PayloadReader(64 * 1024, clock);
        var state = StateWaitingForEvent2();

        long? Read(int attached, long? wantedAfter)
        {
            clock.Now += PayloadReader.PauseAfterFailure;
            Assert.True(reader.TryStart(state, out var from, out _));
            Assert.Equal(2, from);
            return reader.OnRead(attached, wantedAfter);
        }

        for (var i = 1; i < PayloadReader.ReadsBeforeGivingUp; i++) Assert.Null(Read(0, wantedAfter: 2));
        // A failed read says nothing about the event; nor does it reset the count.
        clock.Now += PayloadReader.PauseAfterFailure;
        Assert.True(reader.TryStart(state, out _, out _));
        reader.OnFailed();
        Assert.Equal(2, Read(0, wantedAfter: 2));
        // Counting starts over after giving up, and after a read that did bring the event.
        for (var i = 1; i < PayloadReader.ReadsBeforeGivingUp; i++) Assert.Null(Read(0, wantedAfter: 2));
        Assert.Null(Read(2, wantedAfter: null));
        for (var i = 1; i < PayloadReader.ReadsBeforeGivingUp; i++) Assert.Null(Read(0, wantedAfter: 2));
        Assert.Equal(2, Read(0, wantedAfter: 2));
    }

    [Fact]
    public void Messages_whose_event_is_gone_are_dead_lettered_as_payload_missing_and_the_queue_moves_on()
    {
        var state = StateWaitingForEvent2();
        state.Apply(Sized(10, 5), sequenceNr: 3);

        var decisions = state.GiveUpPayloads(2, T0);

        Assert.Equal([3L, 4L], decisions.Select(d => d.Id));
        Assert.All(decisions, d => Assert.Equal(QueueState.PayloadMissingReason, d.Reason));
        Assert.All(decisions, d => Assert.Equal("PayloadMissing", d.Error.Type));
        // While the decisions are written, the queue already wants the next event.
        Assert.Equal(3, state.PayloadsWanted);

        foreach (var d in decisions) state.Apply(d, sequenceNr: 4);
        Assert.Equal(2, state.DeadLetterCount);
        Assert.Equal(0, state.DeadWithoutPayload);
        var info = state.Describe(3)!;
        Assert.Equal(MessageStatus.DeadLettered, info.Status);
        Assert.Equal(0, info.Payload!.Value.Length);
        Assert.Equal(QueueState.PayloadMissingReason, QueueState.Summarize(state.Find(3)!).Reason);
        // A snapshot keeps them as dead letters that want nothing from the journal.
        var recovered = QueueState.FromSnapshot("q", state.Options, state.ToSnapshot());
        Assert.Equal(0, recovered.DeadWithoutPayload);
        Assert.Equal(MessageStatus.DeadLettered, recovered.Describe(4)!.Status);
        Assert.NotNull(recovered.Describe(4)!.Payload);
    }

    [Fact]
    public void A_rejected_payload_missing_decision_puts_the_messages_back_waiting_for_their_event()
    {
        var state = StateWaitingForEvent2();
        var decisions = state.GiveUpPayloads(2, T0);
        Assert.Null(state.PayloadsWanted);

        foreach (var d in decisions) state.ReturnToReady(d.Id);

        Assert.Equal(2, state.PayloadsWanted);
        Assert.Equal(2, state.ReadyWithoutPayload);
    }

    [Fact]
    public void A_dead_letter_whose_event_is_gone_stops_wanting_it()
    {
        var state = StateWaitingForEvent2();
        // As a recovery replays it: message 3 was dead-lettered while its payload was only in the journal.
        state.Apply(new DeadLettered(3, 5, new ErrorInfo("Boom", "boom", null, null, T0), "Gave up after 5 attempt(s)."), sequenceNr: 3);
        state.GiveUpPayloads(2, T0).ForEach(d => state.Apply(d, sequenceNr: 4));

        Assert.Equal(0, state.DeadWithoutPayload);
        Assert.Equal(0, state.ReadyWithoutPayload);
        Assert.Null(state.PayloadsWanted);
        Assert.Equal(["Boom", "PayloadMissing"], state.Find(3)!.Errors.Select(e => e.Type));
        Assert.Equal(2, state.DeadLetterCount);
    }
}

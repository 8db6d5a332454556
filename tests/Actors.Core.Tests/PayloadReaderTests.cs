using System.Collections.Immutable;
using Actors.Configuration;
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

        reader.OnRead(attached: 2);
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

        reader.OnRead(attached: 0);
        Assert.False(reader.TryStart(state, out _, out _));
        clock.Now += PayloadReader.PauseAfterFailure;
        Assert.True(reader.TryStart(state, out _, out _));
    }
}

using System.Collections.Immutable;
using System.Text;
using Actors.Configuration;
using Actors.Protocol;
using Actors.State;
using static Actors.Protocol.QueueEvents;

namespace Actors.Core.Tests;

/// <summary>The pure part of a queue purge: what it takes, what it leaves, and that replay and snapshots agree.</summary>
public class PurgeQueueStateTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static EnqueuedMessage Message(long id, DateTime? dueAt = null, string? key = null) =>
        new(id, "work", Encoding.UTF8.GetBytes($"payload-{id}"), ImmutableDictionary<string, string>.Empty, T0, dueAt, IdempotencyKey: key, Fingerprint: (ulong)id);

    /// <summary>Six messages: 1 in flight, 2 dead-lettered, 3–4 ready (4 with an idempotency key), 5–6 delayed.</summary>
    private static (QueueState State, List<IQueueEvent> History) Prepared(QueueOptions options)
    {
        var history = new List<IQueueEvent>();
        var state = new QueueState("q", options);
        void Apply(IQueueEvent evt)
        {
            state.Apply(evt);
            history.Add(evt);
        }
        Apply(new MessagesEnqueued([Message(1), Message(2), Message(3), Message(4, key: "order-4"), Message(5, T0.AddHours(1)), Message(6, T0.AddDays(1))]));
        Assert.Equal(1, state.Dispatch(0, T0)!.Id);
        var two = state.Dispatch(1, T0)!;
        Assert.True(state.TryBeginFailure(two.Id, two.Attempt, out _));
        Apply(new DeadLettered(2, 1, new ErrorInfo("Boom", "boom", null, null, T0), "failed"));
        return (state, history);
    }

    [Fact]
    public void A_purge_takes_the_ready_and_scheduled_messages_and_leaves_the_one_in_flight_and_the_dead_letter()
    {
        var (state, _) = Prepared(new QueueOptions());

        var ids = state.BeginPurge();

        Assert.Equal([3L, 4L, 5L, 6L], ids.ToArray());
        // Nothing purged starts while the purge is written.
        Assert.Null(state.Dispatch(2, T0.AddDays(2)));
        state.Apply(new MessagesPurged(ids, T0));
        Assert.Equal((0, 0, 1, 1, 1), (state.ReadyCount, state.ScheduledCount, state.InFlightCount, state.PendingCount, state.DeadLetterCount));
        Assert.Equal(4, state.TotalCancelled);
        Assert.Equal(MessageStatus.Cancelled, state.Describe(4)!.Status);
        // The key answers as for a cancelled message: with its id, for the key's window.
        Assert.Equal(4, state.FindIdempotencyKey("order-4", T0.AddMinutes(1))!.MessageId);
        Assert.Equal(MessageStatus.InFlight, state.Describe(1)!.Status);
        Assert.Equal(MessageStatus.DeadLettered, state.Describe(2)!.Status);
    }

    [Fact]
    public void A_rejected_purge_write_returns_the_messages()
    {
        var (state, _) = Prepared(new QueueOptions());
        var ids = state.BeginPurge();

        foreach (var id in ids) state.ReturnToReady(id);

        Assert.Equal(4, state.ReadyCount);
        Assert.Equal(3, state.Dispatch(2, T0)!.Id);
    }

    [Fact]
    public void Replay_and_a_snapshot_after_a_purge_agree_with_the_running_state()
    {
        var options = new QueueOptions();
        var (state, history) = Prepared(options);
        var purged = new MessagesPurged(state.BeginPurge(), T0);
        state.Apply(purged);
        history.Add(purged);

        var replayed = new QueueState("q", options);
        foreach (var evt in history) replayed.Apply(evt);
        var restored = QueueState.FromSnapshot("q", options, replayed.ToSnapshot());

        foreach (var recovered in new[] { replayed, restored })
        {
            // After a restart the message that was in flight is ready again; everything else agrees.
            Assert.Equal((1, 0, 1, 1), (recovered.ReadyCount, recovered.ScheduledCount, recovered.PendingCount, recovered.DeadLetterCount));
            Assert.Equal(4, recovered.TotalCancelled);
            Assert.Equal(MessageStatus.Cancelled, recovered.Describe(6)!.Status);
            Assert.Equal(4, recovered.FindIdempotencyKey("order-4", T0.AddMinutes(1))!.MessageId);
            Assert.Equal(1, recovered.Dispatch(0, T0.AddDays(2))!.Id);
            Assert.Null(recovered.Dispatch(1, T0.AddDays(2)));
        }
    }
}

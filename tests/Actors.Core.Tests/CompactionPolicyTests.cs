using System.Collections.Immutable;
using Actors.Queues;
using static Actors.Protocol.QueueEvents;

namespace Actors.Core.Tests;

public class CompactionPolicyTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static List<IQueueEvent> Acks(int events, int acksEach) => Enumerable.Range(0, events)
        .Select(e => (IQueueEvent)new MessagesAcked(Enumerable.Range(0, acksEach).Select(i => new AckedMessage(e * acksEach + i, 1, null, T0)).ToImmutableArray()))
        .ToList();

    [Fact]
    public void A_snapshot_is_due_only_after_SnapshotEvery_events_carrying_the_replay_fraction_of_the_state()
    {
        var policy = new CompactionPolicy(snapshotEvery: 10);

        policy.OnWriteDone(Acks(9, 100), stateSize: 0);
        Assert.False(policy.SnapshotDue);

        // 10 events carrying 10 messages: too few for a state of 41 (10 × 4 < 41).
        policy = new CompactionPolicy(snapshotEvery: 10);
        policy.OnWriteDone(Acks(10, 1), stateSize: 10 * QueueActor.SnapshotReplayFraction + 1);
        Assert.False(policy.SnapshotDue);
        Assert.False(policy.HoldsWrites);

        // The counts keep growing until they are enough.
        policy.OnWriteDone(Acks(1, 1), stateSize: 11 * QueueActor.SnapshotReplayFraction);
        Assert.True(policy.SnapshotDue);
        Assert.True(policy.HoldsWrites);
    }

    [Fact]
    public void Messages_are_counted_per_event_kind()
    {
        Assert.Equal(3, CompactionPolicy.MessagesIn(new DeadLettersRedrivenEvent([1, 2, 3], T0)));
        Assert.Equal(2, CompactionPolicy.MessagesIn(new DeadLettersPurgedEvent([1, 2], T0)));
        Assert.Equal(1, CompactionPolicy.MessagesIn(new MessageCancelled(1, T0)));
        Assert.Equal(4, CompactionPolicy.MessagesIn(Acks(1, 4)[0]));
    }

    [Fact]
    public void The_due_snapshot_starts_only_with_no_write_in_flight_and_writes_wait_until_the_deletes_end()
    {
        var policy = new CompactionPolicy(snapshotEvery: 10);
        policy.Recovered(sequenceNr: 20, watermark: 21);
        policy.OnWriteDone(Acks(10, 1), stateSize: 0);

        Assert.False(policy.CanStartSnapshot(writesInFlight: 1));
        Assert.True(policy.CanStartSnapshot(writesInFlight: 0));

        policy.SnapshotStarted(watermark: 1_000);
        Assert.False(policy.SnapshotDue);
        Assert.True(policy.InProgress);
        Assert.True(policy.HoldsWrites);

        // The snapshot recovery started from, and the events after it, stay as the fallback.
        Assert.Equal(20L, policy.SnapshotSaved(sequenceNr: 50));
        Assert.Equal(20L, policy.DeletedTo);
        Assert.True(policy.HoldsWrites);
        Assert.Equal(19L, policy.TakeOlderSnapshots());
        Assert.Null(policy.TakeOlderSnapshots());

        policy.CleanupEnded();
        Assert.False(policy.InProgress);
        Assert.False(policy.HoldsWrites);
    }

    [Fact]
    public void The_two_newest_snapshots_stay_each_with_the_events_it_needs()
    {
        var policy = new CompactionPolicy(snapshotEvery: 10);
        long? Save(long sequenceNr, long watermark)
        {
            policy.OnWriteDone(Acks(10, 1), stateSize: 0);
            policy.SnapshotStarted(watermark);
            var deleteTo = policy.SnapshotSaved(sequenceNr);
            return deleteTo;
        }

        // A queue's first snapshot has no previous one: nothing is deleted.
        Assert.Null(Save(50, watermark: 51));
        Assert.Null(policy.TakeOlderSnapshots());
        policy.CleanupEnded();

        // The second deletes the events the first covers, and no snapshot (none is older than the first).
        Assert.Equal(50L, Save(70, watermark: 71));
        Assert.Equal(49L, policy.TakeOlderSnapshots());
        Assert.Null(policy.TakeOlderSnapshots());
        policy.CleanupEnded();

        // Events still holding payloads the newest snapshot refers to are kept.
        Assert.Equal(59L, Save(90, watermark: 60));
        Assert.Equal(69L, policy.TakeOlderSnapshots());
        policy.CleanupEnded();

        // ... and nothing is deleted twice while either snapshot still needs event 60.
        Assert.Null(Save(110, watermark: 60));
        Assert.Equal(89L, policy.TakeOlderSnapshots());
        Assert.Equal(59L, policy.DeletedTo);
    }

    [Fact]
    public void A_failed_snapshot_lets_writes_go_on_and_the_next_is_due_by_the_counts_since_it_started()
    {
        var policy = new CompactionPolicy(snapshotEvery: 10);
        policy.OnWriteDone(Acks(10, 1), stateSize: 0);
        policy.SnapshotStarted(watermark: 11);

        // A write finishing while the snapshot is saved does not make another one due.
        policy.OnWriteDone(Acks(10, 1), stateSize: 0);
        Assert.False(policy.SnapshotDue);

        policy.SnapshotFailed();
        Assert.False(policy.HoldsWrites);
        policy.OnWriteDone(Acks(9, 1), stateSize: 0);
        Assert.True(policy.SnapshotDue);   // 10 counted while saving + 9: the counts were reset at the start only
    }
}

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

    private static List<CleanupStep> Cleanup(CompactionPolicy policy)
    {
        var steps = new List<CleanupStep>();
        while (policy.NextStep(writesInFlight: 0) is { } step && !ReferenceEquals(step, CleanupStep.Done))
        {
            steps.Add(step);
            policy.StepEnded(writesWaiting: false);
        }
        return steps;
    }

    [Fact]
    public void The_due_snapshot_starts_only_with_no_write_in_flight_and_writes_wait_for_the_save_and_each_delete()
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
        policy.SnapshotSaved(sequenceNr: 50);
        Assert.True(policy.HoldsWrites);
        Assert.Equal(new CleanupStep(20, Snapshots: false), policy.NextStep(writesInFlight: 0));
        Assert.Equal(20L, policy.DeletedTo);
        Assert.Null(policy.NextStep(writesInFlight: 0));   // one delete at a time
        Assert.True(policy.HoldsWrites);

        // What was buffered during the delete is written before the next one.
        policy.StepEnded(writesWaiting: true);
        Assert.False(policy.HoldsWrites);
        Assert.Null(policy.NextStep(writesInFlight: 1));
        policy.OnWriteDone(Acks(1, 1), stateSize: 0);
        Assert.True(policy.HoldsWrites);
        Assert.Equal(new CleanupStep(19, Snapshots: true), policy.NextStep(writesInFlight: 0));

        policy.StepEnded(writesWaiting: false);
        Assert.Same(CleanupStep.Done, policy.NextStep(writesInFlight: 0));
        Assert.False(policy.InProgress);
        Assert.False(policy.HoldsWrites);
        Assert.Null(policy.NextStep(writesInFlight: 0));
    }

    [Fact]
    public void Deletes_are_sliced_so_a_write_waits_for_one_slice_at_most()
    {
        var policy = new CompactionPolicy(snapshotEvery: 10);
        void Save(long sequenceNr)
        {
            policy.OnWriteDone(Acks(10, 1), stateSize: 0);
            policy.SnapshotStarted(watermark: sequenceNr + 1);
            policy.SnapshotSaved(sequenceNr);
        }
        Save(1_000);
        Cleanup(policy);
        // The first delete of a run starts where no one knows: one step.
        Save(2_000);
        Assert.Equal([new CleanupStep(1_000, false), new CleanupStep(999, true)], Cleanup(policy));

        Save(3_000);
        Assert.Equal(
            [new CleanupStep(1_250, false), new CleanupStep(1_500, false), new CleanupStep(1_750, false), new CleanupStep(2_000, false), new CleanupStep(1_999, true)],
            Cleanup(policy));

        // A long range is cut into at most 16 slices.
        Save(100_000);
        Cleanup(policy);
        Save(200_000);
        var steps = Cleanup(policy);
        Assert.Equal(17, steps.Count);
        Assert.Equal(new CleanupStep(100_000, false), steps[^2]);
        Assert.Equal(100_000L, policy.DeletedTo);
    }

    [Fact]
    public void The_two_newest_snapshots_stay_each_with_the_events_it_needs()
    {
        var policy = new CompactionPolicy(snapshotEvery: 10);
        List<CleanupStep> Save(long sequenceNr, long watermark)
        {
            policy.OnWriteDone(Acks(10, 1), stateSize: 0);
            policy.SnapshotStarted(watermark);
            policy.SnapshotSaved(sequenceNr);
            return Cleanup(policy);
        }

        // A queue's first snapshot has no previous one: nothing is deleted.
        Assert.Empty(Save(50, watermark: 51));

        // The second deletes the events the first covers, and no snapshot (none is older than the first).
        Assert.Equal([new CleanupStep(50, false), new CleanupStep(49, true)], Save(70, watermark: 71));

        // Events still holding payloads the newest snapshot refers to are kept.
        Assert.Equal([new CleanupStep(59, false), new CleanupStep(69, true)], Save(90, watermark: 60));

        // ... and nothing is deleted twice while either snapshot still needs event 60.
        Assert.Equal([new CleanupStep(89, true)], Save(110, watermark: 60));
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

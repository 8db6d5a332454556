using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Protocol;
using Actors.State;
using static Actors.Protocol.QueueEvents;

namespace Actors.Core.Tests;

/// <summary>The pure state's byte bounds: intake by held payload bytes, retained results and dead letters by memory, results by age, and dead-letter groups kept as they change.</summary>
public class RetainedBytesStateTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private const int KiB = 1024;

    private static MessagesEnqueued Enqueued(int bytes, params long[] ids) => new(ids.Select(id =>
        new EnqueuedMessage(id, "work", Bytes(id, bytes), ImmutableDictionary<string, string>.Empty, T0)).ToImmutableArray());

    private static byte[] Bytes(long id, int length) => Enumerable.Range(0, length).Select(i => (byte)(id + i)).ToArray();

    private static ErrorInfo Error(string message) => new("System.InvalidOperationException", message, null, "w", T0);

    private static void Succeed(QueueState state, long id, int resultBytes, DateTime? at = null)
    {
        var message = state.Dispatch(0, T0)!;
        Assert.Equal(id, message.Id);
        Assert.True(state.TryBeginCompletion(id, 1, out _));
        state.Apply(new MessagesAcked([new AckedMessage(id, 1, Bytes(id + 100, resultBytes), at ?? T0)]));
    }

    private static void Kill(QueueState state, long id, string error = "boom")
    {
        var message = state.Dispatch(0, T0)!;
        Assert.Equal(id, message.Id);
        Assert.True(state.TryBeginFailure(id, 1, out _));
        state.Apply(new DeadLettered(id, 1, Error(error), "Gave up after 1 attempt(s)."));
    }

    [Fact]
    public void Intake_is_refused_as_full_once_held_payload_bytes_would_pass_MaxBytes_and_accepted_again_when_they_leave()
    {
        var state = new QueueState("q", new QueueOptions { MaxBytes = 1024 * KiB });
        state.Apply(Enqueued(400 * KiB, 1, 2));
        Assert.Equal(800 * KiB, state.HeldPayloadBytes);

        Assert.Null(state.Validate("work", 200 * KiB, null, buffered: 0));
        var refused = state.Validate("work", 200 * KiB, null, buffered: 1, bufferedBytes: 100 * KiB);
        Assert.Equal(RejectionCode.QueueFull, refused!.Value.Code);
        Assert.Contains("bytes", refused.Value.Reason);
        Assert.Contains("1048576", refused.Value.Reason);

        Succeed(state, 1, 0);
        Assert.Equal(400 * KiB, state.HeldPayloadBytes);
        Assert.Null(state.Validate("work", 200 * KiB, null, buffered: 1, bufferedBytes: 100 * KiB));
    }

    [Fact]
    public void Results_and_dead_letter_payloads_past_the_budget_are_offered_oldest_first_and_leave_memory_once_archived()
    {
        var state = new QueueState("q", new QueueOptions { RetainedMemoryBytes = 120 * KiB, Retry = { MaxAttempts = 1 } });
        state.Apply(Enqueued(40 * KiB, 1, 2, 3, 4));
        Succeed(state, 1, 40 * KiB);
        Kill(state, 2);
        Assert.Equal(80 * KiB, state.RetainedBytes);
        Assert.Empty(state.TakeForArchive(long.MaxValue));

        Succeed(state, 3, 40 * KiB);
        Succeed(state, 4, 40 * KiB);
        Assert.Equal(160 * KiB, state.RetainedBytes);
        // Down to three quarters of the budget: the two oldest go.
        var items = state.TakeForArchive(long.MaxValue);
        Assert.Equal(new[] { (1L, true), (2L, false) }, items.Select(i => (i.Id, i.IsResult)));
        Assert.Equal(160 * KiB, state.RetainedBytes);

        Assert.Equal(80 * KiB, state.MarkArchived(7, items));
        Assert.Equal(80 * KiB, state.RetainedBytes);
        Assert.Equal(7, state.ArchivedResultSeq(1));
        Assert.Null(state.Describe(1)!.Result);
        Assert.Equal(7, state.Find(2)!.ArchiveSeq);
        Assert.Null(state.Describe(2)!.Payload);
        Assert.Equal(Bytes(104, 40 * KiB), state.Describe(4)!.Result!.Value.ToArray());

        // The snapshot keeps the archive's numbers instead of the bytes, and tells the archive what it may delete.
        var snapshot = state.ToSnapshot();
        Assert.Equal(7, QueueState.ArchiveLowWatermark(snapshot, ifNone: 100));
        var recovered = QueueState.FromSnapshot("q", state.Options, snapshot);
        Assert.Equal(80 * KiB, recovered.RetainedBytes);
        Assert.Equal(7, recovered.ArchivedResultSeq(1));
        Assert.Equal(7, recovered.Find(2)!.ArchiveSeq);
        Assert.Equal(40 * KiB, recovered.Find(2)!.PayloadLength);
        Assert.Empty(recovered.TakeForArchive(long.MaxValue));
    }

    [Fact]
    public void An_archive_write_that_failed_offers_its_items_again()
    {
        var state = new QueueState("q", new QueueOptions { RetainedMemoryBytes = 0 });
        state.Apply(Enqueued(10, 1));
        Succeed(state, 1, 10);
        var items = state.TakeForArchive(long.MaxValue);
        Assert.Single(items);
        Assert.Empty(state.TakeForArchive(long.MaxValue));

        state.ArchiveFailed(items);
        Assert.Equal(items, state.TakeForArchive(long.MaxValue));
    }

    [Fact]
    public void A_redriven_dead_letter_whose_payload_is_archived_waits_for_it_and_is_dispatched_once_it_is_read_back()
    {
        var state = new QueueState("q", new QueueOptions { RetainedMemoryBytes = 0, Retry = { MaxAttempts = 1 } });
        state.Apply(Enqueued(100, 1, 2));
        Kill(state, 1);
        var items = state.TakeForArchive(long.MaxValue);
        state.MarkArchived(3, items);
        Assert.False(state.Find(1)!.HasPayload);

        state.Apply(new DeadLettersRedrivenEvent([1], T0));
        Assert.Equal(3, state.ArchivedPayloadWanted);
        Assert.Null(state.PayloadsWanted);
        // The fresh message goes meanwhile; the redriven one waits for its payload.
        Assert.Equal(2, state.Dispatch(0, T0)!.Id);
        Assert.Null(state.Dispatch(0, T0));

        Assert.Equal(1, state.AttachArchived(3, new PayloadsArchived(items.ToImmutableArray())));
        Assert.Null(state.ArchivedPayloadWanted);
        var redriven = state.Dispatch(0, T0)!;
        Assert.Equal(1, redriven.Id);
        Assert.Equal(Bytes(1, 100), redriven.Payload.ToArray());
        Assert.Equal(0, state.ReadyPayloadBytes);
    }

    [Fact]
    public void A_redriven_message_whose_archived_payload_is_gone_is_dead_lettered_as_payload_missing_and_blocks_nothing()
    {
        var state = new QueueState("q", new QueueOptions { RetainedMemoryBytes = 0, Retry = { MaxAttempts = 1 } });
        state.Apply(Enqueued(100, 1));
        Kill(state, 1);
        state.MarkArchived(3, state.TakeForArchive(long.MaxValue));
        state.Apply(new DeadLettersRedrivenEvent([1], T0));
        Assert.Equal(3, state.ArchivedPayloadWanted);

        var decision = Assert.Single(state.GiveUpArchivedPayloads(3, T0));
        Assert.Equal((1L, QueueState.PayloadMissingReason), (decision.Id, decision.Reason));
        Assert.Null(state.ArchivedPayloadWanted);
        state.Apply(decision);

        var dead = state.Describe(1)!;
        Assert.Equal(MessageStatus.DeadLettered, dead.Status);
        Assert.Equal(0, dead.Payload!.Value.Length);
        Assert.Equal("PayloadMissing", dead.Errors[^1].Type);
        Assert.Equal(0, state.ReadyCount);
    }

    [Fact]
    public void Finished_messages_leave_after_the_retention_time()
    {
        var state = new QueueState("q", new QueueOptions { SucceededRetentionTime = TimeSpan.FromMinutes(10) });
        state.Apply(Enqueued(10, 1, 2));
        Succeed(state, 1, 10, T0);
        Succeed(state, 2, 10, T0.AddMinutes(5));
        Assert.Equal(20, state.RetainedBytes);

        Assert.Equal(0, state.PruneFinished(T0.AddMinutes(10)));
        Assert.Equal(1, state.PruneFinished(T0.AddMinutes(11)));
        Assert.Null(state.Describe(1));
        Assert.Equal(MessageStatus.Succeeded, state.Describe(2)!.Status);
        Assert.Equal(10, state.RetainedBytes);
    }

    [Fact]
    public void Dead_letter_groups_kept_as_letters_come_and_go_match_a_full_regrouping()
    {
        var random = new Random(11);
        var state = new QueueState("q", new QueueOptions { Retry = { MaxAttempts = 1 } });
        var next = 1L;
        for (var round = 0; round < 30; round++)
        {
            var batch = Enumerable.Range(0, 10).Select(_ => next++).ToArray();
            state.Apply(Enqueued(8, batch));
            foreach (var id in batch) Kill(state, id, $"error {random.Next(3)} for order {id}{(random.Next(2) == 0 ? "" : " again")}");
            var dead = state.DeadLetters(new DeadLetterCommands.DeadLetterFilter()).Select(m => m.Id).ToList();
            var leaving = dead.Where(_ => random.Next(3) == 0).ToImmutableArray();
            if (round % 2 == 0) state.Apply(new DeadLettersPurgedEvent(leaving, T0));
            else
            {
                state.Apply(new DeadLettersRedrivenEvent(leaving, T0));
                // Redriven letters fail again, so they come back with a new time.
                while (state.Dispatch(0, T0) is { } again)
                {
                    Assert.True(state.TryBeginFailure(again.Id, again.Attempt, out _));
                    state.Apply(new DeadLettered(again.Id, again.Attempt, Error($"error {random.Next(3)} for order {again.Id}") with { At = T0.AddMinutes(round) }, "again"));
                }
            }
            Assert.Equal(Regroup(state), state.GroupDeadLetters().Select(Describe));
        }
    }

    [Fact]
    public void Dead_letters_with_the_same_stack_trace_share_one_copy()
    {
        var state = new QueueState("q", new QueueOptions { Retry = { MaxAttempts = 1 } });
        state.Apply(Enqueued(8, 1, 2));
        foreach (var id in new long[] { 1, 2 })
        {
            state.Dispatch(0, T0);
            Assert.True(state.TryBeginFailure(id, 1, out _));
            // Each error arrives with its own string, as each one decoded from the journal or a worker's report does.
            var stackTrace = string.Concat("   at Shop.Ship(Order order)\n", "   at Shop.Handle()");
            state.Apply(new DeadLettered(id, 1, Error($"order {id}") with { StackTrace = stackTrace }, "Gave up after 1 attempt(s)."));
        }

        Assert.Same(state.Find(1)!.Errors[^1].StackTrace, state.Find(2)!.Errors[^1].StackTrace);
        Assert.Equal("order 2", state.Find(2)!.Errors[^1].Message);
    }

    private static IEnumerable<string> Regroup(QueueState state) =>
        state.DeadLetters(new DeadLetterCommands.DeadLetterFilter())
            .GroupBy(m => Fingerprint.Of(m.Errors[^1].Type, m.Errors[^1].Message))
            .Select(g => new DeadLetterCommands.DeadLetterGroup(g.Key, g.First().Errors[^1].Type, g.First().Errors[^1].Message, g.Count(),
                g.Select(m => m.Type).Distinct().Order(StringComparer.Ordinal).ToImmutableArray(), g.Min(m => m.FinishedAt), g.Max(m => m.FinishedAt)))
            .OrderByDescending(g => g.Count).ThenBy(g => g.Fingerprint, StringComparer.Ordinal)
            .Select(Describe);

    private static string Describe(DeadLetterCommands.DeadLetterGroup g) =>
        $"{g.Fingerprint}|{g.ErrorType}|{g.SampleMessage}|{g.Count}|{string.Join(",", g.Types)}|{g.FirstAt:O}|{g.LastAt:O}";
}

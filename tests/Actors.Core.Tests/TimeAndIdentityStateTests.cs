using System.Collections.Immutable;
using System.Text;
using Actors.Configuration;
using Actors.Protocol;
using Actors.Serialization;
using Actors.State;
using CsCheck;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueEvents;

namespace Actors.Core.Tests;

/// <summary>Delayed messages, expiry, cancellation and idempotency keys in the pure queue state.</summary>
public class TimeAndIdentityStateTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static EnqueuedMessage Message(long id, DateTime? dueAt = null, DateTime? expiresAt = null, string? key = null, ulong fingerprint = 0, DateTime? at = null) =>
        new(id, "work", Encoding.UTF8.GetBytes($"payload-{id}"), ImmutableDictionary<string, string>.Empty, at ?? T0, dueAt, expiresAt, key, fingerprint);

    private static MessagesEnqueued Enqueued(params EnqueuedMessage[] messages) => new(messages.ToImmutableArray());

    /// <summary>A snapshot through the binary codec, as recovery reads it.</summary>
    private static QueueState Restarted(QueueState state, QueueOptions options) =>
        QueueState.FromSnapshot("q", options, BinaryCodec.Read(BinaryCodec.Write(w => BinaryCodec.WriteSnapshot(w, state.ToSnapshot())), r => BinaryCodec.ReadSnapshot(r, BinaryCodec.SnapshotFormat)));

    [Fact]
    public void A_delayed_message_is_scheduled_not_ready_and_never_dispatched_early()
    {
        var state = new QueueState("q", new QueueOptions());
        state.Apply(Enqueued(Message(1, dueAt: T0.AddSeconds(30))));

        Assert.Equal(0, state.ReadyCount);
        Assert.Equal(1, state.ScheduledCount);
        Assert.Equal(0, state.InFlightCount);
        Assert.Equal(MessageStatus.Scheduled, state.Describe(1)!.Status);
        Assert.Equal(T0.AddSeconds(30), state.Describe(1)!.NextAttemptAt);
        Assert.Equal(T0.AddSeconds(30), state.NextDueAt);

        Assert.Equal(0, state.PromoteDue(T0.AddSeconds(30).AddTicks(-1)));
        Assert.Null(state.Dispatch(0, T0.AddSeconds(29)));
        Assert.Equal(1, state.PromoteDue(T0.AddSeconds(30)));
        Assert.Equal(1, state.Dispatch(0, T0.AddSeconds(30))!.Id);
        Assert.Null(state.NextDueAt);
    }

    [Fact]
    public void Equal_due_times_keep_enqueue_order_and_earlier_due_times_go_first()
    {
        var state = new QueueState("q", new QueueOptions());
        var due = T0.AddMinutes(1);
        state.Apply(Enqueued(Message(1, dueAt: due.AddSeconds(5)), Message(2, dueAt: due), Message(3, dueAt: due), Message(4, dueAt: due)));
        state.Apply(Enqueued(Message(5, dueAt: due)));

        // Promotion takes the earliest due time first and, among equal ones, the lowest id.
        Assert.Equal(2, state.PromoteDue(due, limit: 2));
        Assert.Equal(new long[] { 2, 3 }, new[] { state.Dispatch(0, due)!.Id, state.Dispatch(0, due)!.Id });
        Assert.Null(state.Dispatch(0, due));
        Assert.Equal(2, state.PromoteDue(due));
        Assert.Equal(new long[] { 4, 5 }, new[] { state.Dispatch(0, due)!.Id, state.Dispatch(0, due)!.Id });
        Assert.Equal(0, state.PromoteDue(due.AddSeconds(5).AddTicks(-1)));
        Assert.Equal(1, state.PromoteDue(due.AddSeconds(5)));
        Assert.Equal(1, state.Dispatch(0, due.AddSeconds(5))!.Id);
    }

    [Fact]
    public void A_due_time_survives_a_snapshot_and_a_replay()
    {
        var options = new QueueOptions();
        var state = new QueueState("q", options);
        var events = new List<IQueueEvent> { Enqueued(Message(1, dueAt: T0.AddHours(1)), Message(2)) };
        foreach (var e in events) state.Apply(e);

        var fromSnapshot = Restarted(state, options);
        var replayed = new QueueState("q", options);
        foreach (var e in events) replayed.Apply(e);

        foreach (var recovered in new[] { fromSnapshot, replayed })
        {
            Assert.Equal(1, recovered.ScheduledCount);
            Assert.Equal(T0.AddHours(1), recovered.NextDueAt);
            Assert.Equal(0, recovered.PromoteDue(T0.AddMinutes(59)));
            Assert.Equal(2, recovered.Dispatch(0, T0)!.Id);
            Assert.Null(recovered.Dispatch(0, T0));
        }
    }

    [Fact]
    public void Resolving_timing_refuses_contradictions_and_delays_past_the_maximum()
    {
        var state = new QueueState("q", new QueueOptions { MaxDelay = TimeSpan.FromDays(1) });

        Assert.Equal(RejectionCode.InvalidTiming, state.ResolveTiming(new MessageTiming(DeliverAt: T0, Delay: TimeSpan.FromSeconds(1)), T0, out _, out _)!.Value.Code);
        Assert.Equal(RejectionCode.InvalidTiming, state.ResolveTiming(new MessageTiming(ExpiresAt: T0.AddHours(1), Ttl: TimeSpan.FromHours(1)), T0, out _, out _)!.Value.Code);
        Assert.Equal(RejectionCode.DelayTooLong, state.ResolveTiming(MessageTiming.After(TimeSpan.FromDays(1.5)), T0, out _, out _)!.Value.Code);
        Assert.Equal(RejectionCode.InvalidTiming, state.ResolveTiming(new MessageTiming(DeliverAt: T0.AddHours(2), ExpiresAt: T0.AddHours(1)), T0, out _, out _)!.Value.Code);

        Assert.Equal(RejectionCode.InvalidTiming, state.ResolveTiming(MessageTiming.After(TimeSpan.MaxValue), T0, out _, out _)!.Value.Code);
        Assert.Equal(RejectionCode.InvalidTiming, state.ResolveTiming(new MessageTiming(Ttl: TimeSpan.MinValue), T0, out _, out _)!.Value.Code);
        Assert.Null(state.ResolveTiming(MessageTiming.At(T0.AddSeconds(-5)), T0, out var past, out _));
        Assert.Null(past);
        Assert.Null(state.ResolveTiming(MessageTiming.After(TimeSpan.Zero), T0, out var zero, out _));
        Assert.Null(zero);
        Assert.Null(state.ResolveTiming(new MessageTiming(Delay: TimeSpan.FromMinutes(5), Ttl: TimeSpan.FromMinutes(10)), T0, out var due, out var expires));
        Assert.Equal(T0.AddMinutes(5), due);
        Assert.Equal(T0.AddMinutes(10), expires);
    }

    [Fact]
    public void The_queue_default_ttl_counts_from_when_the_message_may_first_start()
    {
        var state = new QueueState("q", new QueueOptions { MessageTtl = TimeSpan.FromMinutes(1) });
        Assert.Null(state.ResolveTiming(null, T0, out _, out var now));
        Assert.Equal(T0.AddMinutes(1), now);
        Assert.Null(state.ResolveTiming(MessageTiming.After(TimeSpan.FromHours(1)), T0, out _, out var later));
        Assert.Equal(T0.AddHours(1).AddMinutes(1), later);
    }

    [Fact]
    public void A_message_not_started_before_it_expires_is_not_dispatched_and_is_dead_lettered_as_expired()
    {
        var state = new QueueState("q", new QueueOptions());
        state.Apply(Enqueued(Message(1, expiresAt: T0.AddSeconds(10)), Message(2, expiresAt: T0.AddSeconds(10)), Message(3)));

        Assert.Empty(state.TakeExpired(T0.AddSeconds(9)));
        // Both are found expired on their way to a worker, which gets the next message instead.
        Assert.Equal(3, state.Dispatch(0, T0.AddSeconds(10))!.Id);
        var expired = state.TakeExpired(T0.AddSeconds(10)).Select(m => m.Id).Order().ToArray();
        Assert.Equal(new long[] { 1, 2 }, expired);
        state.Apply(new MessagesExpired([1, 2], T0.AddSeconds(10), DeadLettered: true));

        Assert.Equal(MessageStatus.DeadLettered, state.Describe(1)!.Status);
        Assert.Equal("Expired", state.Describe(2)!.Errors.Single().Type);
        Assert.Equal(2, state.TotalExpired);
        Assert.Equal(2, state.DeadLetterCount);
        Assert.Equal(1, state.PendingCount);
    }

    [Fact]
    public void A_started_message_is_not_expired_and_a_discarded_expiry_reads_expired()
    {
        var state = new QueueState("q", new QueueOptions { ExpiredAction = ExpiredMessageAction.Discard });
        state.Apply(Enqueued(Message(1, expiresAt: T0.AddSeconds(10)), Message(2, dueAt: T0.AddSeconds(5), expiresAt: T0.AddSeconds(10))));
        Assert.Equal(1, state.Dispatch(0, T0)!.Id);

        var expired = Assert.Single(state.TakeExpired(T0.AddSeconds(11)));
        Assert.Equal(2, expired.Id);
        state.Apply(new MessagesExpired([2], T0.AddSeconds(11), DeadLettered: false));

        Assert.Equal(MessageStatus.InFlight, state.Describe(1)!.Status);
        Assert.Equal(MessageStatus.Expired, state.Describe(2)!.Status);
        Assert.Equal(0, state.ScheduledCount);
    }

    [Fact]
    public void Cancelling_each_state_of_a_message()
    {
        var state = new QueueState("q", new QueueOptions { Retry = { Jitter = JitterMode.None } });
        state.Apply(Enqueued(Message(1), Message(2, dueAt: T0.AddHours(1)), Message(3), Message(4)));
        var inFlight = state.Dispatch(7, T0)!;
        Assert.Equal(1, inFlight.Id);
        state.Dispatch(0, T0);
        state.TryBeginCompletion(3, 1, out _);
        state.Apply(new MessagesAcked([new AckedMessage(3, 1, null, T0)]));

        Assert.Equal(CancelOutcome.Cancelled, state.BeginCancel(1, out var was1, out var slot, out var attempt));
        Assert.Equal((MessageStatus.InFlight, 7, 1), (was1!.Value, slot, attempt));
        Assert.False(state.TryBeginCompletion(1, 1, out _)); // the worker's late report is stale
        Assert.Equal(CancelOutcome.Cancelled, state.BeginCancel(2, out var was2, out _, out _));
        Assert.Equal(MessageStatus.Scheduled, was2);
        Assert.Equal(CancelOutcome.Cancelled, state.BeginCancel(4, out var was4, out _, out _));
        Assert.Equal(MessageStatus.Queued, was4);
        Assert.Equal(CancelOutcome.AlreadyFinished, state.BeginCancel(3, out _, out _, out _));
        Assert.Equal(CancelOutcome.NotFound, state.BeginCancel(99, out _, out _, out _));
        Assert.Equal(CancelOutcome.AlreadyFinished, state.BeginCancel(4, out _, out _, out _)); // being cancelled

        foreach (var id in new long[] { 1, 2, 4 }) state.Apply(new MessageCancelled(id, T0));
        Assert.All(new long[] { 1, 2, 4 }, id => Assert.Equal(MessageStatus.Cancelled, state.Describe(id)!.Status));
        Assert.Equal(0, state.PendingCount);
        Assert.Equal(3, state.TotalCancelled);
        Assert.Equal(CancelOutcome.AlreadyFinished, state.BeginCancel(1, out _, out _, out _));
    }

    [Fact]
    public void A_cancellation_whose_write_is_rejected_returns_the_message()
    {
        var state = new QueueState("q", new QueueOptions());
        state.Apply(Enqueued(Message(1)));
        Assert.Equal(CancelOutcome.Cancelled, state.BeginCancel(1, out _, out _, out _));
        Assert.Equal(0, state.ReadyCount);
        state.ReturnToReady(1);
        Assert.Equal(1, state.Dispatch(0, T0)!.Id);
    }

    [Fact]
    public void Idempotency_keys_outlive_their_message_until_the_window_passes_and_survive_a_snapshot()
    {
        var options = new QueueOptions { DeduplicationWindow = TimeSpan.FromHours(1) };
        var state = new QueueState("q", options);
        state.Apply(Enqueued(Message(1, key: "order-17", fingerprint: 42)));
        state.Dispatch(0, T0);
        state.TryBeginCompletion(1, 1, out _);
        state.Apply(new MessagesAcked([new AckedMessage(1, 1, null, T0)]));

        var record = state.FindIdempotencyKey("order-17", T0.AddMinutes(59))!;
        Assert.Equal((1L, 42UL), (record.MessageId, record.Fingerprint));
        state = Restarted(state, options);
        Assert.Equal(1, state.FindIdempotencyKey("order-17", T0.AddMinutes(59))!.MessageId);
        Assert.Null(state.FindIdempotencyKey("order-17", T0.AddHours(1)));
        Assert.Null(state.FindIdempotencyKey("other", T0));

        Assert.Equal(1, state.PruneIdempotencyKeys(T0.AddHours(1)));
        Assert.Equal(0, state.IdempotencyKeyCount);
    }

    [Fact]
    public void Applying_newer_messages_drops_keys_older_than_the_window()
    {
        var state = new QueueState("q", new QueueOptions { DeduplicationWindow = TimeSpan.FromMinutes(10) });
        state.Apply(Enqueued(Message(1, key: "a", at: T0), Message(2, key: "b", at: T0.AddMinutes(5))));
        state.Apply(Enqueued(Message(3, key: "c", at: T0.AddMinutes(12))));
        Assert.Equal(2, state.IdempotencyKeyCount);
        Assert.Null(state.FindIdempotencyKey("a", T0.AddMinutes(12)));
        Assert.NotNull(state.FindIdempotencyKey("b", T0.AddMinutes(12)));
    }

    [Fact]
    public void Fingerprints_tell_the_same_request_from_a_different_one()
    {
        var payload = Encoding.UTF8.GetBytes("{\"a\":1}");
        var a = IdempotencyIndex.FingerprintOf("t", payload, null, MessageTiming.After(TimeSpan.FromSeconds(5)));
        Assert.Equal(a, IdempotencyIndex.FingerprintOf("t", payload.ToArray(), null, MessageTiming.After(TimeSpan.FromSeconds(5))));
        Assert.NotEqual(a, IdempotencyIndex.FingerprintOf("t", payload, null, MessageTiming.After(TimeSpan.FromSeconds(6))));
        Assert.NotEqual(a, IdempotencyIndex.FingerprintOf("u", payload, null, MessageTiming.After(TimeSpan.FromSeconds(5))));
        Assert.NotEqual(a, IdempotencyIndex.FingerprintOf("t", payload, "k", MessageTiming.After(TimeSpan.FromSeconds(5))));
        Assert.NotEqual(a, IdempotencyIndex.FingerprintOf("t", Encoding.UTF8.GetBytes("{\"a\":2}"), null, MessageTiming.After(TimeSpan.FromSeconds(5))));
    }

    [Fact]
    public void Validating_idempotency_keys()
    {
        var state = new QueueState("q", new QueueOptions { RequireIdempotencyKey = true });
        Assert.Equal(RejectionCode.IdempotencyKeyRequired, state.ValidateIdempotencyKey(null)!.Value.Code);
        Assert.Equal(RejectionCode.InvalidIdempotencyKey, state.ValidateIdempotencyKey("")!.Value.Code);
        Assert.Equal(RejectionCode.InvalidIdempotencyKey, state.ValidateIdempotencyKey(new string('k', 256))!.Value.Code);
        Assert.Null(state.ValidateIdempotencyKey(new string('k', 255)));
        Assert.Null(new QueueState("q", new QueueOptions()).ValidateIdempotencyKey(null));
    }

    private enum Op { Enqueue, Dispatch, Complete, Fail, Cancel, Expire, Advance, Restart, Replay }

    /// <summary>
    /// Never early, and every message accounted for: over any interleaving of delayed and expiring enqueues,
    /// dispatch, completion, failure, cancellation, expiry, time passing, restarts from a snapshot (through the codec)
    /// and replays of the whole journal, no message starts before its due time or after its expiry, and every accepted
    /// message is held or finished exactly once.
    /// </summary>
    [Fact]
    public void Never_early_never_expired_and_every_message_accounted_for()
    {
        var ops = Gen.Select(Gen.Enum<Op>(), Gen.Int[0, 1000]).Array[1, 150];
        ops.Sample(sequence =>
        {
            var options = new QueueOptions { Lease = TimeSpan.FromSeconds(5), Retry = { MaxAttempts = 2, BaseDelay = TimeSpan.FromSeconds(1) }, SucceededRetention = 1_000_000 };
            var state = new QueueState("q", options);
            var journal = new List<IQueueEvent>();
            var now = T0;
            long nextId = 0;
            var due = new Dictionary<long, DateTime>();
            var expiry = new Dictionary<long, DateTime>();
            var accepted = new HashSet<long>();
            var finished = new HashSet<long>();

            void Commit(IQueueEvent e)
            {
                journal.Add(e);
                state.Apply(e);
            }

            var trace = new List<string>();
            foreach (var (op, n) in sequence)
            {
                trace.Add($"{op} {n}");
                switch (op)
                {
                    case Op.Enqueue:
                        var messages = Enumerable.Range(0, 1 + n % 4).Select(i =>
                        {
                            var id = ++nextId;
                            var delay = (n + i) % 3 == 0 ? (DateTime?)null : now.AddSeconds((n + i) % 20);
                            var expires = (n + i) % 5 == 0 ? now.AddSeconds(3 + n % 15) : (DateTime?)null;
                            if (delay is { } d) due[id] = d;
                            if (expires is { } x && x > (delay ?? now)) expiry[id] = x;
                            return Message(id, dueAt: delay, expiresAt: expiry.TryGetValue(id, out var kept) ? kept : null, at: now);
                        }).ToArray();
                        Commit(Enqueued(messages));
                        accepted.UnionWith(messages.Select(m => m.Id));
                        break;
                    case Op.Dispatch:
                        for (var i = 0; i <= n % 3; i++)
                        {
                            if (state.Dispatch(i, now) is not { } m) break;
                            if (due.TryGetValue(m.Id, out var d)) Assert.True(now >= d, $"message {m.Id} started at {now:O}, due {d:O}");
                            if (expiry.TryGetValue(m.Id, out var x)) Assert.True(now < x, $"message {m.Id} started at {now:O}, expired {x:O}");
                        }
                        break;
                    case Op.Complete:
                        if (PickInFlight(state, n) is { } done && state.TryBeginCompletion(done.Id, done.Attempt, out _))
                        {
                            Commit(new MessagesAcked([new AckedMessage(done.Id, done.Attempt, null, now)]));
                            finished.Add(done.Id);
                        }
                        break;
                    case Op.Fail:
                        if (PickInFlight(state, n) is { } failed && state.TryBeginFailure(failed.Id, failed.Attempt, out var failing))
                        {
                            var decision = state.DecideFailure(failing, new ErrorInfo("Boom", "x", null, null, now), RequestedFailureAction.FollowPolicy, null, now, n / 1000.0);
                            Commit(decision);
                        }
                        break;
                    case Op.Cancel:
                        var target = 1 + n % Math.Max(1, nextId);
                        if (state.BeginCancel(target, out _, out _, out _) == CancelOutcome.Cancelled)
                        {
                            Commit(new MessageCancelled(target, now));
                            finished.Add(target);
                        }
                        break;
                    case Op.Expire:
                        var ending = state.TakeExpired(now).Select(m => m.Id).ToImmutableArray();
                        if (ending.Length > 0)
                        {
                            Commit(new MessagesExpired(ending, now, DeadLettered: n % 2 == 0));
                            if (n % 2 != 0) finished.UnionWith(ending);
                        }
                        break;
                    case Op.Advance:
                        now = now.AddSeconds(n % 7);
                        state.PromoteDue(now);
                        break;
                    case Op.Restart:
                        state = Restarted(state, options);
                        break;
                    case Op.Replay:
                        state = new QueueState("q", options);
                        foreach (var e in journal) state.Apply(e);
                        break;
                }

                var held = state.HeldMessages.Select(m => m.Id).ToList();
                Assert.Equal(held.Count, held.Distinct().Count());
                Assert.Empty(held.Intersect(finished));
                Assert.True(accepted.Count == held.Count + finished.Count, $"accepted {accepted.Count}, held {held.Count}, finished {finished.Count} after {string.Join(", ", trace)}");
                // Messages found expired on their way to a worker wait, ending, for the next expiry write.
                var endingCount = state.HeldMessages.Count(m => m.Stage == Stage.Ending);
                Assert.True(state.PendingCount == state.ReadyCount + state.InFlightCount + state.ScheduledCount + endingCount,
                    $"pending {state.PendingCount}, ready {state.ReadyCount}, in flight {state.InFlightCount}, scheduled {state.ScheduledCount}, ending {endingCount} after {string.Join(", ", trace)}");
            }
        }, iter: 300);
    }

    private static StoredMessage? PickInFlight(QueueState state, int n)
    {
        var inFlight = state.HeldMessages.Where(m => m.Stage == Stage.InFlight).OrderBy(m => m.Id).ToList();
        return inFlight.Count == 0 ? null : inFlight[n % inFlight.Count];
    }
}

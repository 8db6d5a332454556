using System.Collections.Immutable;
using System.Text;
using Actors.Configuration;
using Actors.Protocol;
using Actors.State;
using CsCheck;
using static Actors.Protocol.QueueEvents;

namespace Actors.Core.Tests;

/// <summary>Per-key ordering, parked keys and priorities in the queue's dispatch order.</summary>
public class KeyOrderingStateTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    internal static EnqueuedMessage Message(long id, string? key = null, int priority = 0, DateTime? dueAt = null, long payloadBytes = 16)
    {
        var headers = ImmutableDictionary<string, string>.Empty;
        if (key is not null) headers = headers.Add(MessageHeaders.Key, key);
        if (priority != 0) headers = headers.Add(MessageHeaders.Priority, priority.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var payload = Encoding.UTF8.GetBytes($"payload-{id}".PadRight((int)payloadBytes, '.'));
        return new EnqueuedMessage(id, "work", payload, headers, T0, dueAt);
    }

    private static MessagesEnqueued Enqueued(params EnqueuedMessage[] messages) => new(messages.ToImmutableArray());

    private static ErrorInfo Error(DateTime at) => new("System.InvalidOperationException", "boom", null, "w", at);

    private static void Fail(QueueState state, StoredMessage delivered, DateTime now)
    {
        Assert.True(state.TryBeginFailure(delivered.Id, delivered.Attempt, out var failing));
        state.Apply(state.DecideFailure(failing, Error(now), RequestedFailureAction.FollowPolicy, null, now, 0.5));
    }

    private static void Complete(QueueState state, StoredMessage delivered, DateTime now)
    {
        Assert.True(state.TryBeginCompletion(delivered.Id, delivered.Attempt, out _));
        state.Apply(new MessagesAcked([new AckedMessage(delivered.Id, delivered.Attempt, null, now)]));
    }

    private static List<long> DrainIds(QueueState state, int slot = 0)
    {
        var ids = new List<long>();
        while (state.Dispatch(slot, T0) is { } m) ids.Add(m.Id);
        return ids;
    }

    [Fact]
    public void Messages_of_one_key_start_one_at_a_time_in_enqueue_order_while_other_keys_run_in_parallel()
    {
        var state = new QueueState("q", new QueueOptions());
        state.Apply(Enqueued(Message(1, "a"), Message(2, "a"), Message(3, "b"), Message(4), Message(5, "a"), Message(6, "b")));

        Assert.Equal([1, 3, 4], DrainIds(state));
        Assert.Equal(6, state.PendingCount);
        Assert.Equal(3, state.ReadyCount);

        Complete(state, state.Find(1)!, T0);
        Assert.Equal([2], DrainIds(state));
        Complete(state, state.Find(3)!, T0);
        Complete(state, state.Find(2)!, T0);
        Assert.Equal([6, 5], DrainIds(state));
        Assert.Equal(2, state.ActiveKeys);
    }

    [Fact]
    public void A_failing_message_blocks_its_key_while_it_retries_and_a_lost_lease_puts_it_back_first()
    {
        var options = new QueueOptions { Lease = TimeSpan.FromSeconds(5), Retry = { MaxAttempts = 5, BaseDelay = TimeSpan.FromSeconds(1), Jitter = 0 } };
        var state = new QueueState("q", options);
        state.Apply(Enqueued(Message(1, "k"), Message(2, "k"), Message(3, "other")));

        var first = state.Dispatch(0, T0)!;
        Assert.Equal(1, first.Id);
        Fail(state, first, T0);
        Assert.Equal([3], DrainIds(state));

        var now = T0.AddSeconds(2);
        state.PromoteDue(now);
        var retry = state.Dispatch(0, now)!;
        Assert.Equal(1, retry.Id);
        Assert.Null(state.Dispatch(0, now));

        // The worker went silent: the lease runs out and the message goes back to its key's head, before message 2.
        var later = now.AddSeconds(10);
        foreach (var lapsed in state.ExpiredLeases(later))
        {
            Assert.True(state.TryBeginFailure(lapsed.Id, lapsed.Attempt, out var failing));
            state.Apply(state.DecideFailure(failing, Error(later), RequestedFailureAction.RetryAfter, TimeSpan.Zero, later, 0.5));
        }
        state.PromoteDue(later);
        Assert.Equal(1, state.Dispatch(0, later)!.Id);
    }

    [Fact]
    public void A_key_whose_message_runs_out_of_attempts_is_parked_until_released_and_other_keys_flow()
    {
        var options = new QueueOptions { Retry = { MaxAttempts = 1 } };
        var state = new QueueState("q", options);
        state.Apply(Enqueued(Message(1, "k"), Message(2, "k"), Message(3, "other")));

        Fail(state, state.Dispatch(0, T0)!, T0);

        Assert.Equal(MessageStatus.Parked, state.Describe(1)!.Status);
        Assert.Equal(1, state.ParkedKeys);
        Assert.Equal(1, state.ParkedMessageOf("k")!.Id);
        Assert.Equal(T0, state.OldestBlockedEnqueuedAt);
        Assert.Equal([3], DrainIds(state));

        // Survives a restart from a snapshot.
        state = QueueState.FromSnapshot("q", options, state.ToSnapshot());
        Assert.Equal(1, state.ParkedKeys);
        Assert.Equal([3], DrainIds(state));

        // Release = redrive the parked message: it runs again first, then the key goes on.
        state.Apply(new DeadLettersRedrivenEvent([1], T0));
        Assert.Equal(0, state.ParkedKeys);
        var released = state.Dispatch(0, T0)!;
        Assert.Equal(1, released.Id);
        Assert.Null(state.Dispatch(0, T0));
        Complete(state, released, T0);
        Assert.Equal([2], DrainIds(state));
    }

    [Fact]
    public void Skipping_a_parked_message_keeps_it_as_a_dead_letter_and_the_key_goes_on()
    {
        var state = new QueueState("q", new QueueOptions { Retry = { MaxAttempts = 1 } });
        state.Apply(Enqueued(Message(1, "k"), Message(2, "k")));
        Fail(state, state.Dispatch(0, T0)!, T0);
        Assert.Empty(DrainIds(state));

        state.Apply(new ParkedMessageSkipped(1, T0));

        Assert.Equal(MessageStatus.DeadLettered, state.Describe(1)!.Status);
        Assert.Equal(0, state.ParkedKeys);
        Assert.Equal([2], DrainIds(state));
    }

    [Fact]
    public void Purging_a_parked_key_deletes_its_dead_letter_and_cancels_what_waits_behind_it()
    {
        var state = new QueueState("q", new QueueOptions { Retry = { MaxAttempts = 1 } });
        state.Apply(Enqueued(Message(1, "k"), Message(2, "k"), Message(3, "k", dueAt: T0.AddHours(1)), Message(4, "other")));
        Fail(state, state.Dispatch(0, T0)!, T0);

        var selection = state.PurgeSelection("k");
        Assert.Equal([1, 2, 3], selection.ToList());
        state.Apply(new KeyPurged("k", selection, T0));

        Assert.Null(state.Describe(1));
        Assert.Equal(MessageStatus.Cancelled, state.Describe(2)!.Status);
        Assert.Equal(MessageStatus.Cancelled, state.Describe(3)!.Status);
        Assert.Equal(0, state.ParkedKeys);
        Assert.Equal(1, state.ActiveKeys);
        Assert.Equal([4], DrainIds(state));
        Assert.Empty(state.PurgeSelection("other"));
    }

    [Fact]
    public void DeadLetterAndContinue_moves_on_to_the_keys_next_message()
    {
        var state = new QueueState("q", new QueueOptions { Retry = { MaxAttempts = 1 }, KeyFailure = KeyFailureAction.DeadLetterAndContinue });
        state.Apply(Enqueued(Message(1, "k"), Message(2, "k")));
        Fail(state, state.Dispatch(0, T0)!, T0);

        Assert.Equal(MessageStatus.DeadLettered, state.Describe(1)!.Status);
        Assert.Equal(0, state.ParkedKeys);
        Assert.Equal([2], DrainIds(state));
    }

    [Fact]
    public void A_delayed_message_blocks_its_key_until_it_is_due()
    {
        var state = new QueueState("q", new QueueOptions());
        state.Apply(Enqueued(Message(1, "k", dueAt: T0.AddMinutes(1)), Message(2, "k"), Message(3)));

        Assert.Equal([3], DrainIds(state));
        state.PromoteDue(T0.AddMinutes(1));
        var due = state.Dispatch(0, T0.AddMinutes(1))!;
        Assert.Equal(1, due.Id);
        Complete(state, due, T0);
        Assert.Equal([2], DrainIds(state));
    }

    [Fact]
    public void Keys_take_turns_so_a_hot_key_does_not_starve_the_others()
    {
        var state = new QueueState("q", new QueueOptions());
        var hot = Enumerable.Range(1, 100).Select(i => Message(i, "hot"));
        var cold = Enumerable.Range(101, 3).Select(i => Message(i, $"cold-{i}"));
        state.Apply(Enqueued(hot.Concat(cold).ToArray()));

        // One worker: it alternates between the hot key and the keys that were waiting, instead of running the hot
        // key's 100 messages first.
        var order = new List<long>();
        for (var i = 0; i < 8; i++)
        {
            var next = state.Dispatch(0, T0)!;
            order.Add(next.Id);
            Complete(state, next, T0);
        }
        Assert.Equal([1, 101, 102, 103, 2, 3, 4, 5], order);
    }

    [Fact]
    public void Higher_priorities_start_first_fifo_within_a_level_and_a_key_keeps_its_order()
    {
        var state = new QueueState("q", new QueueOptions());
        state.Apply(Enqueued(Message(1), Message(2, priority: 5), Message(3, priority: 9), Message(4, priority: 5), Message(5, "k"), Message(6, "k", priority: 9)));

        // Message 6 has the top priority but waits behind message 5 of its key.
        Assert.Equal([3, 2, 4, 1, 5], DrainIds(state));
        Complete(state, state.Find(5)!, T0);
        Assert.Equal([6], DrainIds(state));
    }

    [Fact]
    public void Strict_priority_lets_a_steady_higher_level_delay_lower_ones()
    {
        var state = new QueueState("q", new QueueOptions());
        state.Apply(Enqueued(Message(1)));
        for (var id = 2; id < 50; id++)
        {
            state.Apply(Enqueued(Message(id, priority: 1)));
            var next = state.Dispatch(0, T0)!;
            Assert.Equal(id, next.Id);
            Complete(state, next, T0);
        }
        Assert.Equal(1, state.Dispatch(0, T0)!.Id);
    }

    private enum Op { Enqueue, Dispatch, Complete, Fail, ExpireLeases, Advance, Restart, Release, Skip, Cancel, Read }

    /// <summary>
    /// Under any interleaving of enqueues (keyed, keyless, prioritised, delayed), dispatch, success, failure, lease
    /// expiry, cancellation, parking and the operator's answers, restarts and payloads left in the journal: a keyed
    /// message starts only when every earlier message of its key is final and none of its key is in flight.
    /// </summary>
    [Fact]
    public void For_every_key_starts_follow_enqueue_order_under_failures_lease_expiries_and_restarts()
    {
        var ops = Gen.Select(Gen.Enum<Op>(), Gen.Int[0, 1000]).Array[1, 250];
        ops.Sample(sequence =>
        {
            var options = new QueueOptions
            {
                Lease = TimeSpan.FromSeconds(5), PayloadMemoryBytes = 64 * 1024,
                Retry = { MaxAttempts = 2, BaseDelay = TimeSpan.FromSeconds(1) },
            };
            var state = new QueueState("q", options);
            var journal = new Dictionary<long, MessagesEnqueued>();
            long sequenceNr = 0, nextId = 0;
            var now = T0;
            var keyOf = new Dictionary<long, string>();
            var final = new HashSet<long>();

            void Apply(IQueueEvent evt)
            {
                state.Apply(evt, ++sequenceNr);
                if (evt is MessagesEnqueued e) journal[sequenceNr] = e;
                switch (evt)
                {
                    case MessagesAcked a: final.UnionWith(a.Acks.Select(x => x.Id)); break;
                    case DeadLettered { Parked: false } d: final.Add(d.Id); break;
                    case ParkedMessageSkipped s: final.Add(s.Id); break;
                    case MessageCancelled c: final.Add(c.Id); break;
                    case DeadLettersRedrivenEvent r: final.ExceptWith(r.Ids); break;
                }
            }

            foreach (var (op, n) in sequence)
            {
                switch (op)
                {
                    case Op.Enqueue:
                        var batch = Enumerable.Range(0, 1 + n % 4).Select(i =>
                        {
                            var id = ++nextId;
                            var key = (n + i) % 5 == 4 ? null : $"k{(n + i) % 3}";
                            if (key is not null) keyOf[id] = key;
                            return Message(id, key, priority: (n + i) % 7 == 0 ? 3 : 0, dueAt: (n + i) % 11 == 0 ? now.AddSeconds(2) : null, payloadBytes: 1 + n % 2000);
                        }).ToArray();
                        Apply(Enqueued(batch));
                        break;
                    case Op.Dispatch:
                        while (state.Dispatch(n % 3, now) is { } started)
                        {
                            if (!keyOf.TryGetValue(started.Id, out var key)) continue;
                            var earlier = keyOf.Where(p => p.Value == key && p.Key < started.Id && !final.Contains(p.Key)).Select(p => p.Key);
                            Assert.Empty(earlier);
                            var running = state.HeldMessages.Where(m => m.Key == key && m.Id != started.Id && m.Stage is not (Stage.Ready or Stage.Scheduled or Stage.DeadLettered));
                            Assert.Empty(running);
                        }
                        break;
                    case Op.Complete:
                        if (Pick(state, n) is { } done && state.TryBeginCompletion(done.Id, done.Attempt, out _))
                            Apply(new MessagesAcked([new AckedMessage(done.Id, done.Attempt, null, now)]));
                        break;
                    case Op.Fail:
                        if (Pick(state, n) is { } failed && state.TryBeginFailure(failed.Id, failed.Attempt, out var failing))
                            Apply(state.DecideFailure(failing, Error(now), RequestedFailureAction.FollowPolicy, null, now, n / 1000.0));
                        break;
                    case Op.ExpireLeases:
                        now = now.AddSeconds(6);
                        foreach (var lapsed in state.ExpiredLeases(now))
                            if (state.TryBeginFailure(lapsed.Id, lapsed.Attempt, out var lapsing))
                                Apply(state.DecideFailure(lapsing, Error(now), RequestedFailureAction.RetryAfter, TimeSpan.Zero, now, 0.5));
                        break;
                    case Op.Advance:
                        now = now.AddSeconds(n % 4);
                        state.PromoteDue(now);
                        break;
                    case Op.Restart:
                        state = QueueState.FromSnapshot("q", options, state.ToSnapshot());
                        break;
                    case Op.Release:
                        if (state.ParkedMessageOf($"k{n % 3}") is { } toRelease) Apply(new DeadLettersRedrivenEvent([toRelease.Id], now));
                        break;
                    case Op.Skip:
                        if (state.ParkedMessageOf($"k{n % 3}") is { } toSkip) Apply(new ParkedMessageSkipped(toSkip.Id, now));
                        break;
                    case Op.Cancel:
                        var target = 1 + n % Math.Max(1, nextId);
                        if (state.BeginCancel(target, out _, out _, out _) == CancelOutcome.Cancelled) Apply(new MessageCancelled(target, now));
                        break;
                    case Op.Read:
                        if (state.PayloadsWanted is { } from && journal.TryGetValue(from, out var stored)) state.AttachPayloads(from, stored);
                        break;
                }
                Assert.Equal(state.PendingCount, state.ReadyCount + state.InFlightCount + state.ScheduledCount);
            }

            // Everything still held can finish: release every parked key, then run to the end.
            for (var round = 0; round < 10_000 && state.PendingCount + state.ParkedKeys > 0; round++)
            {
                foreach (var key in new[] { "k0", "k1", "k2" })
                    if (state.ParkedMessageOf(key) is { } parked) Apply(new DeadLettersRedrivenEvent([parked.Id], now));
                now = now.AddSeconds(10);
                foreach (var lapsed in state.ExpiredLeases(now))
                    if (state.TryBeginFailure(lapsed.Id, lapsed.Attempt, out var lapsing))
                        Apply(state.DecideFailure(lapsing, Error(now), RequestedFailureAction.RetryAfter, TimeSpan.Zero, now, 0.5));
                state.PromoteDue(now);
                while (state.PayloadsWanted is { } from && journal.TryGetValue(from, out var stored) && state.AttachPayloads(from, stored) > 0) { }
                while (state.Dispatch(0, now) is { } next)
                {
                    Assert.True(state.TryBeginCompletion(next.Id, next.Attempt, out _));
                    Apply(new MessagesAcked([new AckedMessage(next.Id, next.Attempt, null, now)]));
                }
            }
            var stuck = string.Join("; ", state.HeldMessages.Where(m => m.Stage != Stage.DeadLettered || m.Parked)
                .Select(m => $"{m.Id} {m.Key} {m.Stage} p{m.Priority} payload={m.HasPayload} seq={m.SequenceNr} parked={m.Parked} lane=[{(m.Key is null ? "" : string.Join(",", state.LaneOf(m.Key).Select(x => x.Id)))}]"));
            Assert.True(state.PendingCount == 0, $"stuck: {stuck}; ops: {string.Join(",", sequence.Select(o => o.Item1))}");
            Assert.Equal(0, state.ActiveKeys);
        }, iter: 300);
    }

    private static StoredMessage? Pick(QueueState state, int n)
    {
        var inFlight = state.HeldMessages.Where(m => m.Stage == Stage.InFlight).OrderBy(m => m.Id).ToList();
        return inFlight.Count == 0 ? null : inFlight[n % inFlight.Count];
    }
}

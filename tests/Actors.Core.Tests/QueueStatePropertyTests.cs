using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Protocol;
using Actors.State;
using CsCheck;
using static Actors.Protocol.QueueEvents;

namespace Actors.Core.Tests;

/// <summary>
/// Any interleaving of enqueue, dispatch, completion, failure, lease expiry, time passing and restart keeps every
/// accepted message accounted for exactly once: held (waiting, in flight, scheduled or dead) or finished
/// (succeeded or discarded), never both, never neither.
/// </summary>
public class QueueStatePropertyTests
{
    private enum Op { Enqueue, Dispatch, Complete, Fail, Expire, Advance, Restart }

    [Fact]
    public void Every_accepted_message_is_accounted_for_exactly_once()
    {
        var ops = Gen.Select(Gen.Enum<Op>(), Gen.Int[0, 1000]).Array[1, 200];
        ops.Sample(sequence =>
        {
            var options = new QueueOptions { Lease = TimeSpan.FromSeconds(5), Retry = { MaxAttempts = 3, BaseDelay = TimeSpan.FromSeconds(1) }, SucceededRetention = 1_000_000 };
            options.Retry.Rules.Add(new RetryRule { ExceptionType = "Discard", Action = FailureAction.Discard });
            var state = new QueueState("q", options);
            var now = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            long nextId = 0;
            var accepted = new HashSet<long>();
            var succeeded = new HashSet<long>();
            var discarded = new HashSet<long>();

            foreach (var (op, n) in sequence)
            {
                switch (op)
                {
                    case Op.Enqueue:
                        var ids = Enumerable.Range(0, 1 + n % 5).Select(_ => ++nextId).ToArray();
                        state.Apply(QueueStateTests.Enqueued(ids));
                        accepted.UnionWith(ids);
                        break;
                    case Op.Dispatch:
                        state.Dispatch(n % 4, now);
                        break;
                    case Op.Complete:
                        if (PickInFlight(state, n) is { } done && state.TryBeginCompletion(done.Id, done.Attempt, out _))
                        {
                            state.Apply(new MessagesAcked([new AckedMessage(done.Id, done.Attempt, null, now)]));
                            succeeded.Add(done.Id);
                        }
                        break;
                    case Op.Fail:
                        if (PickInFlight(state, n) is { } failed && state.TryBeginFailure(failed.Id, failed.Attempt, out var failing))
                        {
                            var error = new ErrorInfo(n % 7 == 0 ? "Discard" : "Boom", "x", null, null, now);
                            var decision = state.DecideFailure(failing, error, RequestedFailureAction.FollowPolicy, null, now, n / 1000.0);
                            state.Apply(decision);
                            if (decision is Discarded) discarded.Add(failed.Id);
                        }
                        break;
                    case Op.Expire:
                        foreach (var expired in state.ExpiredLeases(now))
                        {
                            if (state.TryBeginFailure(expired.Id, expired.Attempt, out var lapsed))
                                state.Apply(state.DecideFailure(lapsed, new ErrorInfo("LeaseExpired", "x", null, null, now), RequestedFailureAction.FollowPolicy, null, now, 0.5));
                        }
                        break;
                    case Op.Advance:
                        now = now.AddSeconds(n % 10);
                        state.PromoteDue(now);
                        break;
                    case Op.Restart:
                        state = QueueState.FromSnapshot("q", options, state.ToSnapshot());
                        break;
                }

                var held = state.HeldMessages.Select(m => m.Id).ToList();
                Assert.Equal(held.Count, held.Distinct().Count());
                Assert.Empty(held.Intersect(succeeded));
                Assert.Empty(held.Intersect(discarded));
                Assert.Empty(succeeded.Intersect(discarded));
                Assert.Equal(accepted.Count, held.Count + succeeded.Count + discarded.Count);
                Assert.All(succeeded, id => Assert.True(state.IsRetainedSuccess(id)));
                Assert.Equal(state.PendingCount, state.ReadyCount + state.InFlightCount + state.ScheduledCount);
            }
        }, iter: 300);
    }

    private enum SpillOp { Enqueue, Dispatch, Complete, Fail, Advance, Read, Restart }

    /// <summary>
    /// With payloads past a small budget left in a (modelled) journal: every dispatched message carries its own
    /// payload, the counters stay consistent, and reading back what the state asks for always drains the queue.
    /// </summary>
    [Fact]
    public void Payloads_left_in_the_journal_always_come_back_and_every_message_is_delivered_with_its_own()
    {
        var ops = Gen.Select(Gen.Enum<SpillOp>(), Gen.Int[0, 1000]).Array[1, 200];
        ops.Sample(sequence =>
        {
            var options = new QueueOptions { PayloadMemoryBytes = 64 * 1024, Retry = { MaxAttempts = 3, BaseDelay = TimeSpan.FromSeconds(1) } };
            var state = new QueueState("q", options);
            var journal = new Dictionary<long, MessagesEnqueued>();
            var now = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
            long nextId = 0, sequenceNr = 0;
            var accepted = new HashSet<long>();
            var finished = new HashSet<long>();
            static byte[] PayloadOf(long id) => BitConverter.GetBytes(id).Concat(new byte[1016]).ToArray();

            void Apply(IQueueEvent evt)
            {
                state.Apply(evt, ++sequenceNr);
                if (evt is MessagesEnqueued e) journal[sequenceNr] = e;
            }
            void Read(int events)
            {
                if (state.PayloadsWanted is not { } from) return;
                for (var seq = from; seq < from + events; seq++)
                    if (journal.TryGetValue(seq, out var e)) state.AttachPayloads(seq, e);
            }
            void DispatchOne(int slot)
            {
                if (state.Dispatch(slot, now) is not { } m) return;
                Assert.True(m.HasPayload);
                Assert.Equal(PayloadOf(m.Id), m.Payload.ToArray());
            }
            void Complete(StoredMessage m)
            {
                if (!state.TryBeginCompletion(m.Id, m.Attempt, out _)) return;
                Apply(new MessagesAcked([new AckedMessage(m.Id, m.Attempt, null, now)]));
                finished.Add(m.Id);
            }

            foreach (var (op, n) in sequence)
            {
                switch (op)
                {
                    case SpillOp.Enqueue:
                        var ids = Enumerable.Range(0, 1 + n % 20).Select(_ => ++nextId).ToArray();
                        Apply(new MessagesEnqueued(ids.Select(id => new EnqueuedMessage(id, "work", PayloadOf(id), ImmutableDictionary<string, string>.Empty, now)).ToImmutableArray()));
                        accepted.UnionWith(ids);
                        break;
                    case SpillOp.Dispatch:
                        for (var i = 0; i <= n % 8; i++) DispatchOne(i);
                        break;
                    case SpillOp.Complete:
                        if (PickInFlight(state, n) is { } done) Complete(done);
                        break;
                    case SpillOp.Fail:
                        if (PickInFlight(state, n) is { } failed && state.TryBeginFailure(failed.Id, failed.Attempt, out var failing))
                        {
                            var decision = state.DecideFailure(failing, new ErrorInfo("Boom", "x", null, null, now), RequestedFailureAction.FollowPolicy, null, now, n / 1000.0);
                            Apply(decision);
                            if (decision is DeadLettered) finished.Add(failed.Id);
                        }
                        break;
                    case SpillOp.Advance:
                        now = now.AddSeconds(n % 10);
                        state.PromoteDue(now);
                        break;
                    case SpillOp.Read:
                        Read(1 + n % 40);
                        break;
                    case SpillOp.Restart:
                        state = QueueState.FromSnapshot("q", options, state.ToSnapshot());
                        break;
                }
                Assert.InRange(state.ReadyWithoutPayload, 0, state.ReadyCount);
                Assert.True(state.ReadyPayloadBytes >= 0);
                Assert.Equal(state.PendingCount, state.ReadyCount + state.InFlightCount + state.ScheduledCount);
            }

            // Drain: retries come due, workers finish everything, and the state's reads bring every payload back.
            for (var round = 0; round < 100_000 && state.PendingCount > 0; round++)
            {
                now = now.AddMinutes(10);
                state.PromoteDue(now);
                while (state.ReadyCount > 0 && state.Dispatch(0, now) is { } m)
                {
                    Assert.Equal(PayloadOf(m.Id), m.Payload.ToArray());
                    Complete(m);
                }
                foreach (var m in state.HeldMessages.Where(m => m.Stage == Stage.InFlight).ToList()) Complete(m);
                if (state.ReadyCount > 0 && state.PayloadsWanted is null) Assert.Fail($"stalled: {state.ReadyCount} ready, {state.ReadyWithoutPayload} without payload, nothing wanted");
                Read(40);
            }
            Assert.Equal(0, state.PendingCount);
            Assert.Equal(accepted.Count, finished.Count);
        }, iter: 300);
    }

    private static StoredMessage? PickInFlight(QueueState state, int n)
    {
        var inFlight = state.HeldMessages.Where(m => m.Stage == Stage.InFlight).OrderBy(m => m.Id).ToList();
        return inFlight.Count == 0 ? null : inFlight[n % inFlight.Count];
    }
}

using System.Collections.Immutable;
using Actors.Protocol;
using Actors.Queues;
using Akka.Actor;
using static Actors.Protocol.QueueEvents;

namespace Actors.Core.Tests;

/// <summary>The registry of callers waiting for outcomes, without an actor system.</summary>
public sealed class OutcomeWaitersTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly IActorRef Caller = ActorRefs.Nobody;

    [Fact]
    public void It_holds_at_most_its_maximum_and_a_removed_or_taken_waiter_frees_its_place()
    {
        var waiters = new OutcomeWaiters(max: 2);
        Assert.True(waiters.TryAdd(1, 10, Caller, T0.AddSeconds(5)));
        Assert.True(waiters.TryAdd(1, 11, Caller, T0.AddSeconds(5)));
        Assert.False(waiters.TryAdd(2, 12, Caller, T0.AddSeconds(5)));
        Assert.Equal(2, waiters.Count);

        Assert.False(waiters.Remove(1, 99));
        Assert.True(waiters.Remove(1, 10));
        Assert.True(waiters.TryAdd(2, 12, Caller, T0.AddSeconds(5)));

        Assert.Equal(new[] { 11L }, waiters.Take(1).Select(w => w.CorrelationId));
        Assert.False(waiters.IsWaitedFor(1));
        Assert.Empty(waiters.Take(1));
        Assert.Equal(1, waiters.Count);
        Assert.Equal(new[] { 12L }, waiters.TakeAll().Select(w => w.CorrelationId));
        Assert.Equal(0, waiters.Count);
    }

    [Fact]
    public void Expired_waiters_are_taken_at_their_deadline_and_the_others_stay()
    {
        var waiters = new OutcomeWaiters(max: 10);
        waiters.TryAdd(1, 10, Caller, T0.AddSeconds(1));
        waiters.TryAdd(1, 11, Caller, T0.AddSeconds(3));
        waiters.TryAdd(2, 12, Caller, T0.AddSeconds(2));

        Assert.Empty(waiters.TakeExpired(T0.AddMilliseconds(999)));
        Assert.Equal(new[] { 10L }, waiters.TakeExpired(T0.AddSeconds(1)).Select(w => w.CorrelationId));
        Assert.Equal(new[] { 12L }, waiters.TakeExpired(T0.AddSeconds(2.5)).Select(w => w.CorrelationId));
        Assert.False(waiters.IsWaitedFor(2));
        Assert.True(waiters.IsWaitedFor(1));
        Assert.Equal(new[] { 11L }, waiters.TakeExpired(T0.AddSeconds(10)).Select(w => w.CorrelationId));
        Assert.Equal(0, waiters.Count);
        // A waiter added after a sweep is found by the next one.
        waiters.TryAdd(3, 13, Caller, T0.AddSeconds(11));
        Assert.Equal(new[] { 13L }, waiters.TakeExpired(T0.AddSeconds(11)).Select(w => w.CorrelationId));
    }

    [Fact]
    public void The_events_that_can_finish_a_message_name_it()
    {
        var error = new ErrorInfo("E", "m", null, null, T0);
        Assert.Equal(new[] { 1L, 2L }, OutcomeWaiters.FinishedBy(new MessagesAcked([new AckedMessage(1, 1, null, T0), new AckedMessage(2, 1, null, T0)])));
        Assert.Equal(new[] { 3L }, OutcomeWaiters.FinishedBy(new DeadLettered(3, 1, error, "r")));
        Assert.Equal(new[] { 4L }, OutcomeWaiters.FinishedBy(new Discarded(4, 1, error)));
        Assert.Equal(new[] { 5L }, OutcomeWaiters.FinishedBy(new MessageCancelled(5, T0)));
        Assert.Equal(new[] { 6L, 7L }, OutcomeWaiters.FinishedBy(new MessagesExpired([6, 7], T0, false)));
        Assert.Empty(OutcomeWaiters.FinishedBy(new RetryScheduled(8, 1, error, T0)));
        Assert.Empty(OutcomeWaiters.FinishedBy(new DeadLettersRedrivenEvent(ImmutableArray.Create(9L), T0)));
    }
}

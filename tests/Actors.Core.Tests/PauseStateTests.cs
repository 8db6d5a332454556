using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Protocol;
using Actors.State;
using static Actors.Protocol.QueueEvents;

namespace Actors.Core.Tests;

public class PauseStateTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    [Fact]
    public void A_paused_queue_holds_its_ready_messages_until_it_is_resumed()
    {
        var state = new QueueState("q", new QueueOptions());
        state.Apply(new QueuePaused("ops", "deploy", T0));
        state.Apply(QueueStateTests.Enqueued(1, 2));

        Assert.Equal(new QueuePause(T0, "ops", "deploy"), state.Pause);
        Assert.Equal(2, state.ReadyCount);
        Assert.Null(state.Dispatch(0, T0));

        state.Apply(new QueueResumed("ops", T0.AddMinutes(1)));

        Assert.Null(state.Pause);
        Assert.Equal(1, state.Dispatch(0, T0)!.Id);
        Assert.Equal(2, state.Dispatch(0, T0)!.Id);
    }

    [Fact]
    public void A_delivery_in_flight_finishes_while_paused_and_due_messages_wait()
    {
        var state = new QueueState("q", new QueueOptions());
        state.Apply(QueueStateTests.Enqueued(1));
        var running = state.Dispatch(0, T0)!;
        state.Apply(new QueuePaused(null, null, T0));
        state.Apply(new MessagesEnqueued([new EnqueuedMessage(2, "work", new byte[] { 1 }, ImmutableDictionary<string, string>.Empty, T0, DueAt: T0.AddSeconds(5))]));

        Assert.True(state.TryBeginCompletion(running.Id, running.Attempt, out _));
        state.Apply(new MessagesAcked([new AckedMessage(1, 1, null, T0.AddSeconds(1))]));
        Assert.Equal(1, state.PromoteDue(T0.AddSeconds(5)));

        Assert.Equal(MessageStatus.Succeeded, state.Describe(1)!.Status);
        Assert.Equal(1, state.ReadyCount);
        Assert.Null(state.Dispatch(0, T0.AddSeconds(5)));
    }

    [Fact]
    public void Pausing_a_paused_queue_and_resuming_a_running_one_decide_nothing()
    {
        var state = new QueueState("q", new QueueOptions());
        Assert.Null(state.DecideResume("ops", T0));
        var paused = state.DecidePause("ops", "why", T0)!;
        state.Apply(paused);

        Assert.Null(state.DecidePause("someone else", null, T0.AddSeconds(1)));
        Assert.Equal(new QueueResumed("ops", T0.AddSeconds(2)), state.DecideResume("ops", T0.AddSeconds(2)));
    }

    [Fact]
    public void The_pause_and_finished_trace_parents_survive_a_snapshot()
    {
        var state = new QueueState("q", new QueueOptions());
        var headers = ImmutableDictionary<string, string>.Empty.Add(MessageHeaders.TraceParent, TraceParent).Add("tenant", "t1");
        state.Apply(new MessagesEnqueued([new EnqueuedMessage(1, "work", new byte[] { 1 }, headers, T0)]));
        var message = state.Dispatch(0, T0)!;
        Assert.True(state.TryBeginCompletion(message.Id, message.Attempt, out _));
        state.Apply(new MessagesAcked([new AckedMessage(1, 1, null, T0)]));
        state.Apply(new QueuePaused("ops", "deploy", T0));

        var restored = QueueState.FromSnapshot("q", new QueueOptions(), state.ToSnapshot());

        Assert.Equal(new QueuePause(T0, "ops", "deploy"), restored.Pause);
        var info = restored.Describe(1)!;
        Assert.Equal(MessageStatus.Succeeded, info.Status);
        Assert.Equal(TraceParent, Assert.Single(info.Headers, h => h.Key == MessageHeaders.TraceParent).Value);
        Assert.DoesNotContain("tenant", info.Headers.Keys);
    }

    [Theory]
    [InlineData(TraceParent, TraceParent)]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")]
    [InlineData("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", null)]
    [InlineData("00-00000000000000000000000000000000-b7ad6b7169203331-01", null)]
    [InlineData("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", null)]
    [InlineData("not a trace parent", null)]
    [InlineData(null, null)]
    public void A_finished_message_keeps_a_valid_trace_parent_exactly_and_nothing_else(string? header, string? kept)
    {
        var finished = new FinishedMessage(1, "work", MessageStatus.Succeeded, 1, T0, T0, null, traceParent: header);

        Assert.Equal(kept, finished.TraceParent);
        Assert.Equal(kept is null ? 0 : 1, finished.Headers.Count);
    }
}

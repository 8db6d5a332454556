using System.Collections.Immutable;
using System.Text;
using Actors.Configuration;
using Actors.Protocol;
using Actors.Serialization;
using Actors.State;
using static Actors.Protocol.QueueEvents;

namespace Actors.Core.Tests;

/// <summary>
/// The outbox of follow-ups in the pure queue state: derived from the outcome event and the stored message alone, so a
/// replay rebuilds it; cleared by <see cref="FollowUpsSent"/>; carried by snapshots (format S5, which still reads S4);
/// and the continuation header's own format.
/// </summary>
public sealed class FollowUpStateTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public FollowUpStateTests() : base(DurableQueues.SerializationConfig()) { }

    private static readonly Continuation Chain = new Continuation("b", "render", UseResult: true)
    {
        Then = new Continuation("a", "publish", Encoding.UTF8.GetBytes("{\"to\":\"all\"}")),
    };

    private static MessagesEnqueued Enqueued(long id, string header, Continuation continuation) => new([
        new EnqueuedMessage(id, "work", Encoding.UTF8.GetBytes("p"), ImmutableDictionary<string, string>.Empty.Add(header, continuation.ToHeader()), T0)]);

    private static IQueueEvent[] History() =>
    [
        Enqueued(1, MessageHeaders.Then, Chain),
        Enqueued(2, MessageHeaders.OnFailure, Continuation.WithResult("b", "alert")),
        Enqueued(3, MessageHeaders.Then, new Continuation("b", "render")),
        new MessagesAcked([new AckedMessage(1, 1, Encoding.UTF8.GetBytes("{\"n\":1}"), T0)]),
        new DeadLettered(2, 1, new ErrorInfo("Boom", "it broke", null, null, T0), "Gave up"),
        new MessagesAcked([new AckedMessage(3, 1, null, T0)]),
    ];

    private static QueueState Replay(IEnumerable<IQueueEvent> events)
    {
        var state = new QueueState("a", new QueueOptions());
        foreach (var e in events) state.Apply(e);
        return state;
    }

    [Fact]
    public void An_outcome_owes_the_follow_up_its_header_names_and_a_replay_derives_the_same()
    {
        var state = Replay(History());

        var pending = state.PendingFollowUps.ToList();
        Assert.Equal([(1L, FollowUpKind.Then), (2L, FollowUpKind.OnFailure), (3L, FollowUpKind.Then)], pending.Select(p => (p.Id, p.Kind)));
        Assert.Equal(("b", "render", "{\"n\":1}"), (pending[0].Queue, pending[0].Type, Encoding.UTF8.GetString(pending[0].Payload.Span)));
        // The follow-up carries the next step of the chain as its own continuation.
        Assert.Equal(Chain.Then, Continuation.Parse(pending[0].Headers[MessageHeaders.Then]));
        using (var failure = System.Text.Json.JsonDocument.Parse(pending[1].Payload))
            Assert.Equal(("it broke", 2L), (failure.RootElement.GetProperty("error").GetProperty("message").GetString(), failure.RootElement.GetProperty("messageId").GetInt64()));
        Assert.Equal("null", Encoding.UTF8.GetString(pending[2].Payload.Span));
        Assert.Equal(new FollowUpRef(FollowUpKind.Then, "b", null), state.Describe(1)!.FollowUp);

        var again = Replay(History());
        Assert.Equal(pending.Select(p => (p.Id, p.Kind, p.Queue, p.Type, Encoding.UTF8.GetString(p.Payload.Span))),
            again.PendingFollowUps.Select(p => (p.Id, p.Kind, p.Queue, p.Type, Encoding.UTF8.GetString(p.Payload.Span))));
    }

    [Fact]
    public void FollowUpsSent_clears_the_pending_entry_and_the_status_names_the_follow_up()
    {
        var state = Replay(History());
        state.Apply(new FollowUpsSent([new SentFollowUp(1, FollowUpKind.Then, "b", 77), new SentFollowUp(2, FollowUpKind.OnFailure, "b", 0, "UnknownMessageType: no")]));

        Assert.Equal([3L], state.PendingFollowUps.Select(p => p.Id));
        Assert.Equal(new FollowUpRef(FollowUpKind.Then, "b", 77), state.Describe(1)!.FollowUp);
        Assert.Equal(new FollowUpRef(FollowUpKind.OnFailure, "b", null, "UnknownMessageType: no"), state.Describe(2)!.FollowUp);
        // Applying it again (a replay) changes nothing.
        state.Apply(new FollowUpsSent([new SentFollowUp(1, FollowUpKind.Then, "b", 77)]));
        Assert.Equal(1, state.PendingFollowUpCount);
    }

    [Fact]
    public void A_redriven_message_owes_no_second_on_failure_follow_up_but_its_success_owes_its_then()
    {
        var both = new EnqueuedMessage(1, "work", Encoding.UTF8.GetBytes("p"), ImmutableDictionary<string, string>.Empty
            .Add(MessageHeaders.OnFailure, new Continuation("b", "alert").ToHeader()).Add(MessageHeaders.Then, new Continuation("b", "next").ToHeader()), T0);
        var error = new ErrorInfo("Boom", "it broke", null, null, T0);
        var state = Replay([new MessagesEnqueued([both]), new DeadLettered(1, 1, error, "Gave up"), new FollowUpsSent([new SentFollowUp(1, FollowUpKind.OnFailure, "b", 9)])]);

        state.Apply(new DeadLettersRedrivenEvent([1], T0));
        state.Apply(new DeadLettered(1, 1, error, "Gave up"));
        Assert.Equal(0, state.PendingFollowUpCount);
        Assert.Equal(new FollowUpRef(FollowUpKind.OnFailure, "b", 9), state.Describe(1)!.FollowUp);

        state.Apply(new DeadLettersRedrivenEvent([1], T0));
        state.Apply(new MessagesAcked([new AckedMessage(1, 1, null, T0)]));
        Assert.Equal([(1L, FollowUpKind.Then, "next")], state.PendingFollowUps.Select(p => (p.Id, p.Kind, p.Type)));
    }

    [Fact]
    public void Pending_and_sent_follow_ups_survive_a_snapshot_in_format_S5()
    {
        var state = Replay(History());
        state.Apply(new FollowUpsSent([new SentFollowUp(1, FollowUpKind.Then, "b", 77)]));

        var bytes = BinaryCodec.Write(w => BinaryCodec.WriteSnapshot(w, state.ToSnapshot()));
        var restored = QueueState.FromSnapshot("a", new QueueOptions(), BinaryCodec.Read(bytes, r => BinaryCodec.ReadSnapshot(r, BinaryCodec.SnapshotFormat)));

        Assert.Equal(state.PendingFollowUps.Select(p => (p.Id, p.Kind, p.Queue, p.Type, Encoding.UTF8.GetString(p.Payload.Span), string.Join(",", p.Headers))),
            restored.PendingFollowUps.Select(p => (p.Id, p.Kind, p.Queue, p.Type, Encoding.UTF8.GetString(p.Payload.Span), string.Join(",", p.Headers))));
        Assert.Equal(new FollowUpRef(FollowUpKind.Then, "b", 77), restored.Describe(1)!.FollowUp);
        Assert.Equal(2, restored.PendingFollowUpCount);
    }

    [Fact]
    public void The_serializer_writes_S6_and_still_reads_S5_and_S4()
    {
        var serializer = (QueueMessageSerializer)Sys.Serialization.FindSerializerForType(typeof(IQueueMessage));
        var snapshot = Replay(History()).ToSnapshot();
        Assert.Equal("S6", serializer.Manifest(snapshot));
        var copy = Assert.IsType<QueueSnapshot>(serializer.FromBinary(serializer.ToBinary(snapshot), "S6"));
        Assert.Equal(3, copy.FollowUps.Length);

        // Without finished messages, an S5 blob is an S6 one without the pause flag at its end, and an S4 blob is that
        // without the follow-ups' two counts.
        var unfinished = snapshot with { Succeeded = [] };
        var s5 = Assert.IsType<QueueSnapshot>(serializer.FromBinary(serializer.ToBinary(unfinished)[..^1], "S5"));
        Assert.Equal(3, s5.FollowUps.Length);
        var withoutFollowUps = serializer.ToBinary(unfinished with { FollowUps = [], SentFollowUps = [] });
        var s4 = Assert.IsType<QueueSnapshot>(serializer.FromBinary(withoutFollowUps[..^3], "S4"));
        Assert.Equal(snapshot.Messages.Length, s4.Messages.Length);
        Assert.True(s4.FollowUps.IsDefaultOrEmpty);

        var sent = new FollowUpsSent([new SentFollowUp(1, FollowUpKind.OnFailure, "b", 0, "why")]);
        Assert.Equal("FU1", serializer.Manifest(sent));
        Assert.Equal(sent.FollowUps[0], Assert.IsType<FollowUpsSent>(serializer.FromBinary(serializer.ToBinary(sent), "FU1")).FollowUps[0]);
    }

    [Fact]
    public void A_continuation_header_round_trips_and_a_malformed_one_is_refused_with_a_reason()
    {
        var binary = new Continuation("b", "raw", new byte[] { 0xff, 0x00 });
        Assert.Equal(binary.Payload!.Value.ToArray(), Continuation.Parse(binary.ToHeader()).Payload!.Value.ToArray());
        Assert.Equal(Chain, Continuation.Parse(Chain.ToHeader()));
        Assert.Equal("{\"queue\":\"b\",\"type\":\"render\",\"useResult\":true,\"then\":{\"queue\":\"a\",\"type\":\"publish\",\"payload\":{\"to\":\"all\"}}}", Chain.ToHeader());

        foreach (var bad in new[] { "", "[]", "{\"type\":\"t\"}", "{\"queue\":\"b\"}", "{\"queue\":\"b c\",\"type\":\"t\"}", "{\"queue\":\"b\",\"type\":\"t\",\"useResult\":true,\"payload\":1}", "{\"queue\":\"b\",\"type\":\"t\",\"then\":3}" })
        {
            Assert.False(Continuation.TryParse(bad, out _, out var error), bad);
            Assert.NotEmpty(error);
        }
    }
}

using System.Collections.Concurrent;
using System.Text;
using Actors.Client;
using Actors.Handlers;
using Actors.Protocol;
using Xunit.Abstractions;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueQueries;

namespace Actors.Core.Tests;

/// <summary>
/// Continuations through real queues over SQLite: a success enqueues its <c>then</c> follow-up, a dead letter its
/// <c>onFailure</c> one, each once, with the idempotency key <c>{queue}:{id}:then|onFailure</c>, and the message's status
/// names it; a bad continuation is refused with nothing stored; a result past <c>MaxResultBytes</c> dead-letters.
/// </summary>
public sealed class FollowUpSpec : QueueSpec
{
    private readonly ConcurrentDictionary<string, int> _runs = new();

    public FollowUpSpec(ITestOutputHelper output) : base(output) { }

    private void StartTwoQueues(Action<Configuration.QueueOptions>? first = null)
    {
        Start(o =>
        {
            o.AddQueue("a", q => { q.Retry.MaxAttempts = 1; first?.Invoke(q); });
            o.AddQueue("b", q => q.Retry.MaxAttempts = 1);
            o.Handlers.Add<ReadOnlyMemory<byte>>("produce", (payload, ctx, _) =>
            {
                _runs.AddOrUpdate($"produce:{ctx.MessageId}", 1, (_, n) => n + 1);
                return ValueTask.FromResult<object?>(new { doubled = int.Parse(Encoding.UTF8.GetString(payload.Span), System.Globalization.CultureInfo.InvariantCulture) * 2 });
            });
            o.Handlers.Add<ReadOnlyMemory<byte>>("consume", (payload, _, _) => ValueTask.FromResult<object?>(Encoding.UTF8.GetString(payload.Span)));
            o.Handlers.Add<ReadOnlyMemory<byte>>("fail", (_, _, _) => throw new DeadLetterException("cannot"));
            o.Handlers.Add<ReadOnlyMemory<byte>>("huge", (_, _, _) => ValueTask.FromResult<object?>(new string('x', 2000)));
        });
    }

    private async Task<MessageInfo> Final(string queue, long id)
    {
        var info = await Client.WaitAsync(queue, id, TimeSpan.FromSeconds(30));
        Assert.NotNull(info);
        Assert.True(OutcomeWaits.IsFinal(info.Status), $"message {id} of {queue} is {info.Status}");
        return info;
    }

    /// <summary>The payload the <c>consume</c> handler echoed as its result.</summary>
    private static string Echoed(MessageInfo info)
    {
        using var result = System.Text.Json.JsonDocument.Parse(info.Result!.Value);
        return result.RootElement.GetString()!;
    }

    /// <summary>Waits until the message's status names its follow-up's id there.</summary>
    private async Task<FollowUpRef> FollowUpOf(string queue, long id)
    {
        FollowUpRef? followUp = null;
        await TestQueues.Until(async () => (followUp = (await Client.GetMessageAsync(queue, id))?.FollowUp) is { Id: not null } or { Error: not null },
            $"the follow-up of message {id} to be stored");
        return followUp!;
    }

    [Fact]
    public async Task A_success_enqueues_its_then_follow_up_once_with_the_result_and_the_status_names_it()
    {
        StartTwoQueues();
        var message = new NewMessage("produce", Bytes("21")).Then(Continuation.WithResult("b", "consume"));
        var (id, _) = await Client.EnqueueAsync("a", message);

        Assert.Equal(MessageStatus.Succeeded, (await Final("a", id)).Status);
        var followUp = await FollowUpOf("a", id);
        Assert.Equal((FollowUpKind.Then, "b", (string?)null), (followUp.Kind, followUp.Queue, followUp.Error));
        var next = await Final("b", followUp.Id!.Value);
        Assert.Equal(MessageStatus.Succeeded, next.Status);
        Assert.Equal("{\"doubled\":42}", Echoed(next));
        var stats = await Client.GetStatsAsync("b");
        Assert.Equal(1, stats.TotalEnqueued);
    }

    [Fact]
    public async Task A_dead_letter_enqueues_its_on_failure_follow_up_with_the_failure_or_a_fixed_payload()
    {
        StartTwoQueues();
        var withFailure = new NewMessage("fail", Bytes("1")).OnFailure(Continuation.WithResult("b", "consume")).Then(new Continuation("b", "consume", Bytes("\"never\"")));
        var withFixed = new NewMessage("fail", Bytes("2")).OnFailure(new Continuation("b", "consume", Bytes("{\"alert\":true}")));
        var (first, _) = await Client.EnqueueAsync("a", withFailure);
        var (second, _) = await Client.EnqueueAsync("a", withFixed);

        Assert.Equal(MessageStatus.DeadLettered, (await Final("a", first)).Status);
        var failureFollowUp = await FollowUpOf("a", first);
        Assert.Equal(FollowUpKind.OnFailure, failureFollowUp.Kind);
        using (var doc = System.Text.Json.JsonDocument.Parse(Echoed(await Final("b", failureFollowUp.Id!.Value))))
        {
            Assert.Equal("a", doc.RootElement.GetProperty("queue").GetString());
            Assert.Equal(first, doc.RootElement.GetProperty("messageId").GetInt64());
            Assert.Equal("cannot", doc.RootElement.GetProperty("error").GetProperty("message").GetString());
        }
        var fixedFollowUp = await FollowUpOf("a", second);
        Assert.Equal("{\"alert\":true}", Echoed(await Final("b", fixedFollowUp.Id!.Value)));
        // The then of a dead letter never went: b holds exactly the two onFailure follow-ups.
        Assert.Equal(2, (await Client.GetStatsAsync("b")).TotalEnqueued);
    }

    [Fact]
    public async Task A_follow_up_sent_again_is_absorbed_by_the_target_de_duplication()
    {
        StartTwoQueues();
        var (id, _) = await Client.EnqueueAsync("a", new NewMessage("produce", Bytes("5")).Then(new Continuation("b", "consume", Bytes("\"fixed\""))));
        // The same request the queue makes, sent first (as a follow-up re-sent after a crash would be).
        var (early, _) = await Client.EnqueueAsync("b", new NewMessage("consume", Bytes("\"fixed\""), IdempotencyKey: Continuation.IdempotencyKey("a", id, FollowUpKind.Then)));

        await Final("a", id);
        var followUp = await FollowUpOf("a", id);
        Assert.Equal(early, followUp.Id);
        Assert.Equal(1, (await Client.GetStatsAsync("b")).TotalEnqueued);
    }

    [Fact]
    public async Task A_bad_continuation_is_refused_and_nothing_is_stored()
    {
        StartTwoQueues();
        var unknown = await Assert.ThrowsAsync<QueueException>(() => Client.EnqueueAsync("a", new NewMessage("produce", Bytes("1")).Then(new Continuation("nowhere", "consume"))));
        Assert.Equal(RejectionCode.UnknownQueue, unknown.Code);
        Assert.Contains("nowhere", unknown.Message, StringComparison.Ordinal);
        var nested = new Continuation("b", "consume") { Then = new Continuation("missing", "x") };
        var unknownNested = await Assert.ThrowsAsync<QueueException>(() => Client.EnqueueAsync("a", new NewMessage("produce", Bytes("1")).OnFailure(nested)));
        Assert.Equal(RejectionCode.UnknownQueue, unknownNested.Code);
        var malformed = await Assert.ThrowsAsync<QueueException>(() => Client.EnqueueAsync("a", new NewMessage("produce", Bytes("1"),
            System.Collections.Immutable.ImmutableDictionary<string, string>.Empty.Add(MessageHeaders.Then, "{\"queue\":\"b\"}"))));
        Assert.Equal(RejectionCode.InvalidHeaders, malformed.Code);
        var batch = await Client.EnqueueBatchAsync("a", [new NewMessage("produce", Bytes("1")).Then(new Continuation("nowhere", "x")), new NewMessage("produce", Bytes("2"))]);
        Assert.Equal(RejectionCode.UnknownQueue, batch[0].Code);
        Assert.True(batch[1].IsAccepted);

        Assert.Equal(1, (await Client.GetStatsAsync("a")).TotalEnqueued);
    }

    [Fact]
    public async Task A_result_past_MaxResultBytes_dead_letters_at_once_and_its_on_failure_follows()
    {
        StartTwoQueues(q => { q.MaxResultBytes = 1000; q.Retry.MaxAttempts = 5; });
        var (id, _) = await Client.EnqueueAsync("a", new NewMessage("huge", Bytes("1")).OnFailure(Continuation.WithResult("b", "consume")));

        var info = await Final("a", id);
        Assert.Equal((MessageStatus.DeadLettered, 1), (info.Status, info.Attempts));
        var error = Assert.Single(info.Errors);
        Assert.Equal("ResultTooLarge", error.Type);
        Assert.Matches("result of \\d+ bytes exceeds MaxResultBytes 1000", error.Message);
        Assert.NotNull((await FollowUpOf("a", id)).Id);
    }
}

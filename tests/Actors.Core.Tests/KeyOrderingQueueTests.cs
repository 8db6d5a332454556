using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text;
using Actors.Client;
using Actors.Configuration;
using Actors.Protocol;
using static Actors.Protocol.QueueCommands;

namespace Actors.Core.Tests;

/// <summary>Per-key ordering and parked keys through real queues and workers over SQLite.</summary>
public sealed class KeyOrderingQueueTests : DataDirectoryTest
{
    private static NewMessage Keyed(string key, int n) => new NewMessage("step", Encoding.UTF8.GetBytes($"{{\"n\":{n}}}")).WithKey(key);

    /// <summary>Records every handler start per key and flags one that begins while another of its key runs.</summary>
    private sealed class KeyHistory
    {
        private readonly ConcurrentDictionary<string, int> _running = new();
        public readonly ConcurrentDictionary<string, ConcurrentQueue<long>> Starts = new();
        public readonly ConcurrentQueue<string> Overlaps = new();
        public readonly ConcurrentDictionary<long, int> Successes = new();

        public void Begin(string key, long id)
        {
            if (_running.AddOrUpdate(key, 1, (_, n) => n + 1) > 1) Overlaps.Enqueue($"{key}: {id} started while another message of the key ran");
            Starts.GetOrAdd(key, _ => new ConcurrentQueue<long>()).Enqueue(id);
        }

        public void End(string key) => _running.AddOrUpdate(key, 0, (_, n) => n - 1);
    }

    [Fact]
    public async Task Each_keys_messages_start_one_at_a_time_in_enqueue_order_across_failures_and_a_restart()
    {
        var history = new KeyHistory();
        var failures = 0;
        DurableQueuesOptions Node() => Options(o =>
        {
            o.AddQueue("sync", q =>
            {
                q.Workers = 6;
                q.Prefetch = 2;
                q.Retry.MaxAttempts = 20;
                q.Retry.BaseDelay = TimeSpan.FromMilliseconds(5);
                q.Retry.MaxDelay = TimeSpan.FromMilliseconds(20);
            });
            o.Handlers.Add<ReadOnlyMemory<byte>>("step", async (_, ctx, ct) =>
            {
                var key = ctx.Headers[MessageHeaders.Key];
                history.Begin(key, ctx.MessageId);
                try
                {
                    await Task.Yield();
                    // Every fifth message fails its first attempt: the retry must still come before the key's next one.
                    if (ctx.MessageId % 5 == 0 && ctx.Attempt == 1)
                    {
                        Interlocked.Increment(ref failures);
                        throw new InvalidOperationException("transient");
                    }
                    history.Successes.AddOrUpdate(ctx.MessageId, 1, (_, n) => n + 1);
                    return null;
                }
                finally
                {
                    history.End(key);
                }
            });
        });

        var keys = Enumerable.Range(0, 8).Select(k => $"record-{k}").ToArray();
        var expected = keys.ToDictionary(k => k, _ => new List<long>());
        var (first, queues) = TestQueues.StartNode(Node(), "first");
        for (var round = 0; round < 10; round++)
        {
            var batch = keys.Select(k => Keyed(k, round)).ToList();
            var outcomes = await queues.Client.EnqueueBatchAsync("sync", batch);
            for (var i = 0; i < keys.Length; i++) expected[keys[i]].Add(outcomes[i].MessageId!.Value);
        }
        await TestQueues.Until(() => Task.FromResult(history.Successes.Count >= 20), "some messages to finish before the restart");
        await first.Terminate();

        var (second, queues2) = TestQueues.StartNode(Node(), "second");
        try
        {
            for (var round = 10; round < 15; round++)
                foreach (var key in keys) expected[key].Add((await queues2.Client.EnqueueAsync("sync", Keyed(key, round))).MessageId);
            await TestQueues.Until(async () => (await queues2.Client.GetStatsAsync("sync")) is { Depth: 0, InFlight: 0, Scheduled: 0 }, "every message to finish");

            Assert.Empty(history.Overlaps);
            Assert.True(failures > 0);
            foreach (var key in keys)
            {
                // Starts of a key never go back to an earlier message: retries and redeliveries after the restart come
                // before the next message, never after it.
                var starts = history.Starts[key].ToList();
                Assert.Equal(starts.Order().ToList(), starts);
                Assert.Equal(expected[key], starts.Distinct().ToList());
            }
            Assert.Equal(expected.Values.Sum(v => v.Count), history.Successes.Count);
            var stats = await queues2.Client.GetStatsAsync("sync");
            Assert.Null(stats.Keys);
        }
        finally
        {
            await second.Terminate();
        }
    }

    [Fact]
    public async Task A_parked_key_waits_for_an_operator_while_other_keys_flow_and_release_skip_and_purge_answer_it()
    {
        // The first message of a key in this set fails.
        var failing = new ConcurrentDictionary<string, bool>();
        var ran = new ConcurrentQueue<long>();
        var options = Options(o =>
        {
            o.AddQueue("sync", q => q.Retry.MaxAttempts = 1);
            o.Handlers.Add<ReadOnlyMemory<byte>>("step", (payload, ctx, _) =>
            {
                if (failing.ContainsKey(ctx.Headers[MessageHeaders.Key]) && Encoding.UTF8.GetString(payload.Span) == "{\"n\":1}")
                    throw new InvalidOperationException("bad record");
                ran.Enqueue(ctx.MessageId);
                return ValueTask.FromResult<object?>(null);
            });
        });
        var (system, queues) = TestQueues.StartNode(options);
        try
        {
            var client = queues.Client;
            Assert.Equal(KeyChangeOutcome.NotParked, (await client.ChangeKeyAsync("sync", "a", KeyOperation.Release)).Outcome);

            // Key a: its first message fails for good and parks the key; its second waits; key b flows.
            failing["a"] = true;
            var a1 = (await client.EnqueueAsync("sync", Keyed("a", 1))).MessageId;
            var a2 = (await client.EnqueueAsync("sync", Keyed("a", 2))).MessageId;
            var b1 = (await client.EnqueueAsync("sync", Keyed("b", 1))).MessageId;
            await TestQueues.Until(async () => (await client.GetMessageAsync("sync", a1))?.Status == MessageStatus.Parked, "key a to park");
            await TestQueues.Until(async () => (await client.GetMessageAsync("sync", b1))?.Status == MessageStatus.Succeeded, "key b to flow");
            Assert.Equal(MessageStatus.Queued, (await client.GetMessageAsync("sync", a2))!.Status);
            var parkedStats = await client.GetStatsAsync("sync");
            Assert.Equal(1, parkedStats.Keys!.ParkedKeys);
            Assert.Equal(1, parkedStats.DeadLettered);

            // Release: the parked message runs again (now it succeeds), then the rest of its key.
            failing.TryRemove("a", out _);
            var released = await client.ChangeKeyAsync("sync", "a", KeyOperation.Release);
            Assert.Equal(KeyChangeOutcome.Done, released.Outcome);
            Assert.Equal([a1], released.MessageIds.ToList());
            await TestQueues.Until(async () => (await client.GetMessageAsync("sync", a2))?.Status == MessageStatus.Succeeded, "key a to go on after its release");
            Assert.True(ran.ToList().IndexOf(a1) < ran.ToList().IndexOf(a2));

            // Skip: the parked message stays a dead letter; the key goes on.
            failing["c"] = true;
            var c1 = (await client.EnqueueAsync("sync", Keyed("c", 1))).MessageId;
            var c2 = (await client.EnqueueAsync("sync", Keyed("c", 2))).MessageId;
            await TestQueues.Until(async () => (await client.GetMessageAsync("sync", c1))?.Status == MessageStatus.Parked, "key c to park");
            Assert.Equal(KeyChangeOutcome.Done, (await client.ChangeKeyAsync("sync", "c", KeyOperation.Skip)).Outcome);
            await TestQueues.Until(async () => (await client.GetMessageAsync("sync", c2))?.Status == MessageStatus.Succeeded, "key c to go on after the skip");
            Assert.Equal(MessageStatus.DeadLettered, (await client.GetMessageAsync("sync", c1))!.Status);

            // Purge: the parked message is deleted and what waits behind it is cancelled, never run.
            failing["d"] = true;
            var d1 = (await client.EnqueueAsync("sync", Keyed("d", 1))).MessageId;
            var d2 = (await client.EnqueueAsync("sync", Keyed("d", 2))).MessageId;
            await TestQueues.Until(async () => (await client.GetMessageAsync("sync", d1))?.Status == MessageStatus.Parked, "key d to park");
            var purged = await client.ChangeKeyAsync("sync", "d", KeyOperation.Purge);
            Assert.Equal([d1, d2], purged.MessageIds.ToList());
            Assert.Null(await client.GetMessageAsync("sync", d1));
            Assert.Equal(MessageStatus.Cancelled, (await client.GetMessageAsync("sync", d2))!.Status);
            Assert.DoesNotContain(d2, ran);

            var after = await client.GetStatsAsync("sync");
            Assert.Null(after.Keys);
            Assert.Equal(1, after.DeadLettered);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task A_key_longer_than_255_characters_or_a_priority_outside_0_to_9_is_refused_and_nothing_is_stored()
    {
        var options = Options(o =>
        {
            o.AddQueue("sync");
            o.Handlers.Add<ReadOnlyMemory<byte>>("step", (_, _, _) => ValueTask.FromResult<object?>(null));
        });
        var (system, queues) = TestQueues.StartNode(options);
        try
        {
            var tooLong = new NewMessage("step", Encoding.UTF8.GetBytes("{}"), ImmutableDictionary<string, string>.Empty.Add(MessageHeaders.Key, new string('k', 256)));
            var badPriority = new NewMessage("step", Encoding.UTF8.GetBytes("{}"), ImmutableDictionary<string, string>.Empty.Add(MessageHeaders.Priority, "10"));
            var outcomes = await queues.Client.EnqueueBatchAsync("sync", [tooLong, badPriority, Keyed("ok", 1)]);
            Assert.Equal([RejectionCode.InvalidHeaders, RejectionCode.InvalidHeaders, null], outcomes.Select(o => o.Code).ToList());
            Assert.Contains("1–255 characters", outcomes[0].Reason, StringComparison.Ordinal);
            Assert.Contains("0–9", outcomes[1].Reason, StringComparison.Ordinal);
            Assert.Throws<ArgumentOutOfRangeException>(() => Keyed("k", 1).WithPriority(10));
            await TestQueues.Until(async () => (await queues.Client.GetStatsAsync("sync")).TotalSucceeded == 1, "the valid message to run");
            Assert.Equal(1, (await queues.Client.GetStatsAsync("sync")).TotalEnqueued);
        }
        finally
        {
            await system.Terminate();
        }
    }
}

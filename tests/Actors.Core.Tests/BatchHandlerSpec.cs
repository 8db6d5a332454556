using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Actors.Core.Tests.Readme;
using Actors.Handlers;
using Actors.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueQueries;

namespace Actors.Core.Tests;

/// <summary>
/// Batch handlers end to end over a real SQLite file: batches of up to BatchSize in the order the worker received
/// them, an outcome per message (retried or dead-lettered one by one), a crash mid-batch that loses nothing, and
/// ordering keys never sharing a batch.
/// </summary>
public sealed class BatchHandlerSpec : QueueSpec
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    public BatchHandlerSpec(ITestOutputHelper output) : base(output) { }

    private sealed record Line(string Text);

    private static byte[] Json(string text) => JsonSerializer.SerializeToUtf8Bytes(new Line(text), HandlerRegistry.JsonOptions);

    private async Task<long[]> EnqueueLines(string queue, string type, IEnumerable<string> lines, Func<string, ImmutableDictionary<string, string>?>? headers = null)
    {
        var outcomes = await Client.EnqueueBatchAsync(queue, lines.Select(line => new NewMessage(type, Json(line), headers?.Invoke(line))).ToList());
        return outcomes.Select(o => o.MessageId!.Value).ToArray();
    }

    private async Task<MessageInfo> AwaitStatus(string queue, long id, MessageStatus status)
    {
        MessageInfo? info = null;
        await AwaitAssertAsync(async () =>
        {
            info = await Client.GetMessageAsync(queue, id);
            Assert.Equal(status, info?.Status);
        }, Wait, TimeSpan.FromMilliseconds(50));
        return info!;
    }

    [Fact]
    public async Task Worker_must_hand_a_batch_handler_up_to_BatchSize_messages_in_the_order_it_received_them()
    {
        var batches = new ConcurrentQueue<long[]>();
        Start(o =>
        {
            // Prefetch 1: the queue still lets its worker hold a whole batch.
            o.AddQueue("logs", q => { q.Workers = 1; q.Prefetch = 1; });
            o.Handlers.AddBatch<Line>("log", (batch, _) =>
            {
                batches.Enqueue(batch.Select(item => item.Context.MessageId).ToArray());
                foreach (var item in batch) item.Succeed(new { upper = item.Payload.Text.ToUpperInvariant() });
                return ValueTask.CompletedTask;
            }, new BatchOptions { BatchSize = 5, BatchWait = TimeSpan.FromSeconds(2) });
        });

        var ids = await EnqueueLines("logs", "log", Enumerable.Range(0, 12).Select(i => $"line {i}"));
        for (var i = 0; i < ids.Length; i++)
        {
            var info = await AwaitStatus("logs", ids[i], MessageStatus.Succeeded);
            Assert.Equal($"{{\"upper\":\"LINE {i}\"}}", Encoding.UTF8.GetString(info.Result!.Value.Span));
            Assert.Equal(1, info.Attempts);
        }

        // The first five were dispatched together and filled a batch at once; none was larger; none ran twice.
        var seen = batches.ToArray();
        Assert.Equal(ids.Take(5), seen[0]);
        Assert.All(seen, batch => Assert.InRange(batch.Length, 1, 5));
        Assert.Equal(ids, seen.SelectMany(batch => batch));
    }

    [Fact]
    public async Task Worker_must_retry_or_dead_letter_the_failed_messages_of_a_batch_one_by_one_and_complete_the_others()
    {
        var attempts = new ConcurrentDictionary<long, ConcurrentQueue<int>>();
        Start(o =>
        {
            o.AddQueue("partial", q => { q.Workers = 1; q.Retry.MaxAttempts = 2; q.Retry.BaseDelay = TimeSpan.FromMilliseconds(50); q.Retry.MaxDelay = TimeSpan.FromMilliseconds(100); });
            o.Handlers.AddBatch<Line>("log", (batch, _) =>
            {
                foreach (var item in batch)
                {
                    attempts.GetOrAdd(item.Context.MessageId, _ => new()).Enqueue(item.Context.Attempt);
                    var first = item.Context.Attempt == 1;
                    switch (item.Payload.Text)
                    {
                        case "flaky" when first: item.Fail(new InvalidOperationException("flaky the first time")); break;
                        case "poison": item.Fail(new DeadLetterException("cannot be parsed")); break;
                        case "forgotten": break;
                        default: item.Succeed(item.Payload.Text); break;
                    }
                }
                return ValueTask.CompletedTask;
            }, new BatchOptions { BatchSize = 10, BatchWait = TimeSpan.FromSeconds(1) });
        });

        var ids = await EnqueueLines("partial", "log", ["ok-1", "flaky", "poison", "ok-2", "forgotten"]);
        var unreadable = await Client.EnqueueAsync("partial", "log", Encoding.UTF8.GetBytes("{not json"));

        foreach (var ok in new[] { ids[0], ids[3] })
        {
            var info = await AwaitStatus("partial", ok, MessageStatus.Succeeded);
            Assert.Equal(1, info.Attempts);
            Assert.Empty(info.Errors);
        }
        var flaky = await AwaitStatus("partial", ids[1], MessageStatus.Succeeded);
        Assert.Equal(2, flaky.Attempts);
        var poison = await AwaitStatus("partial", ids[2], MessageStatus.DeadLettered);
        Assert.Equal(1, poison.Attempts);
        Assert.Equal(typeof(DeadLetterException).FullName, Assert.Single(poison.Errors).Type);
        var forgotten = await AwaitStatus("partial", ids[4], MessageStatus.DeadLettered);
        Assert.Equal(2, forgotten.Attempts);
        Assert.All(forgotten.Errors, error => Assert.Equal(typeof(BatchOutcomeMissingException).FullName, error.Type));
        Assert.Equal(2, forgotten.Errors.Count);
        Assert.Contains($"message {ids[4]}", forgotten.Errors[0].Message, StringComparison.Ordinal);
        var bad = await AwaitStatus("partial", unreadable, MessageStatus.DeadLettered);
        Assert.Equal(typeof(PayloadFormatException).FullName, Assert.Single(bad.Errors).Type);

        // Each message ran with its own attempt numbers; the ones that succeeded ran once; the unreadable one never reached the handler.
        Assert.Equal([1], attempts[ids[0]]);
        Assert.Equal([1], attempts[ids[3]]);
        Assert.Equal([1, 2], attempts[ids[1]]);
        Assert.Equal([1, 2], attempts[ids[4]]);
        Assert.False(attempts.ContainsKey(unreadable));
    }

    [Fact]
    public async Task Worker_must_fail_every_message_of_a_batch_whose_handler_throws()
    {
        Start(o =>
        {
            o.AddQueue("throws", q => { q.Workers = 1; q.Retry.MaxAttempts = 2; q.Retry.BaseDelay = TimeSpan.FromMilliseconds(50); q.Retry.MaxDelay = TimeSpan.FromMilliseconds(100); });
            o.Handlers.AddBatch<Line>("log", (batch, _) =>
            {
                // Outcomes reported before the throw do not count: the exception fails every message.
                batch[0].Succeed();
                throw new TimeoutException("the log store did not answer");
            }, new BatchOptions { BatchSize = 3, BatchWait = TimeSpan.FromSeconds(1) });
        });

        var ids = await EnqueueLines("throws", "log", ["a", "b", "c"]);
        foreach (var id in ids)
        {
            var info = await AwaitStatus("throws", id, MessageStatus.DeadLettered);
            Assert.Equal(2, info.Attempts);
            Assert.All(info.Errors, error => Assert.Equal(("System.TimeoutException", "the log store did not answer"), (error.Type, error.Message)));
            Assert.Equal(2, info.Errors.Count);
        }
    }

    [Fact]
    public async Task Worker_must_hand_back_every_message_of_a_batch_when_it_crashes_mid_batch()
    {
        var started = new ConcurrentQueue<(long Id, int Attempt)>();
        var batchStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Start(o =>
        {
            // A retry backoff of minutes: only the crash's hand-back can bring the messages back within the test.
            o.AddQueue("crash", q => { q.Workers = 1; q.Retry.BaseDelay = TimeSpan.FromMinutes(5); q.Retry.MaxDelay = TimeSpan.FromMinutes(5); });
            o.Handlers.AddBatch<Line>("log", async (batch, ct) =>
            {
                foreach (var item in batch) started.Enqueue((item.Context.MessageId, item.Context.Attempt));
                if (batch[0].Context.Attempt == 1)
                {
                    batchStarted.TrySetResult();
                    await Task.Delay(Timeout.Infinite, ct);
                }
                batch.SucceedRemaining();
            }, new BatchOptions { BatchSize = 4, BatchWait = TimeSpan.FromSeconds(10) });
        });

        var ids = await EnqueueLines("crash", "log", ["a", "b", "c", "d"]);
        await batchStarted.Task.WaitAsync(Wait);
        Sys.ActorSelection("/user/queues/crash/queue/workers/*").Tell(Akka.Actor.Kill.Instance);

        foreach (var id in ids)
        {
            var info = await AwaitStatus("crash", id, MessageStatus.Succeeded);
            Assert.Equal(2, info.Attempts);
        }
        // The crashed batch ran each message once; each came back once, in whatever order the queue redelivered them.
        var runs = started.ToArray();
        Assert.Equal(ids.Select(id => (id, 1)), runs.Take(4));
        Assert.Equal(ids.Select(id => (id, 2)).Order(), runs.Skip(4).Order());
        var stats = await Client.GetStatsAsync("crash");
        Assert.Equal((4L, 4L, 0L), (stats.TotalEnqueued, stats.TotalSucceeded, stats.InFlight));
    }

    [Fact]
    public async Task Worker_must_never_put_two_messages_with_the_same_ordering_key_in_one_batch()
    {
        var batches = new ConcurrentQueue<(string Key, string Text)[]>();
        Start(o =>
        {
            o.AddQueue("keyed", q => { q.Workers = 1; q.Prefetch = 10; });
            o.Handlers.AddBatch<Line>("log", (batch, _) =>
            {
                batches.Enqueue(batch.Select(item => (item.Context.Headers[MessageHeaders.Key], item.Payload.Text)).ToArray());
                batch.SucceedRemaining();
                return ValueTask.CompletedTask;
            }, new BatchOptions { BatchSize = 10, BatchWait = TimeSpan.FromMilliseconds(300) });
        });

        string[] lines = ["a-1", "b-1", "a-2", "c-1", "b-2", "a-3"];
        var ids = await EnqueueLines("keyed", "log", lines, line => ImmutableDictionary<string, string>.Empty.Add(MessageHeaders.Key, line[..1]));
        foreach (var id in ids) await AwaitStatus("keyed", id, MessageStatus.Succeeded);

        var seen = batches.ToArray();
        Assert.All(seen, batch => Assert.Equal(batch.Length, batch.Select(item => item.Key).Distinct().Count()));
        // Within each key, the messages ran in the order they were enqueued.
        foreach (var key in new[] { "a", "b", "c" })
            Assert.Equal(lines.Where(line => line.StartsWith(key, StringComparison.Ordinal)), seen.SelectMany(batch => batch).Where(item => item.Key == key).Select(item => item.Text));
        Assert.Equal(lines.Length, seen.Sum(batch => batch.Length));
    }

    [Fact]
    public async Task Worker_must_fire_the_batch_token_when_a_lease_runs_out_and_fence_the_late_outcomes()
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Start(o =>
        {
            o.AddQueue("lease", q => { q.Workers = 1; q.Lease = TimeSpan.FromSeconds(1); q.Retry.BaseDelay = TimeSpan.FromMilliseconds(50); q.Retry.MaxDelay = TimeSpan.FromMilliseconds(100); });
            o.Handlers.AddBatch<Line>("log", async (batch, ct) =>
            {
                if (batch.Any(item => item.Context.Attempt == 1))
                {
                    await using (ct.Register(() => cancelled.TrySetResult())) await cancelled.Task;
                    batch.SucceedRemaining("stale");
                    return;
                }
                batch.SucceedRemaining("fresh");
            }, new BatchOptions { BatchSize = 3, BatchWait = TimeSpan.FromMilliseconds(300) }); // well within the lease
        });

        var ids = await EnqueueLines("lease", "log", ["a", "b", "c"]);
        await cancelled.Task.WaitAsync(Wait);
        foreach (var id in ids)
        {
            var info = await AwaitStatus("lease", id, MessageStatus.Succeeded);
            Assert.Equal("\"fresh\"", Encoding.UTF8.GetString(info.Result!.Value.Span));
            Assert.True(info.Attempts >= 2);
        }
    }

    [Fact]
    public async Task Worker_must_drop_the_outcome_of_a_message_cancelled_while_its_batch_runs_and_complete_the_others()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tokenFired = false;
        Start(o =>
        {
            o.AddQueue("cancel", q => q.Workers = 1);
            o.Handlers.AddBatch<Line>("log", async (batch, ct) =>
            {
                started.TrySetResult();
                await release.Task;
                tokenFired = ct.IsCancellationRequested;
                batch.SucceedRemaining("done");
            }, new BatchOptions { BatchSize = 3, BatchWait = TimeSpan.FromSeconds(5) });
        });

        var ids = await EnqueueLines("cancel", "log", ["a", "b", "c"]);
        await started.Task.WaitAsync(Wait);
        Assert.Equal(CancelOutcome.Cancelled, (await Client.CancelAsync("cancel", ids[1])).Outcome);
        release.SetResult();

        foreach (var id in new[] { ids[0], ids[2] }) Assert.Equal(1, (await AwaitStatus("cancel", id, MessageStatus.Succeeded)).Attempts);
        Assert.Equal(MessageStatus.Cancelled, (await Client.GetMessageAsync("cancel", ids[1]))!.Status);
        Assert.False(tokenFired);
    }

    /// <summary>An in-memory log store that refuses each line saying "refuse" the first time it sees it.</summary>
    private sealed class RefusingStore : ILogStore
    {
        private readonly HashSet<string> _refused = new(StringComparer.Ordinal);

        public ConcurrentQueue<string> Stored { get; } = new();

        public Task<IReadOnlyList<int>> AppendAsync(IReadOnlyList<LogLine> lines, CancellationToken cancellationToken)
        {
            var refused = new List<int>();
            for (var i = 0; i < lines.Count; i++)
            {
                lock (_refused)
                {
                    if (lines[i].Text.StartsWith("refuse", StringComparison.Ordinal) && _refused.Add(lines[i].Text))
                    {
                        refused.Add(i);
                        continue;
                    }
                }
                Stored.Enqueue(lines[i].Text);
            }
            return Task.FromResult<IReadOnlyList<int>>(refused);
        }
    }

    [Fact]
    public async Task The_README_batch_handler_retries_only_the_lines_the_store_refused()
    {
        var store = new RefusingStore();
        var services = new ServiceCollection().AddSingleton<ILogStore>(store).BuildServiceProvider();
        Start(o =>
        {
            o.AddQueue("logs", q => { q.Workers = 1; q.Retry.BaseDelay = TimeSpan.FromMilliseconds(50); q.Retry.MaxDelay = TimeSpan.FromMilliseconds(100); });
            o.Handlers.AddBatch<LogLine, LogBatchHandler>("log_line", new BatchOptions { BatchSize = 100, BatchWait = TimeSpan.FromMilliseconds(200) });
        }, services);

        string[] texts = ["started", "refuse me", "ready"];
        var outcomes = await Client.EnqueueBatchAsync("logs", texts.Select(text =>
            new NewMessage("log_line", JsonSerializer.SerializeToUtf8Bytes(new LogLine("api", text), HandlerRegistry.JsonOptions))).ToList());
        var ids = outcomes.Select(o => o.MessageId!.Value).ToArray();

        var attempts = new List<int>();
        foreach (var id in ids) attempts.Add((await AwaitStatus("logs", id, MessageStatus.Succeeded)).Attempts);
        Assert.Equal([1, 2, 1], attempts);
        Assert.Equal(texts.Order(), store.Stored.Order());
    }

    [Fact]
    public async Task With_no_handler_threads_batches_run_inline_and_every_outcome_is_reported()
    {
        var options = TestQueues.NewOptions();
        options.HandlerThreads = 0;
        options.AddQueue("inline", q => { q.Workers = 1; q.Retry.MaxAttempts = 1; });
        var batching = new BatchOptions { BatchSize = 2, BatchWait = TimeSpan.FromSeconds(5) };
        options.Handlers.AddBatch<Line>("sync", (batch, _) =>
        {
            foreach (var item in batch) item.Succeed(item.Payload.Text);
            return ValueTask.CompletedTask;
        }, batching);
        options.Handlers.AddBatch<Line>("async", async (batch, ct) =>
        {
            await Task.Delay(5, ct);
            batch.SucceedRemaining("later");
        }, batching);
        options.Handlers.AddBatch<Line>("throws", (_, _) => throw new InvalidOperationException("thrown before any await"), batching);
        var (system, queues) = TestQueues.StartNode(options);
        try
        {
            var ids = new Dictionary<string, long[]>();
            foreach (var type in new[] { "sync", "async", "throws" })
            {
                var outcomes = await queues.Client.EnqueueBatchAsync("inline", [new NewMessage(type, Json("x")), new NewMessage(type, Json("y"))]);
                ids[type] = outcomes.Select(o => o.MessageId!.Value).ToArray();
            }
            await TestQueues.Until(async () => (await queues.Client.GetStatsAsync("inline")) is { TotalSucceeded: 4, TotalDeadLettered: 2 }, "every outcome reported");
            Assert.Equal("\"y\"", Encoding.UTF8.GetString((await queues.Client.GetMessageAsync("inline", ids["sync"][1]))!.Result!.Value.Span));
            Assert.Equal("\"later\"", Encoding.UTF8.GetString((await queues.Client.GetMessageAsync("inline", ids["async"][0]))!.Result!.Value.Span));
            Assert.Contains("thrown before any await", (await queues.Client.GetMessageAsync("inline", ids["throws"][1]))!.Errors[^1].Message, StringComparison.Ordinal);
        }
        finally
        {
            await system.Terminate();
            TestQueues.DeleteDirectory(options.DataDirectory);
        }
    }
}

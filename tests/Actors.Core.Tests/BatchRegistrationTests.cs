using Actors.Configuration;
using Actors.Handlers;

namespace Actors.Core.Tests;

/// <summary>Registering batch handlers: their options, replacing a handler of the other kind, and the credit a queue gives its workers.</summary>
public sealed class BatchRegistrationTests
{
    private sealed class Store : IBatchMessageHandler<string>
    {
        public ValueTask HandleAsync(MessageBatch<string> batch, CancellationToken cancellationToken)
        {
            batch.SucceedRemaining();
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public void A_batch_handler_replaces_a_single_handler_of_the_same_type_and_the_other_way_round()
    {
        var registry = new HandlerRegistry().AddBatch<string, Store>("echo");
        Assert.True(registry.IsBatched("echo"));
        Assert.True(registry.Has("echo"));
        Assert.False(registry.TryGet("echo", out _));
        Assert.Single(registry.Types, "echo");

        registry.Add<string>("echo", (payload, _, _) => ValueTask.FromResult<object?>(payload));
        Assert.False(registry.IsBatched("echo"));
        Assert.True(registry.TryGet("echo", out _));
    }

    [Theory]
    [InlineData(0, 100)]
    [InlineData(1001, 100)]
    [InlineData(10, -1)]
    [InlineData(10, 10_001)]
    public void Batch_options_out_of_range_are_refused_with_the_type_named(int size, int waitMs)
    {
        var options = new BatchOptions { BatchSize = size, BatchWait = TimeSpan.FromMilliseconds(waitMs) };
        var error = Assert.Throws<ArgumentException>(() => new HandlerRegistry().AddBatch<string, Store>("logs", options));
        Assert.Contains("'logs'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_queue_lets_each_worker_hold_the_largest_batch_of_the_types_it_accepts()
    {
        var registry = new HandlerRegistry()
            .AddBatch<string, Store>("small", new BatchOptions { BatchSize = 5 })
            .AddBatch<string, Store>("large", new BatchOptions { BatchSize = 50 });

        Assert.Equal(50, new QueueOptions { Prefetch = 2 }.WithBatchCredit(registry).Prefetch);
        Assert.Equal(5, new QueueOptions { Prefetch = 2, AllowedTypes = ["small", "echo"] }.WithBatchCredit(registry).Prefetch);
        var roomy = new QueueOptions { Prefetch = 100 };
        Assert.Same(roomy, roomy.WithBatchCredit(registry));
        var plain = new QueueOptions { Prefetch = 2, AllowedTypes = ["echo"] };
        Assert.Same(plain, plain.WithBatchCredit(registry));
    }
}

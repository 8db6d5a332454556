using Actors.Configuration;
using Actors.Journal;
using Actors.Monitoring;
using Actors.Protocol;
using Akka.Actor;
using Akka.Event;
using Xunit.Abstractions;

namespace Actors.Core.Tests;

/// <summary>An idle node over SQLite sends nothing to the dead letters: its undeliverable-message summary stays empty.</summary>
public sealed class QuietNodeSpec(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    private readonly DurableQueuesOptions _options = TestQueues.NewOptions();

    protected override void AfterAll()
    {
        base.AfterAll();
        TestQueues.DeleteDirectory(_options.DataDirectory);
    }

    [Fact]
    public async Task A_quiet_node_must_produce_no_undeliverable_messages_across_many_checkpoint_intervals()
    {
        _options.AddQueue("jobs", q => q.Workers = 2);
        _options.Handlers.Add<ReadOnlyMemory<byte>>("job", (_, _, _) => ValueTask.FromResult<object?>(null));
        // The node is a system of its own, so the test kit's own loggers are not part of what is observed.
        var (node, queues) = TestQueues.StartNode(_options);
        try
        {
            var undeliverable = CreateTestProbe();
            node.EventStream.Subscribe(undeliverable, typeof(AllDeadLetters));
            node.EventStream.Subscribe(undeliverable, typeof(UnhandledMessage));

            // Some work first, so workers, writes and the checkpointer have all run; then idle.
            var id = await queues.Client.EnqueueAsync("jobs", "job", new byte[] { 1 });
            await AwaitAssertAsync(async () => Assert.Equal(MessageStatus.Succeeded, (await queues.Client.GetMessageAsync("jobs", id))!.Status),
                TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(50));

            // Ten checkpoint intervals: the checkpointer's replies used to arrive here, one per tick.
            await undeliverable.ExpectNoMsgAsync(WalCheckpointer.Interval * 10);

            var monitor = await node.ActorSelection("/user/dead-letter-monitor").ResolveOne(TimeSpan.FromSeconds(5));
            monitor.Tell(DeadLetterMonitor.GetCounts.Instance, TestActor);
            var counts = await ExpectMsgAsync<DeadLetterMonitor.Counts>();
            Assert.Empty(counts.ByCause);
        }
        finally
        {
            await node.Terminate();
        }
    }
}

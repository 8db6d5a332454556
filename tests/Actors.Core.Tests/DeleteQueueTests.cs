using System.Collections.Concurrent;
using Actors.Client;
using Actors.Configuration;
using Actors.Protocol;
using Akka.Actor;

namespace Actors.Core.Tests;

/// <summary>Deleting queues declared at run time over SQLite: conditions, consumers told, gone for good, declared again empty.</summary>
public sealed class DeleteQueueTests : DataDirectoryTest
{
    /// <summary>A consumer that takes deliveries and keeps them, recording every message it gets.</summary>
    private sealed class RecordingConsumer : ReceiveActor
    {
        public RecordingConsumer(ConcurrentQueue<object> received) => ReceiveAny(received.Enqueue);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task A_declared_queue_is_deleted_with_its_messages_its_consumer_is_told_and_it_does_not_come_back(int partitions)
    {
        var options = Options(o => o.AddQueue("configured"));
        var (system, queues) = TestQueues.StartNode(options, "first");
        var client = queues.Client;
        try
        {
            await client.DeclareQueueAsync("temp", new QueueOptions { Workers = 0, Partitions = partitions });
            for (var i = 0; i < 7; i++) await client.EnqueueAsync("temp", "job", new byte[] { (byte)i });
            var received = new ConcurrentQueue<object>();
            var consumer = system.ActorOf(Props.Create(() => new RecordingConsumer(received)));
            await client.AttachConsumerAsync("temp", consumer, prefetch: 2);
            await TestQueues.Until(() => Task.FromResult(received.OfType<WorkerProtocol.Deliver>().Any()), "the consumer to get a delivery");

            var inUse = await Assert.ThrowsAsync<QueueException>(() => client.DeleteQueueAsync("temp", ifUnused: true));
            Assert.Equal(RejectionCode.DeleteRefused, inUse.Code);
            var notEmpty = await Assert.ThrowsAsync<QueueException>(() => client.DeleteQueueAsync("temp", ifEmpty: true));
            Assert.Equal(RejectionCode.DeleteRefused, notEmpty.Code);
            Assert.Equal(7, (await client.GetStatsAsync("temp")).TotalEnqueued);

            Assert.Equal(7, await client.DeleteQueueAsync("temp"));

            Assert.Contains(received, m => m is ConsumerProtocol.ConsumerCancelled { QueueId: "temp" });
            Assert.Equal(RejectionCode.UnknownQueue, (await Assert.ThrowsAsync<QueueException>(() => client.GetStatsAsync("temp"))).Code);
            Assert.Equal(RejectionCode.UnknownQueue, (await Assert.ThrowsAsync<QueueException>(() => client.EnqueueAsync("temp", "job", new byte[] { 1 }))).Code);
            Assert.Equal(RejectionCode.UnknownQueue, (await Assert.ThrowsAsync<QueueException>(() => client.DeleteQueueAsync("temp"))).Code);
            Assert.DoesNotContain(await client.ListQueuesAsync(), s => s.QueueId == "temp");
        }
        finally
        {
            await system.Terminate();
        }

        (system, queues) = TestQueues.StartNode(options, "restarted");
        client = queues.Client;
        try
        {
            Assert.Equal(RejectionCode.UnknownQueue, (await Assert.ThrowsAsync<QueueException>(() => client.EnqueueAsync("temp", "job", new byte[] { 1 }))).Code);

            // Declared again, it starts empty, with the options of the new declaration.
            var again = await client.DeclareQueueAsync("temp", new QueueOptions { Workers = 0, Partitions = 1 });
            Assert.True(again.Created);
            var stats = await client.GetStatsAsync("temp");
            Assert.Equal((0L, 0L, 0L, 0L), (stats.Depth, stats.InFlight, stats.Scheduled, stats.TotalEnqueued));
            await client.EnqueueAsync("temp", "job", new byte[] { 9 });
            Assert.Equal(1, (await client.GetStatsAsync("temp")).Depth);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task A_configured_queue_is_not_deleted_and_an_unknown_one_is_not_found()
    {
        var (system, queues) = TestQueues.StartNode(Options(o => o.AddQueue("configured")));
        try
        {
            await queues.Client.EnqueueAsync("configured", "job", new byte[] { 1 });
            var refused = await Assert.ThrowsAsync<QueueException>(() => queues.Client.DeleteQueueAsync("configured"));
            Assert.Equal(RejectionCode.DeleteRefused, refused.Code);
            Assert.Contains("configuration", refused.Message, StringComparison.Ordinal);
            Assert.Equal(1, (await queues.Client.GetStatsAsync("configured")).TotalEnqueued);
            Assert.Equal(RejectionCode.UnknownQueue, (await Assert.ThrowsAsync<QueueException>(() => queues.Client.DeleteQueueAsync("nope"))).Code);
        }
        finally
        {
            await system.Terminate();
        }
    }
}

using Actors.Client;
using Actors.Configuration;
using Actors.Protocol;

namespace Actors.Core.Tests;

/// <summary>Queues declared at run time survive a restart: two actor systems, one after the other, on the same SQLite file.</summary>
public sealed class DeclaredQueueRecoveryTests : DataDirectoryTest
{
    [Fact]
    public async Task A_declared_queue_and_its_messages_are_there_after_a_restart()
    {
        var (system1, queues1) = TestQueues.StartNode(Options(o => o.AddQueue("configured")), "first");
        Assert.True((await queues1.Client.DeclareQueueAsync("runtime", new QueueOptions { Workers = 0, MaxLength = 500 })).Created);
        for (var i = 0; i < 5; i++) await queues1.Client.EnqueueAsync("runtime", "job", new byte[] { (byte)i });
        await system1.Terminate();

        var (system2, queues2) = TestQueues.StartNode(Options(o => o.AddQueue("configured")), "second");
        try
        {
            // The very first message after the start: the manager asks the registry rather than answer "unknown queue".
            var sixth = await queues2.Client.EnqueueAsync("runtime", "job", new byte[] { 6 });
            Assert.Equal(6, sixth);
            var stats = await queues2.Client.GetStatsAsync("runtime");
            Assert.Equal((6L, 6L), (stats.Depth, stats.TotalEnqueued));

            var again = await queues2.Client.DeclareQueueAsync("runtime");
            Assert.Equal((false, 500, 0), (again.Created, again.Options.MaxLength, again.Options.Workers));
            await TestQueues.Until(async () => (await queues2.Client.ListQueuesAsync()).Any(s => s.QueueId == "runtime"), "the recovered queue to be listed");
            var unknown = await Assert.ThrowsAsync<QueueException>(() => queues2.Client.EnqueueAsync("never-declared", "job", new byte[] { 1 }));
            Assert.Equal(RejectionCode.UnknownQueue, unknown.Code);
        }
        finally
        {
            await system2.Terminate();
        }
    }
}

using Actors.Monitoring;
using Akka.Actor;

namespace Actors.Core.Tests;

public class DeadLetterMonitorSpec : Akka.TestKit.Xunit2.TestKit
{
    [Fact]
    public async Task DeadLetterMonitor_must_count_undeliverable_messages_per_type()
    {
        var monitor = Sys.ActorOf(DeadLetterMonitor.Props());
        var probe = CreateTestProbe();
        var stopped = Sys.ActorOf(Props.Empty);
        Watch(stopped);
        Sys.Stop(stopped);
        await ExpectTerminatedAsync(stopped);

        await AwaitAssertAsync(async () =>
        {
            stopped.Tell("late reply");
            stopped.Tell(42);
            monitor.Tell(DeadLetterMonitor.GetCounts.Instance, probe);
            var counts = await probe.ExpectMsgAsync<DeadLetterMonitor.Counts>();
            Assert.True(counts.ByCause.GetValueOrDefault("dead-letter:String") >= 1);
            Assert.True(counts.ByCause.GetValueOrDefault("dead-letter:Int32") >= 1);
        });
    }
}

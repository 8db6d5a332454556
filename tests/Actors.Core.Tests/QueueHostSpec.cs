using Actors.Queues;
using Akka.Actor;
using Xunit.Abstractions;

namespace Actors.Core.Tests;

/// <summary>How a queue's host supervises it: a few restarts in place, then stop and restart with backoff.</summary>
public sealed class QueueHostSpec(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    [Fact]
    public async Task QueueHost_must_restart_a_crashing_queue_in_place_only_a_few_times_then_through_its_backoff()
    {
        var starts = CreateTestProbe();
        var host = Sys.ActorOf(QueueHost.Props("q", () => Props.Create(() => new Crashing(starts.Ref))), "host");
        Assert.Equal("queue", await starts.ExpectMsgAsync<string>());

        var queue = await Sys.ActorSelection(host.Path / "queue").ResolveOne(TimeSpan.FromSeconds(20));
        for (var i = 0; i <= QueueHost.CrashRestarts; i++) queue.Tell("crash");

        // Restarted in place (same actor, "queue") up to the limit; the next crash stops it and the host starts a new one.
        for (var i = 0; i < QueueHost.CrashRestarts; i++) Assert.Equal("queue", await starts.ExpectMsgAsync<string>(TimeSpan.FromSeconds(20)));
        Assert.Equal("queue-2", await starts.ExpectMsgAsync<string>(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task QueueHost_must_check_again_when_its_partition_check_crashes_past_its_restart_limit()
    {
        var starts = CreateTestProbe();
        var checks = 0;
        Props Check() => Interlocked.Increment(ref checks) == 1 ? Props.Create(() => new CrashingCheck()) : Props.Create(() => new PassingCheck());
        Sys.ActorOf(QueueHost.Props("q", () => Props.Create(() => new Crashing(starts.Ref)), Check), "checked-host");

        // The first check never answers (it crashes on every start and is stopped); the second one lets the queue start.
        Assert.Equal("queue", await starts.ExpectMsgAsync<string>(TimeSpan.FromSeconds(30)));
        Assert.Equal(2, Volatile.Read(ref checks));
    }

    private sealed class CrashingCheck : ReceiveActor
    {
        public CrashingCheck() => throw new InvalidOperationException("check crashed");
    }

    private sealed class PassingCheck : ReceiveActor
    {
        protected override void PreStart()
        {
            Context.Parent.Tell(new PartitionCheck.Checked(null));
            Context.Stop(Self);
        }
    }

    private sealed class Crashing : ReceiveActor
    {
        public Crashing(IActorRef starts)
        {
            starts.Tell(Self.Path.Name);
            Receive<string>(_ => throw new InvalidOperationException("crash"));
        }
    }
}

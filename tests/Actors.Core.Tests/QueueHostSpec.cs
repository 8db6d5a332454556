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

    [Fact]
    public async Task QueueHost_must_ask_the_registry_for_a_queue_it_does_not_know_and_start_it_with_the_commands_that_waited()
    {
        var registry = CreateTestProbe();
        var queue = CreateTestProbe();
        QueueHost.Resolver resolver = new(registry.Ref, options => options.Workers == 3 ? (() => Props.Create(() => new Forwarding(queue.Ref)), null) : null, TimeSpan.FromSeconds(30));
        var host = Sys.ActorOf(QueueHost.Resolve("rt#0", resolver), "resolving-host");
        host.Tell(new Protocol.QueueQueries.GetStats("rt#0"));

        Assert.Equal("rt", (await registry.ExpectMsgAsync<Protocol.QueueRegistryProtocol.FindDeclared>()).Name);
        registry.Reply(new Protocol.QueueRegistryProtocol.DeclaredQueueFound("rt", new Configuration.QueueOptions { Workers = 3 }));
        Assert.Equal("rt#0", (await queue.ExpectMsgAsync<Protocol.QueueQueries.GetStats>()).QueueId);
    }

    [Fact]
    public async Task QueueHost_must_answer_unknown_queue_and_passivate_when_the_registry_does_not_know_the_name()
    {
        var registry = CreateTestProbe();
        QueueHost.Resolver resolver = new(registry.Ref, _ => throw new InvalidOperationException("no options to build from"), TimeSpan.FromSeconds(30));
        // A child of the test actor, which stands in for the shard and gets the Passivate.
        var host = ChildActorOf(QueueHost.Resolve("nowhere", resolver));
        var asker = CreateTestProbe();
        host.Tell(new Protocol.QueueQueries.GetStats("nowhere"), asker.Ref);

        await registry.ExpectMsgAsync<Protocol.QueueRegistryProtocol.FindDeclared>();
        registry.Reply(new Protocol.QueueRegistryProtocol.DeclaredQueueFound("nowhere", null));
        Assert.Equal("nowhere", (await asker.ExpectMsgAsync<Protocol.QueueQueries.QueueNotFound>()).QueueId);
        var passivate = await ExpectMsgAsync<Akka.Cluster.Sharding.Passivate>();
        Watch(host);
        host.Tell(passivate.StopMessage);
        await ExpectTerminatedAsync(host);
    }

    private sealed class Forwarding : ReceiveActor
    {
        public Forwarding(IActorRef to) => ReceiveAny(to.Forward);
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

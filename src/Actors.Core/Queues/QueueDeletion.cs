using Actors.Protocol;
using Akka.Actor;
using static Actors.Protocol.QueueLifecycle;
using static Actors.Protocol.QueueQueries;
using static Actors.Protocol.QueueRegistryProtocol;

namespace Actors.Queues;

/// <summary>
/// One delete of a queue declared at run time (see <see cref="Delete"/>), a short-lived child of the queue manager. In
/// order: the queue's stats through the manager (which finds a queue it has not heard of yet in the registry, or answers
/// "unknown queue") for the if-unused and if-empty checks; <see cref="RetirePartition"/> to every partition, which tells
/// its consumers, stops its workers and deletes its journal and snapshots; then the registry stores the removal,
/// every manager forgets the queue, and in a cluster each retired entity hears <see cref="PartitionGone"/> and passivates. A failure at any step answers the caller with the reason and stops: what was done
/// stays done (a partition already emptied starts again empty), and the delete can be repeated.
/// </summary>
internal sealed class QueueDeletion : ReceiveActor, IWithTimers
{
    private readonly Delete _delete;
    private readonly IActorRef _manager;
    private readonly IActorRef _registry;
    private readonly IActorRef? _region;
    private readonly IActorRef _replyTo;
    private readonly TimeSpan _timeout;
    private int _messages;

    public QueueDeletion(Delete delete, IActorRef manager, IActorRef registry, IActorRef? region, IActorRef replyTo, TimeSpan timeout)
    {
        _region = region;
        _delete = delete;
        _manager = manager;
        _registry = registry;
        _replyTo = replyTo;
        _timeout = timeout;
        Checking();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props for one delete.</summary>
    /// <param name="delete">The request.</param>
    /// <param name="manager">The node's queue manager: stats and retirement go through it.</param>
    /// <param name="registry">The queue registry (its singleton proxy in a cluster).</param>
    /// <param name="region">In a cluster, the queues' shard region (or proxy): the retired entities hear <see cref="PartitionGone"/> through it; null on a standalone node, whose manager stops the hosts itself.</param>
    /// <param name="replyTo">Who waits for the answer.</param>
    /// <param name="timeout">How long each step may take.</param>
    public static Props Props(Delete delete, IActorRef manager, IActorRef registry, IActorRef? region, IActorRef replyTo, TimeSpan timeout) =>
        Akka.Actor.Props.Create(() => new QueueDeletion(delete, manager, registry, region, replyTo, timeout));

    private string Queue => _delete.Queue;

    protected override void PreStart()
    {
        Step();
        _manager.Tell(new GetStats(Queue));
    }

    /// <summary>Each step has the request timeout to finish.</summary>
    private void Step() => Timers.StartSingleTimer("step", StepTimedOut.Instance, _timeout);

    private void Checking()
    {
        Receive<QueueStats>(stats =>
        {
            var held = stats.Depth + stats.InFlight + stats.Scheduled;
            if (_delete.IfUnused && stats.Consumers > 0)
                Finish(new DeleteRefused(Queue, DeleteRefusalReason.InUse, $"Queue '{Queue}' has {stats.Consumers} consumer(s) attached; it was not deleted (if-unused)."));
            else if (_delete.IfEmpty && held > 0)
                Finish(new DeleteRefused(Queue, DeleteRefusalReason.NotEmpty, $"Queue '{Queue}' holds {held} message(s); it was not deleted (if-empty)."));
            else
            {
                Become(Retiring);
                Step();
                _manager.Tell(new RetirePartition(Queue));
            }
        });
        Failures();
    }

    private void Retiring()
    {
        Receive<PartitionRetired>(retired =>
        {
            _messages = retired.MessageCount;
            Become(Removing);
            Step();
            _registry.Tell(new RemoveDeclared(Queue));
        });
        Failures();
    }

    private void Removing()
    {
        Receive<DeclaredQueueRemoved>(removed =>
        {
            if (!removed.Removed)
            {
                Finish(new QueueNotFound(Queue));
                return;
            }
            for (var partition = 0; partition < removed.Partitions && _region is not null; partition++)
                _region.Tell(new PartitionGone(Partitions.EntityId(Queue, partition)));
            Finish(new Deleted(Queue, _messages));
        });
        Failures();
    }

    private void Failures()
    {
        Receive<QueueNotFound>(Finish);
        Receive<QueueUnavailable>(Finish);
        Receive<StepTimedOut>(_ => Finish(new QueueUnavailable(Queue, $"The delete of queue '{Queue}' did not finish within {_timeout}; delete it again.")));
    }

    private void Finish(object reply)
    {
        _replyTo.Tell(reply);
        Context.Stop(Self);
    }

    private sealed class StepTimedOut : INotInfluenceReceiveTimeout
    {
        public static readonly StepTimedOut Instance = new();
        private StepTimedOut() { }
    }
}

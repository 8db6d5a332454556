using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Protocol;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using static Actors.Protocol.QueueRegistryProtocol;
using static Actors.Protocol.QueueRegistryEvents;

namespace Actors.Queues;

/// <summary>
/// The journal of the queues declared at run time (see <see cref="QueueRegistryProtocol"/>): one event per queue, so
/// recovery replays one small event per declared (or removed) queue. It answers declarations and look-ups, and pushes the full set
/// to its subscribers (the queue managers) at every declaration. Subscribers are watched; a registry that restarts
/// (a journal failure stops it, and its backoff supervisor starts it again) or moves (a cluster singleton) has none,
/// until each manager subscribes again at its next wake-up.
/// </summary>
internal sealed class QueueRegistry : ReceivePersistentActor
{
    private readonly TimeProvider _time;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<IActorRef> _subscribers = new();
    private ImmutableDictionary<string, QueueOptions> _queues = ImmutableDictionary.Create<string, QueueOptions>(StringComparer.Ordinal);

    public QueueRegistry(TimeProvider time)
    {
        _time = time;
        Recover<QueueAdded>(Apply);
        Recover<QueueRemoved>(Apply);
        Command<Declare>(OnDeclare);
        Command<RemoveDeclared>(OnRemove);
        Command<FindDeclared>(find => Sender.Tell(new DeclaredQueueFound(find.Name, _queues.GetValueOrDefault(find.Name))));
        Command<SubscribeDeclarations>(OnSubscribe);
        Command<Terminated>(terminated => _subscribers.Remove(terminated.ActorRef));
    }

    /// <inheritdoc />
    public override string PersistenceId => QueueRegistryProtocol.PersistenceId;

    /// <summary>Props of the registry, wrapped in a backoff supervisor that starts it again after a journal failure.</summary>
    public static Props Props(TimeProvider time) => Akka.Pattern.BackoffSupervisor.Props(Akka.Pattern.Backoff.OnStop(
        Akka.Actor.Props.Create(() => new QueueRegistry(time)), "registry", TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), 0.2, -1));

    /// <summary>The version subscribers compare: the number of declarations and removals applied, which only grows.</summary>
    private long Version { get; set; }

    private void Apply(QueueAdded added)
    {
        _queues = _queues.SetItem(added.Name, added.Options);
        Version++;
    }

    private void Apply(QueueRemoved removed)
    {
        _queues = _queues.Remove(removed.Name);
        Version++;
    }

    private void OnRemove(RemoveDeclared remove)
    {
        if (!_queues.TryGetValue(remove.Name, out var options))
        {
            Sender.Tell(new DeclaredQueueRemoved(remove.Name, false));
            return;
        }
        var sender = Sender;
        Persist(new QueueRemoved(remove.Name, _time.GetUtcNow()), removed =>
        {
            Apply(removed);
            _log.Info("Queue '{0}' deleted", removed.Name);
            var declarations = new Declarations(Version, _queues);
            foreach (var subscriber in _subscribers) subscriber.Tell(declarations);
            sender.Tell(new DeclaredQueueRemoved(removed.Name, true, options.Partitions));
        });
    }

    private void OnDeclare(Declare declare)
    {
        if (_queues.TryGetValue(declare.Name, out var existing))
        {
            Sender.Tell(new QueueDeclaration(declare.Name, false, existing));
            return;
        }
        if (declare.Options is null || !Names.IsValidQueueName(declare.Name))
        {
            // The manager validates and fills in the options; an invalid request here is a bug upstream, answered with nothing created.
            _log.Warning("Queue registry: ignoring an invalid declaration of '{0}'", declare.Name);
            return;
        }
        var sender = Sender;
        // Persist (not PersistAsync): a second declaration of the same name waits for this one and is answered "exists".
        Persist(new QueueAdded(declare.Name, declare.Options, _time.GetUtcNow()), added =>
        {
            Apply(added);
            _log.Info("Queue '{0}' declared at run time", added.Name);
            var declarations = new Declarations(Version, _queues);
            foreach (var subscriber in _subscribers) subscriber.Tell(declarations);
            sender.Tell(new QueueDeclaration(added.Name, true, added.Options));
        });
    }

    private void OnSubscribe(SubscribeDeclarations subscribe)
    {
        if (_subscribers.Add(Sender)) Context.Watch(Sender);
        if (subscribe.KnownVersion != Version) Sender.Tell(new Declarations(Version, _queues));
    }
}

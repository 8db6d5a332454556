using System.Collections.Immutable;
using Actors.Configuration;
using Actors.Protocol;
using Akka.Actor;
using Akka.Event;
using static Actors.Protocol.QueueCommands;
using Actors.Client;
using static Actors.Protocol.QueueRegistryProtocol;

namespace Actors.Queues;

/// <summary>
/// Queues declared at run time (see <see cref="QueueRegistryProtocol"/>): the manager sends declarations to the
/// registry and learns the queue from its answer before passing it on, adds what the registry tells it to its catalog and its routing, and, for a name it does not know, asks the
/// registry before answering "unknown queue", holding that name's messages meanwhile (so a message sent right after a
/// declaration on another node, or right after a restart, finds its queue).
/// </summary>
internal sealed partial class QueueManager
{
    /// <summary>Most messages held for one name while the registry is asked about it; past it they are answered at once.</summary>
    private const int MaxHeldPerLookup = 10_000;

    private void StartHost(string entityId) => _hosts[entityId] = Context.ActorOf(_hostProps(entityId), Uri.EscapeDataString(entityId));

    /// <summary>Recomputes the sorted names and the entity ids from <see cref="_partitions"/>.</summary>
    private void Index()
    {
        _names = _partitions.Keys.Order(StringComparer.Ordinal).ToImmutableArray();
        _entityIds = _names.SelectMany(name => Enumerable.Range(0, _partitions[name]).Select(p => Partitions.EntityId(name, p))).ToImmutableArray();
    }

    private void OnDeclare(Declare declare)
    {
        if (!Names.IsValidQueueName(declare.Name))
        {
            Sender.Tell(new Status.Failure(new QueueException(RejectionCode.InvalidQueueName, $"Queue name '{declare.Name}' is invalid: {Names.QueueNameRule}.")));
            return;
        }
        if (_catalog.TryGet(declare.Name, out var known))
        {
            Sender.Tell(new QueueDeclaration(declare.Name, false, known));
            return;
        }
        var options = declare.Options ?? _declaredDefaults;
        if (options.MaxPayloadBytes > _maxDeclaredPayloadBytes)
        {
            Sender.Tell(new Status.Failure(new ArgumentException(
                $"Queue '{declare.Name}': MaxPayloadBytes may be at most {_maxDeclaredPayloadBytes} for a queue declared at run time on this cluster, was {options.MaxPayloadBytes}.")));
            return;
        }
        // The registry answers the manager, which learns the queue before it answers, so the caller's next message finds it.
        if (_declaring.TryGetValue(declare.Name, out var waiting))
        {
            waiting.Add(Sender);
            return;
        }
        _declaring[declare.Name] = [Sender];
        _registry.Tell(declare with { Options = options });
        Timers.StartSingleTimer(DeclareTimer(declare.Name), new DeclareTimedOut(declare.Name), _requestTimeout);
    }

    private void OnDeclared(QueueDeclaration declared)
    {
        Learn(declared.Queue, declared.Options);
        if (!_declaring.Remove(declared.Queue, out var waiting)) return;
        Timers.Cancel(DeclareTimer(declared.Queue));
        // The first caller created it; any other that asked meanwhile hears that it exists.
        for (var i = 0; i < waiting.Count; i++) waiting[i].Tell(i == 0 ? declared : declared with { Created = false });
    }

    private void OnDeclarations(Declarations declarations)
    {
        _registryVersion = declarations.Version;
        foreach (var (name, options) in declarations.Queues) Learn(name, options);
        // A queue declared at run time that the set no longer holds was deleted.
        foreach (var name in _partitions.Keys.Where(n => !_catalog.IsConfigured(n) && !declarations.Queues.ContainsKey(n)).ToList()) Forget(name);
    }

    /// <summary>Deletes a queue declared at run time (see <see cref="QueueDeletion"/>); a configured one is refused at once.</summary>
    private void OnDelete(QueueLifecycle.Delete delete)
    {
        if (!Names.IsValidQueueName(delete.Queue))
        {
            Sender.Tell(new QueueQueries.QueueNotFound(delete.Queue));
            return;
        }
        if (_catalog.IsConfigured(delete.Queue))
        {
            Sender.Tell(new QueueLifecycle.DeleteRefused(delete.Queue, QueueLifecycle.DeleteRefusalReason.Configured,
                $"Queue '{delete.Queue}' comes from the node's configuration; only queues declared at run time can be deleted."));
            return;
        }
        Context.ActorOf(QueueDeletion.Props(delete, Self, _registry, _region, Sender, _requestTimeout));
    }

    /// <summary>
    /// A queue declared at run time was deleted: it leaves the catalog and the routing (its messages are answered "unknown
    /// queue" from now on, after a look-up in the registry), its hosts on a standalone node stop, and the consumers
    /// attached through this node are no longer attached to it again.
    /// </summary>
    private void Forget(string name)
    {
        if (!_partitions.Remove(name, out var partitions)) return;
        _catalog.Remove(name);
        Index();
        for (var partition = 0; partition < partitions; partition++)
        {
            if (_hosts.Remove(Partitions.EntityId(name, partition), out var host)) Context.Stop(host);
        }
        foreach (var (consumer, attachments) in _consumers.ToList())
        {
            if (!attachments.Remove(name) || attachments.Count > 0) continue;
            _consumers.Remove(consumer);
            Context.Unwatch(consumer);
        }
    }

    private void OnFound(DeclaredQueueFound found)
    {
        if (found.Options is { } options) Learn(found.Name, options);
        // A name learnt from a push meanwhile is known, whatever this answer says.
        else if (!_partitions.ContainsKey(found.Name)) AnswerLookups(found.Name, RejectionCode.UnknownQueue, $"Queue '{found.Name}' does not exist.");
    }

    /// <summary>
    /// Adds a queue declared at run time to the catalog and the routing (nothing when it is known already), then routes
    /// the messages held for it while the registry was asked, in the order they came.
    /// </summary>
    private void Learn(string name, QueueOptions options)
    {
        _catalog.Add(name, options);
        if (!_partitions.ContainsKey(name) && _catalog.TryGet(name, out var effective))
        {
            _partitions[name] = effective.Partitions;
            Index();
            for (var partition = 0; partition < effective.Partitions; partition++)
            {
                var id = Partitions.EntityId(name, partition);
                if (_region is null) StartHost(id);
                else _region.Tell(new WakeUp(id));
            }
        }
        if (!_lookups.Remove(name, out var held)) return;
        Timers.Cancel(LookupTimer(name));
        foreach (var (message, sender) in held) Route(message, sender);
    }

    /// <summary>A message for a name the manager does not know: ask the registry first (see the class summary).</summary>
    private void LookUp(IWithQueueId message, IActorRef sender)
    {
        if (!Names.IsValidQueueName(message.QueueId))
        {
            Answer(message, sender, RejectionCode.UnknownQueue, $"Queue '{message.QueueId}' does not exist.");
            return;
        }
        if (_lookups.TryGetValue(message.QueueId, out var held))
        {
            if (held.Count < MaxHeldPerLookup) held.Add((message, sender));
            else Answer(message, sender, RejectionCode.JournalUnavailable, $"Queue '{message.QueueId}' is not known on this node yet; retry shortly.");
            return;
        }
        _lookups[message.QueueId] = [(message, sender)];
        _registry.Tell(new FindDeclared(message.QueueId));
        Timers.StartSingleTimer(LookupTimer(message.QueueId), new LookupTimedOut(message.QueueId), _requestTimeout);
    }

    private void AnswerLookups(string queue, RejectionCode code, string reason)
    {
        if (!_lookups.Remove(queue, out var held)) return;
        Timers.Cancel(LookupTimer(queue));
        foreach (var (message, sender) in held) Answer(message, sender, code, reason);
    }

    private static void Answer(IWithQueueId message, IActorRef sender, RejectionCode code, string reason)
    {
        if (QueueHost.Unavailable(message, code, reason) is { } reply) sender.Tell(reply);
    }

    private static string LookupTimer(string queue) => "lookup:" + queue;

    private static string DeclareTimer(string queue) => "declare:" + queue;

    /// <summary>The registry did not answer a declaration: the callers' own requests time out; forget them.</summary>
    private sealed record DeclareTimedOut(string Queue) : INotInfluenceReceiveTimeout, IDeadLetterSuppression;

    private sealed record LookupTimedOut(string Queue) : INotInfluenceReceiveTimeout, IDeadLetterSuppression;
}

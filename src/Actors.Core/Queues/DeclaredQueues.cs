using Akka.Actor;

namespace Actors.Queues;

/// <summary>
/// The queues a node knows (its <see cref="QueueCatalog"/>: configured and declared at run time), as an actor-system
/// extension: a queue checks against it that a message's continuations name queues that exist (see
/// <see cref="Protocol.Continuation"/>), and the queue manager and hosts read queue options from it.
/// </summary>
internal sealed class DeclaredQueues(QueueCatalog catalog) : IExtension
{
    /// <summary>The node's catalog of queues.</summary>
    public QueueCatalog Catalog => catalog;

    /// <summary>True when <paramref name="queue"/> is known.</summary>
    public bool Contains(string queue) => catalog.Contains(queue);

    /// <summary>Registers the catalog of <paramref name="system"/>.</summary>
    public static void Register(ActorSystem system, QueueCatalog catalog) =>
        system.RegisterExtension(new Id(catalog));

    /// <summary>The declared queues of <paramref name="system"/>; null when none were registered (a queue started on its own).</summary>
    public static DeclaredQueues? Of(ActorSystem system) => system.HasExtension<DeclaredQueues>() ? system.GetExtension<DeclaredQueues>() : null;

    private sealed class Id(QueueCatalog catalog) : ExtensionIdProvider<DeclaredQueues>
    {
        public override DeclaredQueues CreateExtension(ExtendedActorSystem system) => new(catalog);
    }
}

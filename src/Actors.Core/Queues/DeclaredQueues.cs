using Akka.Actor;

namespace Actors.Queues;

/// <summary>
/// The queue names a node declares (every node of a cluster declares the same ones), as an actor-system extension: a
/// queue checks against it that a message's continuations name queues that exist (see <see cref="Protocol.Continuation"/>).
/// </summary>
internal sealed class DeclaredQueues(IReadOnlySet<string> names) : IExtension
{
    /// <summary>True when <paramref name="queue"/> is declared.</summary>
    public bool Contains(string queue) => names.Contains(queue);

    /// <summary>Registers the declared queue names of <paramref name="system"/>.</summary>
    public static void Register(ActorSystem system, IEnumerable<string> queues) =>
        system.RegisterExtension(new Id(new HashSet<string>(queues, StringComparer.Ordinal)));

    /// <summary>The declared queues of <paramref name="system"/>; null when none were registered (a queue started on its own).</summary>
    public static DeclaredQueues? Of(ActorSystem system) => system.HasExtension<DeclaredQueues>() ? system.GetExtension<DeclaredQueues>() : null;

    private sealed class Id(IReadOnlySet<string> names) : ExtensionIdProvider<DeclaredQueues>
    {
        public override DeclaredQueues CreateExtension(ExtendedActorSystem system) => new(names);
    }
}

using System.Collections.Immutable;
using Actors.Configuration;

namespace Actors.Protocol;

/// <summary>
/// Queues declared at run time. The declarations are journaled by one event-sourced actor, the queue registry
/// (persistence id <see cref="PersistenceId"/>; a cluster singleton on the queue nodes, a plain actor on a standalone
/// node). Every node's queue manager subscribes to it and learns the full set at start and every addition after, so a
/// queue declared at run time is routed, listed, woken and recovered like one declared in configuration.
/// <para>Declare through the queue manager (<see cref="Client.IQueueClient.DeclareQueueAsync"/>): it answers a name it
/// already knows (configured or declared) at once with <see cref="QueueDeclaration.Created"/> false, and for any other
/// asks the registry and adds the queue to its node before it answers, so the caller's next message finds the queue. A name is declared once: declaring it again answers with the options it got first, whatever
/// options the second declaration carries (they are not compared).</para>
/// <para>A queue declared at run time can be deleted (<see cref="QueueLifecycle.Delete"/>): its partitions delete their
/// journals, then the registry stores its removal and pushes the new set, and every manager forgets it. Declared again, it
/// starts empty.</para>
/// </summary>
public static class QueueRegistryProtocol
{
    /// <summary>The registry's persistence id.</summary>
    public const string PersistenceId = "queue-registry";

    /// <summary>Declare a queue; answered with <see cref="QueueDeclaration"/>.</summary>
    /// <param name="Name">The queue's name (a valid queue name).</param>
    /// <param name="Options">Its options; null for the node's <see cref="DurableQueuesOptions.DeclaredQueueDefaults"/>.</param>
    public sealed record Declare(string Name, QueueOptions? Options) : IQueueMessage;

    /// <summary>Ask the registry for one queue; answered with <see cref="DeclaredQueueFound"/>.</summary>
    /// <param name="Name">The queue's name.</param>
    public sealed record FindDeclared(string Name) : IQueueMessage;

    /// <summary>The answer to <see cref="FindDeclared"/>.</summary>
    /// <param name="Name">The queue's name.</param>
    /// <param name="Options">Its options; null when it was never declared at run time.</param>
    public sealed record DeclaredQueueFound(string Name, QueueOptions? Options) : IQueueMessage;

    /// <summary>
    /// Subscribe the sender to the registry's declarations (again: harmless). Answered with <see cref="Declarations"/>
    /// when the registry's version differs from <paramref name="KnownVersion"/>; every later declaration is sent too.
    /// </summary>
    /// <param name="KnownVersion">The version of the last <see cref="Declarations"/> the subscriber got; -1 for none.</param>
    public sealed record SubscribeDeclarations(long KnownVersion) : IQueueMessage;

    /// <summary>
    /// Remove a queue declared at run time (the last step of <see cref="QueueLifecycle.Delete"/>, once its partitions
    /// deleted their journals); answered with <see cref="DeclaredQueueRemoved"/> once the removal is stored. Every
    /// subscriber hears the new set, and forgets the queue.
    /// </summary>
    /// <param name="Name">The queue's name.</param>
    public sealed record RemoveDeclared(string Name) : IQueueMessage;

    /// <summary>The answer to <see cref="RemoveDeclared"/>.</summary>
    /// <param name="Name">The queue's name.</param>
    /// <param name="Removed">False when no such queue was declared (nothing stored).</param>
    /// <param name="Partitions">The partitions the removed queue had (0 when none was removed).</param>
    public sealed record DeclaredQueueRemoved(string Name, bool Removed, int Partitions = 0) : IQueueMessage;

    /// <summary>Every queue declared at run time (and not removed since).</summary>
    /// <param name="Version">The number of declarations and removals (it only grows).</param>
    /// <param name="Queues">The queues by name.</param>
    public sealed record Declarations(long Version, ImmutableDictionary<string, QueueOptions> Queues) : IQueueMessage;
}

/// <summary>The answer to a declaration (<see cref="QueueRegistryProtocol.Declare"/>).</summary>
/// <param name="Queue">The queue's name.</param>
/// <param name="Created">True when this declaration created the queue; false when it existed (configured or declared before).</param>
/// <param name="Options">The queue's effective options: the ones it was configured or first declared with.</param>
public sealed record QueueDeclaration(string Queue, bool Created, QueueOptions Options) : IQueueMessage;

/// <summary>The queue registry's journal events.</summary>
public static class QueueRegistryEvents
{
    /// <summary>A queue was declared at run time.</summary>
    /// <param name="Name">The queue's name.</param>
    /// <param name="Options">Its options.</param>
    /// <param name="DeclaredAt">When.</param>
    public sealed record QueueAdded(string Name, QueueOptions Options, DateTimeOffset DeclaredAt) : IQueueMessage;

    /// <summary>A queue declared at run time was deleted (see <see cref="QueueLifecycle.Delete"/>).</summary>
    /// <param name="Name">The queue's name.</param>
    /// <param name="RemovedAt">When.</param>
    public sealed record QueueRemoved(string Name, DateTimeOffset RemovedAt) : IQueueMessage;
}

using System.Collections.Immutable;
using static Actors.Protocol.QueueQueries;

namespace Actors.Client;

/// <summary>What a node sees of its cluster: the members, where each queue lives and where its workers run.</summary>
/// <param name="Mode"><c>cluster</c> or <c>standalone</c>.</param>
/// <param name="Self">This node's address.</param>
/// <param name="Leader">The cluster leader's address, if any.</param>
/// <param name="Members">Every member, by address.</param>
/// <param name="Queues">Each declared queue's placement; a queue that did not answer is missing and named in <paramref name="Unplaced"/>.</param>
/// <param name="Unplaced">Queues that did not answer (moving between nodes, or restarting), with the reason.</param>
public sealed record ClusterStatus(
    string Mode,
    string Self,
    string? Leader,
    ImmutableArray<ClusterMember> Members,
    ImmutableArray<QueuePlacement> Queues,
    ImmutableSortedDictionary<string, string> Unplaced);

/// <summary>One member of the cluster.</summary>
/// <param name="Address">Its address (<c>akka.tcp://system@host:port</c>).</param>
/// <param name="Status">Its membership status: Joining, Up, Leaving, Exiting, Down, Removed, WeaklyUp.</param>
/// <param name="Roles">Its roles.</param>
/// <param name="Reachable">False while the failure detector considers it unreachable from this node.</param>
public sealed record ClusterMember(string Address, string Status, ImmutableArray<string> Roles, bool Reachable);

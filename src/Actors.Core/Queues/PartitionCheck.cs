using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using Actors.Configuration;
using Actors.Protocol;
using Actors.State;
using Akka.Actor;
using Akka.Persistence;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace Actors.Queues;

/// <summary>
/// Lowering a queue's <see cref="QueueOptions.Partitions"/> would strand the messages held by the partitions above the
/// new count: no actor would ever recover their journal streams. Before a queue partition starts, this child of its
/// <see cref="QueueHost"/> lists the journal's persistence ids (once per actor system), recovers each stream
/// <c>queue-{name}-{p}</c> with p at or above the declared count, and reports to its parent with
/// <see cref="Checked"/>: no refusal when none of them holds a message (pending or dead-lettered), else a refusal
/// naming the fix. A failed journal query is reported with <see cref="CheckFailed"/>.
/// </summary>
internal sealed class PartitionCheck : ReceiveActor
{
    private static readonly ConditionalWeakTable<ActorSystem, Task<IImmutableList<string>>> PersistenceIds = new();

    private readonly string _queueId;
    private readonly int _partitions;
    private readonly QueueOptions _options;
    private readonly List<(int Partition, int Held)> _stranded = new();
    private int _waiting;

    public PartitionCheck(string queueId, QueueOptions options)
    {
        _queueId = queueId;
        _options = options;
        _partitions = options.Partitions;
        Receive<IdsRead>(read => OnIds(read.Ids));
        Receive<PartitionInspector.Inspected>(OnInspected);
        Receive<Status.Failure>(f => Finish(new CheckFailed(f.Cause)));
    }

    /// <summary>Props for the check of queue <paramref name="queueId"/> declared with <paramref name="options"/>.</summary>
    public static Props Props(string queueId, QueueOptions options) => Akka.Actor.Props.Create(() => new PartitionCheck(queueId, options));

    protected override void PreStart()
    {
        var system = Context.System;
        var ids = PersistenceIds.GetValue(system, s =>
        {
            var journal = PersistenceQuery.Get(s).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
            return journal.CurrentPersistenceIds().RunWith(Sink.Seq<string>(), s.Materializer());
        });
        // A failed query is not kept: the host's next check asks again.
        ids.ContinueWith(t => { if (!t.IsCompletedSuccessfully) PersistenceIds.Remove(system); }, TaskScheduler.Default);
        ids.PipeTo(Self, success: read => new IdsRead(read));
    }

    private void OnIds(IImmutableList<string> ids)
    {
        var above = StrandedCandidates(ids, _queueId, _partitions);
        if (above.Length == 0)
        {
            Finish(new Checked(null));
            return;
        }
        _waiting = above.Length;
        foreach (var partition in above) Context.ActorOf(PartitionInspector.Props(_queueId, partition, _options));
    }

    private void OnInspected(PartitionInspector.Inspected inspected)
    {
        if (inspected.Failure is { } failure)
        {
            Finish(new CheckFailed(failure));
            return;
        }
        if (inspected.Held > 0) _stranded.Add((inspected.Partition, inspected.Held));
        if (--_waiting > 0) return;
        Finish(new Checked(_stranded.Count == 0 ? null : Refusal(_queueId, _partitions, _stranded.OrderBy(s => s.Partition).ToList())));
    }

    private void Finish(object result)
    {
        Context.Parent.Tell(result);
        Context.Stop(Self);
    }

    /// <summary>The partitions at or above <paramref name="partitions"/> that have a journal stream of queue <paramref name="queueId"/>, in order.</summary>
    public static ImmutableArray<int> StrandedCandidates(IEnumerable<string> persistenceIds, string queueId, int partitions)
    {
        var prefix = QueueActor.PersistenceIdFor(queueId, 0)[..^1];
        return persistenceIds
            .Where(id => id.StartsWith(prefix, StringComparison.Ordinal))
            .Select(id => int.TryParse(id.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : -1)
            .Where(p => p >= partitions)
            .Distinct().Order().ToImmutableArray();
    }

    /// <summary>Why the queue does not start, and what to do about it.</summary>
    public static string Refusal(string queueId, int partitions, IReadOnlyList<(int Partition, int Held)> stranded)
    {
        var highest = stranded.Max(s => s.Partition);
        var held = string.Join(", ", stranded.Select(s => $"partition {s.Partition}: {s.Held}"));
        return $"Queue '{queueId}' is declared with {partitions} partition(s), but its journal holds messages in higher partitions ({held}), " +
            $"which no actor would recover. Set Partitions back to at least {highest + 1} (and let those partitions drain before lowering it).";
    }

    /// <summary>The check's outcome; <paramref name="Refusal"/> is null when the queue may start.</summary>
    public sealed record Checked(string? Refusal);

    /// <summary>The journal could not be queried.</summary>
    public sealed record CheckFailed(Exception Cause);

    private sealed record IdsRead(IImmutableList<string> Ids);
}

/// <summary>Recovers one partition's journal stream (reading only) and reports how many messages it holds.</summary>
internal sealed class PartitionInspector : ReceivePersistentActor
{
    private readonly int _partition;
    private QueueState _state;

    public PartitionInspector(string queueId, int partition, QueueOptions options)
    {
        _partition = partition;
        _state = new QueueState(queueId, options);
        PersistenceId = QueueActor.PersistenceIdFor(queueId, partition);
        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is QueueSnapshot snapshot) _state = QueueState.FromSnapshot(queueId, options, snapshot);
        });
        Recover<QueueEvents.IQueueEvent>(evt => _state.Apply(evt, LastSequenceNr));
        Recover<RecoveryCompleted>(_ =>
        {
            Context.Parent.Tell(new Inspected(_partition, _state.PendingCount + _state.DeadLetterCount, null));
            Context.Stop(Self);
        });
    }

    public override string PersistenceId { get; }

    public static Props Props(string queueId, int partition, QueueOptions options) =>
        Akka.Actor.Props.Create(() => new PartitionInspector(queueId, partition, options));

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        Context.Parent.Tell(new Inspected(_partition, 0, reason));
        base.OnRecoveryFailure(reason, message);
    }

    /// <summary>A partition's stream recovered with <paramref name="Held"/> messages, or failed with <paramref name="Failure"/>.</summary>
    public sealed record Inspected(int Partition, int Held, Exception? Failure);
}

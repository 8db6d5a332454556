using System.Collections.Immutable;
using Actors.Protocol;
using Actors.State;
using Akka.Actor;
using static Actors.Protocol.QueueEvents;

namespace Actors.Queues;

/// <summary>
/// The operator's dead-letter commands for one queue: listing pages, redrives (one write for a selection of at most
/// one chunk; the chunks of a larger one come from its <see cref="RedriveJobActor"/>, one per tick, so it runs at
/// <c>RedrivePerSecond</c>), and purges (persisted in chunks). Events go to the <see cref="GroupCommitWriter"/>; the
/// requester is answered after the last of its events commits, or as soon as one of them is rejected or fails (never
/// left waiting).
/// </summary>
internal sealed class DeadLetterOperations
{
    /// <summary>Most dead letters one purge event removes.</summary>
    public const int PurgeChunk = 10_000;

    private readonly string _queueId;

    /// <summary>Operations for <paramref name="queueId"/>, redriving at <paramref name="redrivePerSecond"/> with one chunk per <paramref name="tickInterval"/>.</summary>
    public DeadLetterOperations(string queueId, int redrivePerSecond, TimeSpan tickInterval)
    {
        _queueId = queueId;
        RedriveChunkSize = Math.Max(1, redrivePerSecond / (int)(1000 / tickInterval.TotalMilliseconds));
    }

    /// <summary>Dead letters one redrive chunk (one tick) moves back.</summary>
    public int RedriveChunkSize { get; }

    /// <summary>One page of the dead letters <paramref name="query"/> asks for, with their total and where the next page starts.</summary>
    public DeadLetterCommands.DeadLetterPage Page(QueueState state, DeadLetterCommands.ListDeadLetters query)
    {
        var limit = Math.Clamp(query.Limit, 1, 1000);
        var page = state.DeadLetters(query.Filter, query.AfterId).Take(limit + 1).Select(QueueState.Summarize).ToList();
        var more = page.Count > limit;
        if (more) page.RemoveAt(limit);
        return new DeadLetterCommands.DeadLetterPage(_queueId, page.ToImmutableArray(), state.DeadLetters(query.Filter).Count(),
            more ? page[^1].MessageId : null);
    }

    /// <summary>
    /// Buffers the redrive of <paramref name="ids"/> (at most one chunk) as one event in <paramref name="writer"/>;
    /// <paramref name="replyTo"/> is answered with <see cref="DeadLetterCommands.DeadLettersRedriven"/> after it commits
    /// (and <paramref name="afterCommit"/> runs: the messages are ready), or with
    /// <see cref="QueueQueries.QueueUnavailable"/> when it is rejected or fails. False (nothing buffered) when there are none.
    /// </summary>
    public bool BufferRedrive(GroupCommitWriter writer, IReadOnlyCollection<long> ids, IActorRef replyTo, DateTime now, Action afterCommit)
    {
        if (ids.Count == 0) return false;
        writer.BufferDecision(new DeadLettersRedrivenEvent(ids.ToImmutableArray(), now),
            onCommitted: () =>
            {
                replyTo.Tell(new DeadLetterCommands.DeadLettersRedriven(_queueId, ids.Count));
                afterCommit();
            },
            onRejected: () => replyTo.Tell(new QueueQueries.QueueUnavailable(_queueId,
                $"Queue '{_queueId}' could not store the redrive: the journal did not store the write; retry it.")));
        return true;
    }

    /// <summary>
    /// Buffers a redrive job's chunk: of its ids, those <paramref name="state"/> still holds as dead letters (an id
    /// redriven or purged since, for example by a chunk sent again after a crash, is skipped). The job actor
    /// <paramref name="job"/> is answered with <see cref="RedriveProtocol.ChunkStored"/> after the write commits (at
    /// once when nothing is left to write) or <see cref="RedriveProtocol.ChunkFailed"/> when it is rejected or fails.
    /// True when something was buffered, for the caller to flush.
    /// </summary>
    public static bool BufferChunk(GroupCommitWriter writer, QueueState state, RedriveProtocol.Chunk chunk, IActorRef job, DateTime now, Action afterCommit)
    {
        var ids = state.DeadLetters(new DeadLetterCommands.DeadLetterFilter(Ids: chunk.Ids)).Select(m => m.Id).ToImmutableArray();
        var stored = new RedriveProtocol.ChunkStored(chunk.JobId, chunk.End);
        if (ids.IsEmpty)
        {
            job.Tell(stored);
            return false;
        }
        writer.BufferDecision(new DeadLettersRedrivenEvent(ids, now),
            onCommitted: () =>
            {
                job.Tell(stored);
                afterCommit();
            },
            onRejected: () => job.Tell(new RedriveProtocol.ChunkFailed(chunk.JobId, chunk.End, "the journal did not store the write")));
        return true;
    }

    /// <summary>
    /// Buffers the purge of <paramref name="ids"/> in <paramref name="writer"/>, in chunks of <see cref="PurgeChunk"/>;
    /// <paramref name="replyTo"/> is answered after the last commits, or with <see cref="QueueQueries.QueueUnavailable"/>
    /// as soon as one is rejected or fails. False (nothing buffered) when there are none.
    /// </summary>
    public bool BufferPurge(GroupCommitWriter writer, List<long> ids, IActorRef replyTo, DateTime now)
    {
        if (ids.Count == 0) return false;
        var chunks = ids.Chunk(PurgeChunk).ToList();
        var purged = 0;
        var answered = false;
        for (var i = 0; i < chunks.Count; i++)
        {
            var size = chunks[i].Length;
            writer.BufferDecision(new DeadLettersPurgedEvent(chunks[i].ToImmutableArray(), now),
                onCommitted: () =>
                {
                    purged += size;
                    if (purged < ids.Count || answered) return;
                    answered = true;
                    replyTo.Tell(new DeadLetterCommands.DeadLettersPurged(_queueId, ids.Count));
                },
                onRejected: () =>
                {
                    if (answered) return;
                    answered = true;
                    replyTo.Tell(new QueueQueries.QueueUnavailable(_queueId,
                        $"Queue '{_queueId}' could not store the purge ({purged} of {ids.Count} dead letters purged): the journal did not store the write; retry it."));
                });
        }
        return true;
    }
}

using System.Collections.Immutable;
using Actors.Protocol;
using Actors.State;
using Akka.Actor;
using static Actors.Protocol.QueueEvents;

namespace Actors.Queues;

/// <summary>
/// The operator's dead-letter commands for one queue: listing pages, redrives (queued, and persisted one chunk per
/// tick so a large redrive runs at <c>RedrivePerSecond</c>), and purges (persisted in chunks). Events go to the
/// <see cref="GroupCommitWriter"/>; the requester is answered after the last of its events commits, or with
/// <see cref="QueueQueries.QueueUnavailable"/> as soon as one of them is rejected or fails (never left waiting).
/// </summary>
internal sealed class DeadLetterOperations
{
    /// <summary>Most dead letters one purge event removes.</summary>
    public const int PurgeChunk = 10_000;

    private readonly string _queueId;
    private Queue<RedriveJob> _redrives = new();

    /// <summary>Operations for <paramref name="queueId"/>, redriving at <paramref name="redrivePerSecond"/> with one chunk per <paramref name="tickInterval"/>.</summary>
    public DeadLetterOperations(string queueId, int redrivePerSecond, TimeSpan tickInterval)
    {
        _queueId = queueId;
        RedriveChunkSize = Math.Max(1, redrivePerSecond / (int)(1000 / tickInterval.TotalMilliseconds));
    }

    /// <summary>Dead letters one redrive chunk (one tick) moves back.</summary>
    public int RedriveChunkSize { get; }

    /// <summary>Redrives with chunks not yet buffered.</summary>
    public int QueuedRedrives => _redrives.Count;

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
    /// Queues a redrive of <paramref name="ids"/> for <paramref name="replyTo"/>; false (and nothing queued) when there
    /// are none, for the caller to answer at once.
    /// </summary>
    public bool QueueRedrive(IActorRef replyTo, List<long> ids)
    {
        if (ids.Count == 0) return false;
        _redrives.Enqueue(new RedriveJob(replyTo, ids));
        return true;
    }

    /// <summary>
    /// Buffers the next chunk of the oldest redrive in <paramref name="writer"/>; false when no redrive is queued. When
    /// the chunk commits, <paramref name="afterCommit"/> runs (the redriven messages are ready), and after the job's
    /// last chunk its requester is answered. When the chunk's write is rejected or fails, the requester is answered at
    /// once with <see cref="QueueQueries.QueueUnavailable"/> and the rest of the job is dropped: what is not redriven
    /// stays dead-lettered, and the operator may redrive it again.
    /// </summary>
    public bool BufferNextRedriveChunk(GroupCommitWriter writer, DateTime now, Action afterCommit)
    {
        if (!_redrives.TryPeek(out var job)) return false;
        var chunk = job.Remaining.Take(RedriveChunkSize).ToImmutableArray();
        job.Remaining.RemoveRange(0, chunk.Length);
        if (job.Remaining.Count == 0) _redrives.Dequeue();
        job.PendingChunks++;
        writer.BufferDecision(new DeadLettersRedrivenEvent(chunk, now),
            onCommitted: () =>
            {
                job.Redriven += chunk.Length;
                if (--job.PendingChunks == 0 && job.Remaining.Count == 0 && !job.Answered)
                {
                    job.Answered = true;
                    job.ReplyTo.Tell(new DeadLetterCommands.DeadLettersRedriven(_queueId, job.Redriven));
                }
                afterCommit();
            },
            onRejected: () =>
            {
                job.PendingChunks--;
                FailRedrive(job, "the journal did not store the write");
            });
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

    /// <summary>
    /// The queue is about to stop on a journal failure: every queued redrive whose requester has not been answered is
    /// answered with <see cref="QueueQueries.QueueUnavailable"/> (its chunks in flight are answered by the writer).
    /// </summary>
    public void FailAll(string reason)
    {
        while (_redrives.TryDequeue(out var job)) FailRedrive(job, reason);
    }

    private void FailRedrive(RedriveJob job, string reason)
    {
        job.Remaining.Clear();
        if (job.Answered) return;
        job.Answered = true;
        // A job with chunks left to buffer is still queued: take it out, so no later chunk is written for it.
        if (_redrives.Contains(job)) _redrives = new Queue<RedriveJob>(_redrives.Where(j => j != job));
        job.ReplyTo.Tell(new QueueQueries.QueueUnavailable(_queueId,
            $"Queue '{_queueId}' could not store the redrive ({job.Redriven} dead letters redriven before): {reason}; retry it."));
    }

    private sealed class RedriveJob(IActorRef replyTo, List<long> remaining)
    {
        public IActorRef ReplyTo { get; } = replyTo;
        public List<long> Remaining { get; } = remaining;
        public int PendingChunks { get; set; }
        public int Redriven { get; set; }
        public bool Answered { get; set; }
    }
}

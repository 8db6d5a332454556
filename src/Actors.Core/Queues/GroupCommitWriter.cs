using System.Collections.Immutable;
using Actors.Monitoring;
using Actors.Protocol;
using Akka.Actor;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueEvents;

namespace Actors.Queues;

/// <summary>
/// Group commit for one queue: buffers the messages, acknowledgements and decisions that arrive while journal writes
/// are in flight, turns what is buffered into the next write (a few events of up to
/// <see cref="QueueActor.MessagesPerEvent"/> messages each), and knows who waits for each event's outcome. It does
/// not persist: the actor hands <see cref="StartWrite"/>'s events to the journal and reports each commit back with
/// <see cref="CommitNext"/>.
/// </summary>
internal sealed class GroupCommitWriter
{
    private readonly List<EnqueuedMessage> _messages = new();
    private readonly List<IReplyTarget> _replies = new();
    private readonly List<AckedMessage> _acks = new();
    private readonly List<(IQueueEvent Event, Action? OnCommitted, Action? OnRejected)> _decisions = new();
    private readonly List<PendingWrite> _writes = new();
    private readonly int _writesInFlight;

    /// <summary>A writer that keeps at most <paramref name="writesInFlight"/> writes in flight.</summary>
    public GroupCommitWriter(int writesInFlight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(writesInFlight, 1);
        _writesInFlight = writesInFlight;
    }

    /// <summary>Messages accepted for writing whose event is not committed yet (they count against the queue's length).</summary>
    public int UnappliedEnqueues { get; private set; }

    /// <summary>Payload bytes of the <see cref="UnappliedEnqueues"/> (they count against the queue's byte limit).</summary>
    public long UnappliedEnqueueBytes { get; private set; }

    /// <summary>Whether anything waits for the next write.</summary>
    public bool HasBuffered => _messages.Count > 0 || _acks.Count > 0 || _decisions.Count > 0;

    /// <summary>Writes started and not yet committed, rejected or failed.</summary>
    public int WritesInFlight => _writes.Count;

    /// <summary>Nothing buffered and no write in flight.</summary>
    public bool IsIdle => _writes.Count == 0 && !HasBuffered;

    /// <summary>Something is buffered and another write may start.</summary>
    public bool CanStartWrite => HasBuffered && _writes.Count < _writesInFlight;

    /// <summary>Buffers a new message; <paramref name="reply"/> is answered when its write commits or fails.</summary>
    public void BufferMessage(EnqueuedMessage message, IReplyTarget reply)
    {
        _messages.Add(message);
        _replies.Add(reply);
        UnappliedEnqueues++;
        UnappliedEnqueueBytes += message.Payload.Length;
    }

    /// <summary>Buffers a completed delivery's acknowledgement.</summary>
    public void BufferAck(AckedMessage ack) => _acks.Add(ack);

    /// <summary>
    /// Buffers a decision (retry, dead letter, discard, redrive, purge, cancellation, expiry); <paramref name="onCommitted"/>
    /// runs after it commits, <paramref name="onRejected"/> if its write is rejected or fails.
    /// </summary>
    public void BufferDecision(IQueueEvent decision, Action? onCommitted = null, Action? onRejected = null) => _decisions.Add((decision, onCommitted, onRejected));

    /// <summary>
    /// Moves what is buffered into a new write (at most <see cref="QueueActor.MessagesPerWrite"/> messages; the rest
    /// wait) and returns it; the caller persists its <see cref="PendingWrite.Events"/> atomically, in order.
    /// </summary>
    public PendingWrite StartWrite()
    {
        var write = new PendingWrite();
        var take = Math.Min(_messages.Count, QueueActor.MessagesPerWrite);
        var messages = take > 0 ? _messages.GetRange(0, take).ToArray() : [];
        for (var start = 0; start < take; start += QueueActor.MessagesPerEvent)
        {
            var count = Math.Min(QueueActor.MessagesPerEvent, take - start);
            write.Add(new MessagesEnqueued(ImmutableArray.Create(messages, start, count)), _replies.GetRange(start, count));
        }
        _messages.RemoveRange(0, take);
        _replies.RemoveRange(0, take);

        var acks = _acks.ToArray();
        for (var start = 0; start < acks.Length; start += QueueActor.AcksPerEvent)
        {
            var count = Math.Min(QueueActor.AcksPerEvent, acks.Length - start);
            write.Add(new MessagesAcked(ImmutableArray.Create(acks, start, count)), null);
        }
        _acks.Clear();
        foreach (var (decision, onCommitted, onRejected) in _decisions) write.Add(decision, null, onCommitted, onRejected);
        _decisions.Clear();

        _writes.Add(write);
        if (WritePathBreakdown.Enabled)
            WritePathBreakdown.WriteStarted(write.Events, write.Replies.Where(r => r is not null).SelectMany(r => r!).Select(r => (r as SingleReply)?.Trace));
        return write;
    }

    /// <summary>
    /// Marks the next event of the oldest write in flight committed (writes complete in the order they started) and
    /// returns that write; <paramref name="index"/> is the event's place in it.
    /// </summary>
    public PendingWrite CommitNext(out int index)
    {
        var write = _writes[0];
        index = write.Committed++;
        return write;
    }

    private void Unapplied(MessagesEnqueued enqueued)
    {
        UnappliedEnqueues -= enqueued.Messages.Length;
        foreach (var m in enqueued.Messages) UnappliedEnqueueBytes -= m.Payload.Length;
    }

    /// <summary>Answers the producers of a committed enqueue event with their message ids.</summary>
    public void Accept(string queueId, MessagesEnqueued enqueued, List<IReplyTarget> replies)
    {
        Unapplied(enqueued);
        for (var i = 0; i < replies.Count; i++) replies[i].Accept(queueId, enqueued.Messages[i].Id, replayed: false);
    }

    /// <summary>Forgets a write whose events all committed; false when it is no longer in flight.</summary>
    public bool Complete(PendingWrite write) => _writes.Remove(write);

    /// <summary>Takes the write in flight that holds <paramref name="evt"/> out of flight; null when none does.</summary>
    public PendingWrite? RemoveWriteOf(object evt)
    {
        var write = _writes.Find(w => w.Events.Contains(evt));
        if (write is not null) _writes.Remove(write);
        return write;
    }

    /// <summary>
    /// Undoes a rejected write's uncommitted events: its producers are answered with <paramref name="reason"/>, and the
    /// ids of the acknowledgements and decisions it carried go to <paramref name="returnToReady"/>, and whoever waits on a
    /// decision hears of the rejection. A rejected redrive or purge leaves the dead letters where they are; the operator
    /// may retry it.
    /// </summary>
    public void Reject(PendingWrite write, string queueId, string reason, Action<long> returnToReady)
    {
        for (var i = write.Committed; i < write.Events.Count; i++)
        {
            write.Rejections[i]?.Invoke();
            switch (write.Events[i])
            {
                case MessagesEnqueued enqueued:
                    Unapplied(enqueued);
                    foreach (var reply in write.Replies[i]!) reply.Reject(queueId, RejectionCode.JournalUnavailable, reason);
                    break;
                case MessagesAcked acked:
                    foreach (var ack in acked.Acks) returnToReady(ack.Id);
                    break;
                case RetryScheduled r: returnToReady(r.Id); break;
                case DeadLettered d: returnToReady(d.Id); break;
                case Discarded x: returnToReady(x.Id); break;
                case MessageCancelled c: returnToReady(c.Id); break;
                case MessagesExpired e:
                    foreach (var id in e.Ids) returnToReady(id);
                    break;
                case MessagesPurged p:
                    foreach (var id in p.Ids) returnToReady(id);
                    break;
            }
        }
    }

    /// <summary>
    /// The journal failed (the actor is about to stop): every producer waiting on a write in flight or on a buffered
    /// message is answered with <paramref name="reason"/>, and both are dropped.
    /// </summary>
    public void FailAll(string queueId, string reason)
    {
        foreach (var write in _writes)
        {
            for (var i = write.Committed; i < write.Events.Count; i++)
            {
                if (write.Replies[i] is { } replies) foreach (var reply in replies) reply.Reject(queueId, RejectionCode.JournalUnavailable, reason);
                write.Rejections[i]?.Invoke();
            }
        }
        _writes.Clear();
        foreach (var (_, _, onRejected) in _decisions) onRejected?.Invoke();
        _decisions.Clear();
        foreach (var reply in _replies) reply.Reject(queueId, RejectionCode.JournalUnavailable, reason);
        _replies.Clear();
        _messages.Clear();
    }
}

/// <summary>One journal write: its events in order, who waits for each, what runs after each commits, and how many committed.</summary>
internal sealed class PendingWrite
{
    /// <summary>The events, persisted as one atomic write.</summary>
    public List<IQueueEvent> Events { get; } = new();

    /// <summary>Per event, the producers waiting for it (enqueue events only; null for others).</summary>
    public List<List<IReplyTarget>?> Replies { get; } = new();

    /// <summary>Per event, what runs after it commits (or null).</summary>
    public List<Action?> Callbacks { get; } = new();

    /// <summary>Per event, what runs if the write is rejected or fails (or null).</summary>
    public List<Action?> Rejections { get; } = new();

    /// <summary>When the write started (a <see cref="System.Diagnostics.Stopwatch"/> timestamp).</summary>
    public long StartedAt { get; } = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>How many of the events have committed.</summary>
    public int Committed { get; set; }

    /// <summary>Whether every event has committed.</summary>
    public bool IsDone => Committed == Events.Count;

    /// <summary>Appends an event with who waits for it and what runs after it commits.</summary>
    public void Add(IQueueEvent evt, List<IReplyTarget>? replies, Action? onCommitted = null, Action? onRejected = null)
    {
        Events.Add(evt);
        Replies.Add(replies);
        Callbacks.Add(onCommitted);
        Rejections.Add(onRejected);
    }
}

/// <summary>Who is waiting for a buffered message's outcome.</summary>
internal interface IReplyTarget
{
    /// <summary>The message was stored under <paramref name="messageId"/> (by an earlier request with the same idempotency key when <paramref name="replayed"/>).</summary>
    void Accept(string queueId, long messageId, bool replayed);

    /// <summary>The message was not stored.</summary>
    void Reject(string queueId, RejectionCode code, string reason);
}

/// <summary>The producer of one <see cref="Enqueue"/>: answered with <see cref="Accepted"/> or <see cref="Rejected"/>.</summary>
internal sealed class SingleReply(IActorRef replyTo, long correlationId) : IReplyTarget
{
    /// <summary>Its trace while <see cref="WritePathBreakdown"/> is enabled.</summary>
    public WritePathBreakdown.MessageTrace? Trace { get; init; }

    /// <inheritdoc />
    public void Accept(string queueId, long messageId, bool replayed) => replyTo.Tell(new Accepted(queueId, messageId, correlationId, replayed));

    /// <inheritdoc />
    public void Reject(string queueId, RejectionCode code, string reason) => replyTo.Tell(new Rejected(queueId, code, reason, correlationId));
}

/// <summary>The producer of an <see cref="EnqueueBatch"/>: answered once, with every item's outcome, when the last one is known.</summary>
internal sealed class BatchReply(IActorRef replyTo, long correlationId, EnqueueOutcome[] outcomes)
{
    /// <summary>Items whose outcome is not known yet.</summary>
    public int Remaining { get; set; }

    /// <summary>Records one item's outcome; the reply goes out with the last.</summary>
    public void Resolve(int index, EnqueueOutcome outcome, string queueId)
    {
        outcomes[index] = outcome;
        if (--Remaining == 0) Send(queueId);
    }

    /// <summary>Sends the outcomes as they are.</summary>
    public void Send(string queueId) => replyTo.Tell(new BatchResult(queueId, ImmutableArray.Create(outcomes), correlationId));
}

/// <summary>One item of a batch, waiting for its outcome.</summary>
internal sealed class BatchItemReply(BatchReply batch, int index) : IReplyTarget
{
    /// <inheritdoc />
    public void Accept(string queueId, long messageId, bool replayed) => batch.Resolve(index, new EnqueueOutcome(messageId, null, null, replayed), queueId);

    /// <inheritdoc />
    public void Reject(string queueId, RejectionCode code, string reason) => batch.Resolve(index, new EnqueueOutcome(null, code, reason), queueId);
}

using System.Collections.Immutable;
using Actors.Monitoring;
using Actors.Protocol;
using Actors.State;
using Akka.Actor;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueEvents;

namespace Actors.Queues;

/// <summary>
/// Intake for one queue partition: checks each enqueued message (its idempotency key first, then the queue's limits,
/// counting what is accepted but not yet written, then its timing), gives it the next id, its enqueue time and its
/// absolute due time and expiry, and buffers it in the <see cref="GroupCommitWriter"/> with whom to answer. What it
/// refuses, and a replay of a key already stored, is answered at once.
/// <para>
/// Idempotency: a key the queue's state remembers (committed, within the window) answers with its message id when
/// the request's fingerprint matches, and <see cref="RejectionCode.IdempotencyKeyMismatch"/> when it does not. A key
/// whose first message is still buffered or being written is "in progress": another request gets
/// <see cref="RejectionCode.IdempotencyKeyInProgress"/>, and a later item of the same batch waits for the first one's
/// write and gets its id, marked replayed.
/// </para>
/// </summary>
internal sealed class QueueIntake
{
    private readonly string _queueId;
    private readonly TimeProvider _time;
    private readonly Func<string, bool>? _isDeclared;
    private readonly Dictionary<string, PendingKey> _pendingKeys = new(StringComparer.Ordinal);

    /// <summary>
    /// Intake for <paramref name="queueId"/>, stamping enqueue times from <paramref name="time"/>; a continuation must name
    /// a queue <paramref name="isDeclared"/> knows (any, when it is null).
    /// </summary>
    public QueueIntake(string queueId, TimeProvider time, Func<string, bool>? isDeclared = null)
    {
        _queueId = queueId;
        _time = time;
        _isDeclared = isDeclared;
    }

    /// <summary>The id given to the last accepted message; the next one gets one more.</summary>
    public long LastId { get; private set; }

    /// <summary>Idempotency keys whose first message is buffered or being written.</summary>
    public int PendingKeys => _pendingKeys.Count;

    /// <summary>Continues ids after <paramref name="lastId"/> (the recovered last id, or the partition's id base).</summary>
    public void ContinueAfter(long lastId) => LastId = lastId;

    /// <summary>
    /// Buffers <paramref name="command"/> for the next write; returns the answer to send at once (a refusal, or the
    /// first answer for a repeated idempotency key), or null when the answer waits for the write.
    /// </summary>
    public object? Enqueue(Enqueue command, IActorRef replyTo, QueueState state, GroupCommitWriter writer)
    {
        var outcome = Admit(command.Type, command.Payload, command.Headers, command.IdempotencyKey, command.Timing,
            new SingleReply(replyTo, command.CorrelationId) { Trace = WritePathBreakdown.Enabled ? WritePathBreakdown.Buffered(replyTo, command.CorrelationId) : null },
            batch: null, state, writer);
        return outcome switch
        {
            null => null,
            { MessageId: { } id } => new Accepted(_queueId, id, command.CorrelationId, Replayed: true),
            _ => new Rejected(_queueId, outcome.Code!.Value, outcome.Reason!, command.CorrelationId),
        };
    }

    /// <summary>
    /// Buffers the valid items of <paramref name="batch"/>; returns the result to send at once when every item was
    /// answered at once, or null when the answer (every item's outcome) waits for the write.
    /// </summary>
    public BatchResult? EnqueueBatch(EnqueueBatch batch, IActorRef replyTo, QueueState state, GroupCommitWriter writer)
    {
        var outcomes = new EnqueueOutcome[batch.Messages.Length];
        var reply = new BatchReply(replyTo, batch.CorrelationId, outcomes);
        // Counted up front so that no item answered from the write's callback sends the reply before all are buffered.
        reply.Remaining = batch.Messages.Length + 1;
        for (var i = 0; i < batch.Messages.Length; i++)
        {
            var m = batch.Messages[i];
            if (Admit(m.Type, m.Payload, m.Headers, m.IdempotencyKey, m.Timing, new BatchItemReply(reply, i), reply, state, writer) is { } now)
            {
                outcomes[i] = now;
                reply.Remaining--;
            }
        }
        reply.Remaining--;
        return reply.Remaining == 0 ? new BatchResult(_queueId, ImmutableArray.Create(outcomes), batch.CorrelationId) : null;
    }

    /// <summary>The answer to an enqueue while the queue shuts down.</summary>
    public Rejected ShuttingDown(Enqueue command) =>
        new(_queueId, RejectionCode.ShuttingDown, ShuttingDownReason, command.CorrelationId);

    /// <summary>The answer to a batch while the queue shuts down: every item refused.</summary>
    public BatchResult ShuttingDown(EnqueueBatch batch)
    {
        var outcomes = new EnqueueOutcome[batch.Messages.Length];
        Array.Fill(outcomes, new EnqueueOutcome(null, RejectionCode.ShuttingDown, ShuttingDownReason));
        return new BatchResult(_queueId, ImmutableArray.Create(outcomes), batch.CorrelationId);
    }

    /// <summary>An enqueue event committed: its keys are now the state's, and batch items waiting on them get the id.</summary>
    public void Committed(MessagesEnqueued enqueued)
    {
        if (_pendingKeys.Count == 0) return;
        foreach (var m in enqueued.Messages)
        {
            if (m.IdempotencyKey is not { } key || !_pendingKeys.Remove(key, out var pending)) continue;
            foreach (var follower in pending.Followers) follower.Accept(_queueId, m.Id, replayed: true);
        }
    }

    /// <summary>An enqueue event was not stored: its keys are free again, and batch items waiting on them are refused too.</summary>
    public void Released(MessagesEnqueued enqueued, string reason)
    {
        if (_pendingKeys.Count == 0) return;
        foreach (var m in enqueued.Messages)
        {
            if (m.IdempotencyKey is not { } key || !_pendingKeys.Remove(key, out var pending)) continue;
            foreach (var follower in pending.Followers) follower.Reject(_queueId, RejectionCode.JournalUnavailable, reason);
        }
    }

    /// <summary>The journal failed and the queue stops: everything waiting on a key is refused.</summary>
    public void FailAll(string reason)
    {
        foreach (var pending in _pendingKeys.Values)
            foreach (var follower in pending.Followers) follower.Reject(_queueId, RejectionCode.JournalUnavailable, reason);
        _pendingKeys.Clear();
    }

    private string ShuttingDownReason => $"Queue '{_queueId}' is shutting down and accepts no new work.";

    /// <summary>Admits one message: null when buffered (answered from the write), else the answer to give now.</summary>
    private EnqueueOutcome? Admit(string type, ReadOnlyMemory<byte> payload, ImmutableDictionary<string, string>? givenHeaders, string? key, MessageTiming? timing,
        IReplyTarget reply, BatchReply? batch, QueueState state, GroupCommitWriter writer)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        var headers = givenHeaders ?? ImmutableDictionary<string, string>.Empty;
        if (state.ValidateIdempotencyKey(key) is { } badKey) return Refused(badKey);
        ulong fingerprint = 0;
        if (key is not null)
        {
            fingerprint = IdempotencyIndex.FingerprintOf(type, payload, headers.GetValueOrDefault(Partitions.KeyHeader), timing);
            if (state.FindIdempotencyKey(key, now) is { } stored)
                return stored.Fingerprint == fingerprint
                    ? new EnqueueOutcome(stored.MessageId, null, null, Replayed: true)
                    : Refused((RejectionCode.IdempotencyKeyMismatch, Mismatch(key, stored.MessageId)));
            if (_pendingKeys.TryGetValue(key, out var pending))
            {
                if (pending.Fingerprint != fingerprint) return Refused((RejectionCode.IdempotencyKeyMismatch, Mismatch(key, pending.MessageId)));
                if (batch is null || !ReferenceEquals(pending.Batch, batch))
                    return Refused((RejectionCode.IdempotencyKeyInProgress, $"A request with idempotency key '{key}' is still being stored in queue '{_queueId}'; ask again shortly."));
                pending.Followers.Add(reply);
                return null;
            }
        }
        if (state.Validate(type, payload.Length, headers, writer.UnappliedEnqueues, writer.UnappliedEnqueueBytes) is { } rejection) return Refused(rejection);
        if (headers.Count > 0 && QueueState.ValidateContinuations(headers, _isDeclared) is { } badContinuation) return Refused(badContinuation);
        if (state.ResolveTiming(timing, now, out var dueAt, out var expiresAt) is { } badTiming) return Refused(badTiming);
        var id = ++LastId;
        if (key is not null) _pendingKeys[key] = new PendingKey(fingerprint, id, batch);
        writer.BufferMessage(new EnqueuedMessage(id, type, payload, headers, now, dueAt, expiresAt, key, fingerprint), reply);
        return null;
    }

    private string Mismatch(string key, long messageId) =>
        $"Idempotency key '{key}' was used for a different request (message {messageId}) within queue '{_queueId}''s de-duplication window.";

    private static EnqueueOutcome Refused((RejectionCode Code, string Reason) refusal) => new(null, refusal.Code, refusal.Reason);

    /// <summary>A key whose first message is not committed yet, and the batch items waiting on it.</summary>
    private sealed class PendingKey(ulong fingerprint, long messageId, BatchReply? batch)
    {
        public ulong Fingerprint { get; } = fingerprint;
        public long MessageId { get; } = messageId;
        public BatchReply? Batch { get; } = batch;
        public List<IReplyTarget> Followers { get; } = new();
    }
}

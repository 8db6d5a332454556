using System.Collections.Immutable;
using Actors.Protocol;
using Actors.State;
using Akka.Actor;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueEvents;

namespace Actors.Queues;

/// <summary>
/// Intake for one queue partition: validates each enqueued message against the queue's limits (counting what is
/// accepted but not yet written), gives it the next id and its enqueue time, and buffers it in the
/// <see cref="GroupCommitWriter"/> with whom to answer. What it refuses is answered at once.
/// </summary>
internal sealed class QueueIntake
{
    private readonly string _queueId;
    private readonly TimeProvider _time;

    /// <summary>Intake for <paramref name="queueId"/>, stamping enqueue times from <paramref name="time"/>.</summary>
    public QueueIntake(string queueId, TimeProvider time)
    {
        _queueId = queueId;
        _time = time;
    }

    /// <summary>The id given to the last accepted message; the next one gets one more.</summary>
    public long LastId { get; private set; }

    /// <summary>Continues ids after <paramref name="lastId"/> (the recovered last id, or the partition's id base).</summary>
    public void ContinueAfter(long lastId) => LastId = lastId;

    /// <summary>Buffers <paramref name="command"/> for the next write; returns the rejection to send at once, or null when the answer waits for the write.</summary>
    public Rejected? Enqueue(Enqueue command, IActorRef replyTo, QueueState state, GroupCommitWriter writer)
    {
        var headers = command.Headers ?? ImmutableDictionary<string, string>.Empty;
        if (state.Validate(command.Type, command.Payload.Length, headers, writer.UnappliedEnqueues) is { } rejection)
            return new Rejected(_queueId, rejection.Code, rejection.Reason, command.CorrelationId);
        Buffer(writer, command.Type, command.Payload, headers, new SingleReply(replyTo, command.CorrelationId));
        return null;
    }

    /// <summary>
    /// Buffers the valid items of <paramref name="batch"/>; returns the result to send at once when none was buffered,
    /// or null when the answer (every item's outcome) waits for the write.
    /// </summary>
    public BatchResult? EnqueueBatch(EnqueueBatch batch, IActorRef replyTo, QueueState state, GroupCommitWriter writer)
    {
        var outcomes = new EnqueueOutcome[batch.Messages.Length];
        var reply = new BatchReply(replyTo, batch.CorrelationId, outcomes);
        for (var i = 0; i < batch.Messages.Length; i++)
        {
            var message = batch.Messages[i];
            var headers = message.Headers ?? ImmutableDictionary<string, string>.Empty;
            if (state.Validate(message.Type, message.Payload.Length, headers, writer.UnappliedEnqueues) is { } rejection)
            {
                outcomes[i] = new EnqueueOutcome(null, rejection.Code, rejection.Reason);
                continue;
            }
            reply.Remaining++;
            Buffer(writer, message.Type, message.Payload, headers, new BatchItemReply(reply, i));
        }
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

    private string ShuttingDownReason => $"Queue '{_queueId}' is shutting down and accepts no new work.";

    private void Buffer(GroupCommitWriter writer, string type, ReadOnlyMemory<byte> payload, ImmutableDictionary<string, string> headers, IReplyTarget reply) =>
        writer.BufferMessage(new EnqueuedMessage(++LastId, type, payload, headers, _time.GetUtcNow().UtcDateTime), reply);
}

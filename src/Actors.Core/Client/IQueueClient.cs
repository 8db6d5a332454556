using System.Collections.Immutable;
using Actors.Protocol;
using Akka.Actor;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueQueries;

namespace Actors.Client;

/// <summary>
/// The in-process way to hand work to queues and look at them. Every method is safe to call concurrently.
/// Enqueue methods complete only after the message is durably stored.
/// </summary>
public interface IQueueClient
{
    /// <summary>Stores one message and returns its id.</summary>
    /// <param name="queue">The queue's name.</param>
    /// <param name="type">The message type name (selects the handler).</param>
    /// <param name="payload">The payload bytes (JSON for typed handlers).</param>
    /// <param name="headers">Optional headers.</param>
    /// <param name="cancellationToken">Stops waiting; the message may still be stored.</param>
    /// <exception cref="QueueException">Refused: see <see cref="QueueException.Code"/>.</exception>
    Task<long> EnqueueAsync(string queue, string type, ReadOnlyMemory<byte> payload, ImmutableDictionary<string, string>? headers = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores one message with its delivery options: an idempotency key (the same request again within the queue's
    /// window returns the first answer, <see cref="EnqueueResult.Replayed"/> true, and stores nothing), a delivery
    /// time or delay, an expiry or time to live.
    /// </summary>
    /// <param name="queue">The queue's name.</param>
    /// <param name="message">The message and its options.</param>
    /// <param name="cancellationToken">Stops waiting; the message may still be stored (retry with the same idempotency key).</param>
    /// <exception cref="QueueException">Refused: see <see cref="QueueException.Code"/> (e.g. <see cref="RejectionCode.IdempotencyKeyMismatch"/>).</exception>
    Task<EnqueueResult> EnqueueAsync(string queue, NewMessage message, CancellationToken cancellationToken = default);

    /// <summary>
    /// Cancels a message: a queued, scheduled or retry-waiting one never runs; an in-flight one has its handler's
    /// cancellation token fired wherever it runs and is not retried. The result says whether it was cancelled, not
    /// found, or already finished.
    /// </summary>
    /// <exception cref="QueueException">The queue is unknown or unavailable, or the cancellation could not be stored.</exception>
    Task<CancelResult> CancelAsync(string queue, long messageId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Answers a parked ordering key (the queue's <c>KeyFailure</c> is <c>Park</c>): <see cref="KeyOperation.Release"/>
    /// runs the parked message again ahead of the rest of its key, <see cref="KeyOperation.Skip"/> leaves it a dead letter
    /// and goes on with the key, <see cref="KeyOperation.Purge"/> deletes it and cancels the key's waiting messages.
    /// <see cref="KeyCommands.KeyChanged.Outcome"/> is <see cref="KeyChangeOutcome.NotParked"/> when the key is not parked.
    /// </summary>
    /// <exception cref="QueueException">The queue is unknown or unavailable, or the journal did not store the change.</exception>
    Task<KeyCommands.KeyChanged> ChangeKeyAsync(string queue, string key, KeyOperation operation, CancellationToken cancellationToken = default);

    /// <summary>
    /// Pauses a queue (every partition): it keeps accepting messages but starts no new deliveries; deliveries in flight
    /// finish, and scheduled messages that become due wait. The pause is stored in the queue's journal, so it survives a
    /// restart, until <see cref="ResumeAsync"/>. Pausing a paused queue changes nothing and answers its pause.
    /// </summary>
    /// <param name="queue">The queue's name.</param>
    /// <param name="reason">Why, shown with the queue's statistics; at most <see cref="PauseCommands.MaxReasonLength"/> characters.</param>
    /// <param name="requestedBy">Who pauses it, shown with the queue's statistics.</param>
    /// <param name="cancellationToken">Stops waiting; the pause may still be stored.</param>
    /// <returns>The queue's pause state once the pause is stored.</returns>
    /// <exception cref="QueueException">The queue is unknown or unavailable, or the journal did not store the pause.</exception>
    /// <exception cref="ArgumentException">The reason is longer than <see cref="PauseCommands.MaxReasonLength"/>.</exception>
    Task<PauseCommands.PauseState> PauseAsync(string queue, string? reason = null, string? requestedBy = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Resumes a paused queue: deliveries start again at once, waiting messages first in their usual order. Resuming a
    /// queue that is not paused changes nothing.
    /// </summary>
    /// <param name="queue">The queue's name.</param>
    /// <param name="requestedBy">Who resumes it (logged).</param>
    /// <param name="cancellationToken">Stops waiting; the resume may still be stored.</param>
    /// <returns>The queue's pause state (not paused) once the resume is stored.</returns>
    /// <exception cref="QueueException">The queue is unknown or unavailable, or the journal did not store the resume.</exception>
    Task<PauseCommands.PauseState> ResumeAsync(string queue, string? requestedBy = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// The message an idempotency key stored, while the queue remembers the key (its <c>DeduplicationWindow</c>):
    /// its id, when it was accepted, and its status as <see cref="GetMessageAsync"/> gives it (null once the queue no
    /// longer retains the message). Null when the queue does not remember the key.
    /// </summary>
    /// <exception cref="QueueException">The queue is unknown or unavailable.</exception>
    Task<IdempotencyKeyFound?> FindByIdempotencyKeyAsync(string queue, string idempotencyKey, CancellationToken cancellationToken = default);

    /// <summary>
    /// Declares a queue at run time, durably and for the whole cluster: once this returns, every node routes, lists and
    /// wakes it like a queue declared in configuration, and it survives restarts. A name that exists already (configured,
    /// or declared before) answers with <see cref="QueueDeclaration.Created"/> false and that queue's options; the options
    /// passed are then not compared with them. A queue declared at run time can be deleted (<see cref="DeleteQueueAsync"/>).
    /// </summary>
    /// <param name="queue">The queue's name (the rules of every queue name).</param>
    /// <param name="options">Its options; null for the node's <c>DeclaredQueueDefaults</c> (no in-process workers: only external consumers).</param>
    /// <param name="cancellationToken">Stops waiting; the declaration may still be stored.</param>
    /// <exception cref="QueueException">The name is invalid (<see cref="RejectionCode.InvalidQueueName"/>), or the registry did not answer.</exception>
    /// <exception cref="ArgumentException">An option is out of range; in a cluster also a <c>MaxPayloadBytes</c> larger than the nodes' remoting frame carries.</exception>
    Task<QueueDeclaration> DeclareQueueAsync(string queue, Configuration.QueueOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Serializes <paramref name="payload"/> to JSON, stores it and returns its id.</summary>
    /// <exception cref="QueueException">Refused: see <see cref="QueueException.Code"/>.</exception>
    Task<long> EnqueueJsonAsync<T>(string queue, string type, T payload, ImmutableDictionary<string, string>? headers = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores many messages at once; each is accepted or rejected on its own, in order. A batch of more than 4 MiB is
    /// sent in consecutive runs (so it fits Akka.Remote's frames in a cluster); when the queue cannot be reached midway,
    /// the runs before are stored: send the batch again with idempotency keys to store each message once.
    /// </summary>
    /// <exception cref="QueueException">The queue itself could not be reached (unknown, invalid name, timeout).</exception>
    Task<ImmutableArray<EnqueueOutcome>> EnqueueBatchAsync(string queue, IReadOnlyList<NewMessage> messages, CancellationToken cancellationToken = default);

    /// <summary>One message's status, attempts, errors and result; null when the queue does not hold it.</summary>
    /// <exception cref="QueueException">The queue is unknown or unavailable.</exception>
    Task<MessageInfo?> GetMessageAsync(string queue, long messageId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits until a message is final (succeeded, dead-lettered, discarded, expired or cancelled) and returns it as
    /// <see cref="GetMessageAsync"/> would, result included; when <paramref name="timeout"/> passes first, returns it
    /// with its status then (not final: see <see cref="OutcomeWaits.IsFinal"/>). The queue answers when the outcome is
    /// stored, nothing polls. A wait is at most the client's request timeout. Null when the queue does not hold the message.
    /// </summary>
    /// <param name="queue">The queue's name.</param>
    /// <param name="messageId">The message.</param>
    /// <param name="timeout">Longest wait (capped at the request timeout); zero reads the status at once.</param>
    /// <param name="cancellationToken">Stops waiting; the queue forgets the waiter.</param>
    /// <exception cref="QueueException">
    /// The queue is unknown or unavailable, or already has its <c>MaxWaiters</c> callers waiting (<see cref="RejectionCode.TooManyWaiters"/>).
    /// </exception>
    Task<MessageInfo?> WaitAsync(string queue, long messageId, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>A queue's statistics.</summary>
    /// <exception cref="QueueException">The queue is unknown or unavailable.</exception>
    Task<QueueStats> GetStatsAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>The statistics of every declared queue, by name.</summary>
    Task<IReadOnlyList<QueueStats>> ListQueuesAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Whether the queue partitions this node hosts have recovered and answer (every queue on a standalone node; in a
    /// cluster only this node's, so a failover elsewhere does not make this node unready), and its membership status.
    /// </summary>
    Task<LocalQueuesStatus> CheckLocalQueuesAsync(CancellationToken cancellationToken = default);

    /// <summary>The cluster's members, where each queue lives and where its workers run (one node on a standalone node).</summary>
    Task<ClusterStatus> GetClusterStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>A page of dead letters matching <paramref name="filter"/>, in id order after <paramref name="afterId"/> (at most 1,000).</summary>
    Task<DeadLetterCommands.DeadLetterPage> ListDeadLettersAsync(string queue, DeadLetterCommands.DeadLetterFilter? filter = null, long afterId = 0, int limit = 100, CancellationToken cancellationToken = default);

    /// <summary>Dead letters grouped by failure fingerprint, largest group first.</summary>
    Task<ImmutableArray<DeadLetterCommands.DeadLetterGroup>> GroupDeadLettersAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves matching dead letters back to the ready set with a fresh attempt count; returns how many were selected.
    /// A selection of at most one chunk per partition (<c>RedrivePerSecond</c> / 10) is back in the ready set when this
    /// returns; a larger one is a persisted redrive job that runs at the queue's redrive rate, resumes after a restart
    /// and is stored when this returns (see <see cref="StartRedriveAsync"/> for its id and progress). Throws
    /// <see cref="QueueException"/> with <see cref="RejectionCode.JournalUnavailable"/> when the journal does not store
    /// the redrive or the job (nothing changed; redrive again).
    /// </summary>
    Task<int> RedriveDeadLettersAsync(string queue, DeadLetterCommands.DeadLetterFilter? filter = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Like <see cref="RedriveDeadLettersAsync"/>, answering with how many went back at once
    /// (<see cref="DeadLetterCommands.DeadLettersRedriven.Count"/>) and the redrive jobs started for the rest
    /// (<see cref="DeadLetterCommands.DeadLettersRedriven.Jobs"/>, one per partition, all with the same job id).
    /// <paramref name="requestedBy"/> is recorded with the job.
    /// </summary>
    Task<DeadLetterCommands.DeadLettersRedriven> StartRedriveAsync(string queue, DeadLetterCommands.DeadLetterFilter? filter = null, string? requestedBy = null, CancellationToken cancellationToken = default);

    /// <summary>The queue's active redrive jobs with their progress, oldest first (a finished or cancelled job is no longer listed).</summary>
    Task<ImmutableArray<RedriveJobs.RedriveJobStatus>> ListRedriveJobsAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>
    /// Cancels a redrive job in every partition it runs in (persisted): what it has not redriven stays dead-lettered.
    /// <see cref="RedriveJobs.RedriveJobCancelResult.Cancelled"/> is false when no such job is active.
    /// </summary>
    Task<RedriveJobs.RedriveJobCancelResult> CancelRedriveJobAsync(string queue, string jobId, string? requestedBy = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes matching dead letters for good; returns how many. Throws <see cref="QueueException"/> with
    /// <see cref="RejectionCode.JournalUnavailable"/> when the journal does not store the purge.
    /// </summary>
    Task<int> PurgeDeadLettersAsync(string queue, DeadLetterCommands.DeadLetterFilter? filter = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Purges a queue: drops every message waiting for delivery (ready, delayed, or waiting for a retry) in one journal
    /// event per partition, and returns how many (every partition, summed). Messages in flight (leased to a worker or
    /// consumer) and dead letters are not touched. A purged message ends as a cancelled one: its status is
    /// <c>cancelled</c>, and its idempotency key answers with its id for the key's window.
    /// </summary>
    /// <exception cref="QueueException">
    /// <see cref="RejectionCode.UnknownQueue"/>; <see cref="RejectionCode.JournalUnavailable"/> when the journal does not
    /// store the purge (nothing purged in that partition; purge again).
    /// </exception>
    Task<int> PurgeQueueAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes a queue declared at run time: the queue registry records the removal, the queue's consumers are told
    /// (<see cref="ConsumerProtocol.ConsumerCancelled"/>), its in-process workers stop, its journal and snapshots are
    /// deleted, and from then on it is unknown on every node; declaring it again starts it empty. Returns the number
    /// of messages it held (ready, in flight and scheduled).
    /// </summary>
    /// <param name="queue">The queue's name.</param>
    /// <param name="ifUnused">Refuse when consumers are attached.</param>
    /// <param name="ifEmpty">Refuse when the queue holds messages.</param>
    /// <param name="cancellationToken">Stops waiting; the delete may still complete.</param>
    /// <exception cref="QueueException">
    /// <see cref="RejectionCode.UnknownQueue"/>; <see cref="RejectionCode.DeleteRefused"/> for a queue from configuration,
    /// or one refused by <paramref name="ifUnused"/> or <paramref name="ifEmpty"/> (nothing changed);
    /// <see cref="RejectionCode.JournalUnavailable"/> when the registry or the queue did not answer.
    /// </exception>
    Task<int> DeleteQueueAsync(string queue, bool ifUnused = false, bool ifEmpty = false, CancellationToken cancellationToken = default);

    /// <summary>
    /// Attaches <paramref name="consumer"/> to a queue as an external consumer (see <see cref="ConsumerProtocol"/>): from
    /// now on the queue sends it <see cref="WorkerProtocol.Deliver"/> messages, at most <paramref name="prefetch"/>
    /// unfinished at once, and it answers each with <see cref="WorkerProtocol.Completed"/> or
    /// <see cref="WorkerProtocol.Failed"/> to the delivery's sender. A queue with partitions attaches it to every
    /// partition, each with the prefetch divided by the partition count (rounded up, at least 1); the answer sums their
    /// ready messages. Attaching the same consumer again changes its prefetch. When attaching fails for any reason but an
    /// unknown queue, a detach is sent, so no partition keeps a consumer its caller believes unattached.
    /// </summary>
    /// <param name="queue">The queue's name.</param>
    /// <param name="consumer">The actor that takes deliveries.</param>
    /// <param name="prefetch">Most unfinished deliveries at once, 1–<see cref="ConsumerProtocol.MaxPrefetch"/>; 0 for unlimited (<see cref="ConsumerProtocol.MaxPrefetch"/>).</param>
    /// <param name="cancellationToken">Stops waiting for the answer.</param>
    /// <exception cref="QueueException">
    /// <see cref="RejectionCode.UnknownQueue"/> for a queue that does not exist; <see cref="RejectionCode.JournalUnavailable"/>
    /// when it cannot answer now.
    /// </exception>
    Task<ConsumerProtocol.Attached> AttachConsumerAsync(string queue, IActorRef consumer, int prefetch, CancellationToken cancellationToken = default);

    /// <summary>
    /// Detaches <paramref name="consumer"/> from a queue (from every partition): what it still holds goes back to the queue
    /// at once, as not started (see <see cref="ConsumerProtocol.Detach"/>). Completes also when it was not attached.
    /// </summary>
    /// <param name="queue">The queue's name.</param>
    /// <param name="consumer">The consumer to detach.</param>
    /// <param name="cancellationToken">Stops waiting for the answer.</param>
    /// <exception cref="QueueException">As <see cref="AttachConsumerAsync"/>.</exception>
    Task DetachConsumerAsync(string queue, IActorRef consumer, CancellationToken cancellationToken = default);
}

/// <summary>What an enqueue stored: the message's id, and whether an earlier request with the same idempotency key stored it.</summary>
/// <param name="MessageId">The message's id.</param>
/// <param name="Replayed">True when this request stored nothing because an earlier one with the same key did.</param>
public sealed record EnqueueResult(long MessageId, bool Replayed);

/// <summary>A queue refused a request. <see cref="Code"/> says why; the message is human-readable.</summary>
public sealed class QueueException : Exception
{
    /// <summary>Creates the exception.</summary>
    public QueueException(RejectionCode code, string message) : base(message) => Code = code;

    /// <summary>Creates the exception.</summary>
    public QueueException(RejectionCode code, string message, Exception innerException) : base(message, innerException) => Code = code;

    /// <summary>Creates an exception with code <see cref="RejectionCode.JournalUnavailable"/>.</summary>
    public QueueException() : this(RejectionCode.JournalUnavailable, "The queue is unavailable.") { }

    /// <summary>Creates an exception with code <see cref="RejectionCode.JournalUnavailable"/>.</summary>
    public QueueException(string message) : this(RejectionCode.JournalUnavailable, message) { }

    /// <summary>Creates an exception with code <see cref="RejectionCode.JournalUnavailable"/>.</summary>
    public QueueException(string message, Exception innerException) : this(RejectionCode.JournalUnavailable, message, innerException) { }

    /// <summary>Why the request was refused.</summary>
    public RejectionCode Code { get; }
}

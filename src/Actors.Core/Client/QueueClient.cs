using System.Diagnostics;
using Actors.Monitoring;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text.Json;
using Actors.Handlers;
using Actors.Protocol;
using Akka.Actor;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueQueries;

namespace Actors.Client;

/// <summary>
/// <see cref="IQueueClient"/> over a node's queue manager. Enqueue replies come back to one long-lived reply reference
/// that completes the waiting task by correlation id (see QueueClient.Requests.cs): no temporary actor per message,
/// as an Ask would create. Queries use Ask with the request timeout.
/// </summary>
public sealed partial class QueueClient : IQueueClient
{
    /// <summary>How long a wait pauses before it asks again when the queue was unavailable.</summary>
    private static readonly TimeSpan WaitAgainAfter = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// In a cluster, how long an enqueue refused with <see cref="RejectionCode.ShuttingDown"/> is sent again: that
    /// refusal means nothing was stored, and in a cluster it comes from a queue handing over to another node (a member
    /// leaving, a rebalance), which takes the message once the hand-off is done, so the producer never sees it.
    /// </summary>
    internal static readonly TimeSpan MovingQueueRetryWindow = TimeSpan.FromSeconds(10);

    /// <summary>The pause before each such enqueue is sent again.</summary>
    private static readonly TimeSpan MovingQueueRetryInterval = TimeSpan.FromMilliseconds(100);

    private readonly ActorSystem _system;
    private readonly IActorRef _manager;
    private readonly IActorRef _replies;
    private readonly TimeSpan _timeout;
    private readonly ConcurrentDictionary<long, PendingRequest> _pending = new();
    private readonly bool _resendWhenMoving;
    private long _nextCorrelation;

    /// <summary>Creates a client for the queues managed by <paramref name="manager"/>.</summary>
    /// <param name="system">The actor system hosting the reply actor.</param>
    /// <param name="manager">The queue manager (or anything that routes <see cref="IWithQueueId"/> messages to queues).</param>
    /// <param name="timeout">How long a request may wait for its answer.</param>
    public QueueClient(ActorSystem system, IActorRef manager, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(system);
        _system = system;
        _manager = manager;
        _timeout = timeout;
        _resendWhenMoving = system is ExtendedActorSystem { Provider: Akka.Cluster.ClusterActorRefProvider };
        var provider = ((ExtendedActorSystem)system).Provider;
        var sink = new ReplySink(this, provider, provider.TempPath());
        provider.RegisterTempActor(sink, sink.Path);
        _replies = sink;
        system.ActorOf(Props.Create(() => new OverdueSweeper(this)), "queue-client-" + Guid.NewGuid().ToString("N")[..8]);
    }

    /// <inheritdoc />
    public async Task<long> EnqueueAsync(string queue, string type, ReadOnlyMemory<byte> payload, ImmutableDictionary<string, string>? headers = null, CancellationToken cancellationToken = default) =>
        await Send(queue, type, payload, headers, null, null, cancellationToken).ConfigureAwait(false) switch
        {
            Accepted accepted => accepted.MessageId,
            var reply => throw Refusal(reply),
        };

    /// <inheritdoc />
    public async Task<EnqueueResult> EnqueueAsync(string queue, NewMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return await Send(queue, message.Type, message.Payload, message.Headers, message.IdempotencyKey, message.Timing, cancellationToken).ConfigureAwait(false) switch
        {
            Accepted accepted => new EnqueueResult(accepted.MessageId, accepted.Replayed),
            var reply => throw Refusal(reply),
        };
    }

    /// <summary>Tells the manager an <see cref="Enqueue"/> with a fresh correlation id and returns the task its reply completes.</summary>
    private Task<object> Send(string queue, string type, ReadOnlyMemory<byte> payload, ImmutableDictionary<string, string>? headers, string? idempotencyKey,
        MessageTiming? timing, CancellationToken cancellationToken)
    {
        ValidateQueueName(queue);
        if (ActorsTelemetry.Source.HasListeners())
            return SendObserved(queue, type, payload, headers, idempotencyKey, timing, cancellationToken);
        var request = Register(cancellationToken, out var correlation);
        // Metrics without traces: the round trip is timed here and recorded when the answer comes (see Complete).
        if (ActorsTelemetry.OperationDuration.Enabled) request.Time(queue);
        if (WritePathBreakdown.Enabled) WritePathBreakdown.Sent(_replies, correlation);
        Dispatch(request, new Enqueue(queue, type, payload, headers, correlation, idempotencyKey, timing));
        return request.Task;
    }

    /// <summary>
    /// <see cref="Send"/> inside a producer span whose trace context goes with the message, timing the round trip. An
    /// async method, so the span is current only within it, never in the caller's context after it returns.
    /// </summary>
    private async Task<object> SendObserved(string queue, string type, ReadOnlyMemory<byte> payload, ImmutableDictionary<string, string>? headers,
        string? idempotencyKey, MessageTiming? timing, CancellationToken cancellationToken)
    {
        var startedAt = Stopwatch.GetTimestamp();
        var activity = ActorsTelemetry.StartSend(queue);
        object reply;
        try
        {
            var request = Register(cancellationToken, out var correlation);
            if (WritePathBreakdown.Enabled) WritePathBreakdown.Sent(_replies, correlation);
            Dispatch(request, new Enqueue(queue, type, payload, ActorsTelemetry.WithTraceContext(headers, activity), correlation, idempotencyKey, timing));
            reply = await request.Task.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            ActorsTelemetry.EndSend(activity, queue, startedAt, e);
            throw;
        }
        ActorsTelemetry.EndSend(activity, queue, startedAt, reply);
        return reply;
    }

    private static Exception Refusal(object reply) => reply is Rejected rejected
        ? new QueueException(rejected.Code, rejected.Reason)
        : new InvalidOperationException($"Unexpected reply {reply.GetType().Name}.");

    /// <inheritdoc />
    public async Task<CancelResult> CancelAsync(string queue, long messageId, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        var reply = await AskAsync(new CancelMessage(queue, messageId), cancellationToken).ConfigureAwait(false);
        return reply switch
        {
            CancelResult { Outcome: CancelOutcome.JournalUnavailable } => throw new QueueException(RejectionCode.JournalUnavailable, $"Queue '{queue}' could not store the cancellation of message {messageId}; nothing changed."),
            CancelResult result => result,
            _ => throw Unexpected(reply),
        };
    }

    /// <inheritdoc />
    public async Task<KeyCommands.KeyChanged> ChangeKeyAsync(string queue, string key, KeyOperation operation, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        ArgumentException.ThrowIfNullOrEmpty(key);
        var reply = await AskAsync(new KeyCommands.ChangeKey(queue, key, operation), cancellationToken).ConfigureAwait(false);
        return reply switch
        {
            KeyCommands.KeyChanged { Outcome: KeyChangeOutcome.JournalUnavailable } => throw new QueueException(RejectionCode.JournalUnavailable,
                $"Queue '{queue}' could not store the {operation.ToString().ToLowerInvariant()} of key '{key}'; nothing changed."),
            KeyCommands.KeyChanged changed => changed,
            _ => throw Unexpected(reply),
        };
    }

    /// <inheritdoc />
    public async Task<PauseCommands.PauseState> PauseAsync(string queue, string? reason = null, string? requestedBy = null, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        if (reason is { Length: > PauseCommands.MaxReasonLength })
            throw new ArgumentException($"A pause reason must be at most {PauseCommands.MaxReasonLength} characters; got {reason.Length}.", nameof(reason));
        var reply = await AskAsync(new PauseCommands.Pause(queue, reason, requestedBy), cancellationToken).ConfigureAwait(false);
        return reply as PauseCommands.PauseState ?? throw Unexpected(reply);
    }

    /// <inheritdoc />
    public async Task<PauseCommands.PauseState> ResumeAsync(string queue, string? requestedBy = null, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        var reply = await AskAsync(new PauseCommands.Resume(queue, requestedBy), cancellationToken).ConfigureAwait(false);
        return reply as PauseCommands.PauseState ?? throw Unexpected(reply);
    }

    /// <inheritdoc />
    public async Task<IdempotencyKeyFound?> FindByIdempotencyKeyAsync(string queue, string idempotencyKey, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        ArgumentException.ThrowIfNullOrEmpty(idempotencyKey);
        var reply = await AskAsync(new FindByIdempotencyKey(queue, idempotencyKey), cancellationToken).ConfigureAwait(false);
        return reply switch
        {
            // The queue's own answer leaves out a payload that is only in the journal; the status query reads it back.
            IdempotencyKeyFound found => found with { Message = await GetMessageAsync(queue, found.MessageId, cancellationToken).ConfigureAwait(false) },
            IdempotencyKeyNotFound => null,
            _ => throw Unexpected(reply),
        };
    }

    /// <inheritdoc />
    public Task<long> EnqueueJsonAsync<T>(string queue, string type, T payload, ImmutableDictionary<string, string>? headers = null, CancellationToken cancellationToken = default) =>
        EnqueueAsync(queue, type, JsonSerializer.SerializeToUtf8Bytes(payload, HandlerRegistry.JsonOptions), headers, cancellationToken);

    /// <inheritdoc />
    public async Task<ImmutableArray<EnqueueOutcome>> EnqueueBatchAsync(string queue, IReadOnlyList<NewMessage> messages, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0) return ImmutableArray<EnqueueOutcome>.Empty;
        var outcomes = ImmutableArray.CreateBuilder<EnqueueOutcome>(messages.Count);
        foreach (var (start, count) in BatchChunks.Runs(messages))
        {
            var reply = await SendBatch(queue, messages.Skip(start).Take(count), count, cancellationToken).ConfigureAwait(false);
            outcomes.AddRange(reply is BatchResult result ? result.Outcomes : throw new InvalidOperationException($"Unexpected reply {reply.GetType().Name}."));
        }
        return outcomes.MoveToImmutable();
    }

    /// <summary>Sends one run of a batch, inside a producer span of its own when anybody listens.</summary>
    private async Task<object> SendBatch(string queue, IEnumerable<NewMessage> messages, int count, CancellationToken cancellationToken)
    {
        var observed = ActorsTelemetry.Source.HasListeners() || ActorsTelemetry.OperationDuration.Enabled;
        var startedAt = observed ? Stopwatch.GetTimestamp() : 0;
        var activity = observed ? ActorsTelemetry.StartSend(queue, count) : null;
        if (ActorsTelemetry.Source.HasListeners()) messages = messages.Select(m => m with { Headers = ActorsTelemetry.WithTraceContext(m.Headers, activity) });
        object reply;
        try
        {
            var request = Register(cancellationToken, out var correlation);
            Dispatch(request, new EnqueueBatch(queue, ImmutableArray.CreateRange(messages), correlation));
            reply = await request.Task.ConfigureAwait(false);
        }
        catch (Exception e) when (observed)
        {
            ActorsTelemetry.EndSend(activity, queue, startedAt, e);
            throw;
        }
        if (observed) ActorsTelemetry.EndSend(activity, queue, startedAt, reply);
        return reply;
    }

    /// <inheritdoc />
    public async Task<MessageInfo?> GetMessageAsync(string queue, long messageId, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        var reply = await AskAsync(new GetMessage(queue, messageId), cancellationToken).ConfigureAwait(false);
        return reply switch
        {
            MessageInfo info => info,
            MessageNotFound => null,
            _ => throw Unexpected(reply),
        };
    }

    /// <inheritdoc />
    public async Task<MessageInfo?> WaitAsync(string queue, long messageId, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        var deadline = Environment.TickCount64 + (long)(timeout < _timeout ? timeout : _timeout).TotalMilliseconds;
        // Names this wait among every node's waiters of the message, so a cancelled one can be forgotten.
        var correlation = Random.Shared.NextInt64(1, long.MaxValue);
        using var stop = cancellationToken.Register(() => _manager.Tell(new OutcomeWaits.StopWaiting(queue, messageId, correlation)));
        while (true)
        {
            var remaining = TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64));
            // The queue answers at the deadline itself; the ask's own timeout only covers a queue that cannot answer.
            var reply = await AskAsync(new OutcomeWaits.WaitForOutcome(queue, messageId, remaining, correlation), cancellationToken, remaining + _timeout).ConfigureAwait(false);
            switch (reply)
            {
                case MessageInfo info:
                    return info;
                case MessageNotFound:
                    return null;
                case Rejected rejected:
                    throw new QueueException(rejected.Code, rejected.Reason);
                case QueueUnavailable when remaining > WaitAgainAfter:
                    // The queue stopped (restart, hand-over to another node): wait again at its next incarnation.
                    await Task.Delay(WaitAgainAfter, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    throw Unexpected(reply);
            }
        }
    }

    /// <inheritdoc />
    public async Task<ConsumerProtocol.Attached> AttachConsumerAsync(string queue, IActorRef consumer, int prefetch, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        ArgumentNullException.ThrowIfNull(consumer);
        ArgumentOutOfRangeException.ThrowIfNegative(prefetch);
        try
        {
            var reply = await AskAsync(new ConsumerProtocol.Attach(queue, consumer, prefetch), cancellationToken).ConfigureAwait(false);
            return reply as ConsumerProtocol.Attached ?? throw Unexpected(reply);
        }
        catch (Exception e) when (e is not QueueException { Code: RejectionCode.UnknownQueue })
        {
            // Some partitions may have attached it (or the answer was lost): leave none holding a consumer the caller gave up on.
            _manager.Tell(new ConsumerProtocol.Detach(queue, consumer), ActorRefs.NoSender);
            throw;
        }
    }

    /// <inheritdoc />
    public async Task DetachConsumerAsync(string queue, IActorRef consumer, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        ArgumentNullException.ThrowIfNull(consumer);
        var reply = await AskAsync(new ConsumerProtocol.Detach(queue, consumer), cancellationToken).ConfigureAwait(false);
        if (reply is not ConsumerProtocol.Detached) throw Unexpected(reply);
    }

    /// <inheritdoc />
    public async Task<QueueStats> GetStatsAsync(string queue, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        var reply = await AskAsync(new GetStats(queue), cancellationToken).ConfigureAwait(false);
        return reply as QueueStats ?? throw Unexpected(reply);
    }

    /// <inheritdoc />
    public async Task<QueueDeclaration> DeclareQueueAsync(string queue, Configuration.QueueOptions? options = null, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        options?.Validate(queue);
        var reply = await AskAsync(new QueueRegistryProtocol.Declare(queue, options), cancellationToken).ConfigureAwait(false);
        return reply switch
        {
            QueueDeclaration declared => declared,
            // The manager refuses what the registry must never store (an invalid name, a payload limit the cluster cannot carry).
            Status.Failure { Cause: { } cause } => throw cause,
            _ => throw Unexpected(reply),
        };
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<QueueStats>> ListQueuesAsync(CancellationToken cancellationToken = default)
    {
        var names = (QueueNames)await AskAsync(ListQueues.Instance, cancellationToken).ConfigureAwait(false);
        var stats = await Task.WhenAll(names.Names.Select(name => GetStatsAsync(name, cancellationToken))).ConfigureAwait(false);
        return stats;
    }

    /// <inheritdoc />
    public async Task<LocalQueuesStatus> CheckLocalQueuesAsync(CancellationToken cancellationToken = default) =>
        (LocalQueuesStatus)await AskAsync(CheckLocalQueues.Instance, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<ClusterStatus> GetClusterStatusAsync(CancellationToken cancellationToken = default)
    {
        var names = (QueueNames)await AskAsync(ListQueues.Instance, cancellationToken).ConfigureAwait(false);
        var replies = await Task.WhenAll(names.Names.Select(async name =>
        {
            try
            {
                return (name, await AskAsync(new GetPlacement(name), cancellationToken).ConfigureAwait(false));
            }
            catch (QueueException e)
            {
                return (name, (object)new QueueUnavailable(name, e.Message));
            }
        })).ConfigureAwait(false);
        var placed = replies.Select(r => r.Item2).OfType<QueuePlacement>().ToImmutableArray();
        var unplaced = replies.Where(r => r.Item2 is not QueuePlacement)
            .ToImmutableSortedDictionary(r => r.name, r => (r.Item2 as QueueUnavailable)?.Reason ?? r.Item2.GetType().Name, StringComparer.Ordinal);

        var provider = ((ExtendedActorSystem)_system).Provider;
        if (provider is not Akka.Cluster.ClusterActorRefProvider)
        {
            var address = provider.DefaultAddress.ToString();
            return new ClusterStatus("standalone", address, address, [new ClusterMember(address, "Up", [], true)], placed, unplaced);
        }
        var cluster = Akka.Cluster.Cluster.Get(_system);
        var state = cluster.State;
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        var members = state.Members.Select(m => new ClusterMember(m.Address.ToString(), m.Status.ToString(), m.Roles.Order(StringComparer.Ordinal).ToImmutableArray(), !unreachable.Contains(m.Address)))
            .ToImmutableArray();
        return new ClusterStatus("cluster", cluster.SelfAddress.ToString(), state.Leader?.ToString(), members, placed, unplaced);
    }

    /// <inheritdoc />
    public async Task<DeadLetterCommands.DeadLetterPage> ListDeadLettersAsync(string queue, DeadLetterCommands.DeadLetterFilter? filter = null, long afterId = 0, int limit = 100, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        var reply = await AskAsync(new DeadLetterCommands.ListDeadLetters(queue, filter ?? DeadLetterCommands.DeadLetterFilter.All, afterId, limit), cancellationToken).ConfigureAwait(false);
        return reply as DeadLetterCommands.DeadLetterPage ?? throw Unexpected(reply);
    }

    /// <inheritdoc />
    public async Task<ImmutableArray<DeadLetterCommands.DeadLetterGroup>> GroupDeadLettersAsync(string queue, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        var reply = await AskAsync(new DeadLetterCommands.GroupDeadLetters(queue), cancellationToken).ConfigureAwait(false);
        return (reply as DeadLetterCommands.DeadLetterGroups ?? throw Unexpected(reply)).Groups;
    }

    /// <inheritdoc />
    public async Task<int> RedriveDeadLettersAsync(string queue, DeadLetterCommands.DeadLetterFilter? filter = null, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        // A large redrive runs at the queue's redrive rate; wait as long as the request asks (the token), not only the default timeout.
        return (await StartRedriveAsync(queue, filter, null, cancellationToken).ConfigureAwait(false)).Selected;
    }

    /// <inheritdoc />
    public async Task<DeadLetterCommands.DeadLettersRedriven> StartRedriveAsync(string queue, DeadLetterCommands.DeadLetterFilter? filter = null, string? requestedBy = null, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        // One job id for every partition, so the job is listed and cancelled as one.
        var command = new DeadLetterCommands.RedriveDeadLetters(queue, filter ?? DeadLetterCommands.DeadLetterFilter.All, RedriveJobs.NewJobId(), requestedBy);
        var reply = await AskAsync(command, cancellationToken, Timeout.InfiniteTimeSpan).ConfigureAwait(false);
        return reply as DeadLetterCommands.DeadLettersRedriven ?? throw Unexpected(reply);
    }

    /// <inheritdoc />
    public async Task<ImmutableArray<RedriveJobs.RedriveJobStatus>> ListRedriveJobsAsync(string queue, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        var reply = await AskAsync(new RedriveJobs.ListRedriveJobs(queue), cancellationToken).ConfigureAwait(false);
        return (reply as RedriveJobs.RedriveJobList ?? throw Unexpected(reply)).Jobs;
    }

    /// <inheritdoc />
    public async Task<RedriveJobs.RedriveJobCancelResult> CancelRedriveJobAsync(string queue, string jobId, string? requestedBy = null, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        var reply = await AskAsync(new RedriveJobs.CancelRedriveJob(queue, jobId, requestedBy), cancellationToken).ConfigureAwait(false);
        return reply as RedriveJobs.RedriveJobCancelResult ?? throw Unexpected(reply);
    }

    /// <inheritdoc />
    public async Task<int> PurgeDeadLettersAsync(string queue, DeadLetterCommands.DeadLetterFilter? filter = null, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        var reply = await AskAsync(new DeadLetterCommands.PurgeDeadLetters(queue, filter ?? DeadLetterCommands.DeadLetterFilter.All), cancellationToken).ConfigureAwait(false);
        return (reply as DeadLetterCommands.DeadLettersPurged ?? throw Unexpected(reply)).Count;
    }

    /// <inheritdoc />
    public async Task<int> PurgeQueueAsync(string queue, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        var reply = await AskAsync(new QueueLifecycle.Purge(queue), cancellationToken).ConfigureAwait(false);
        return (reply as QueueLifecycle.Purged ?? throw Unexpected(reply)).Count;
    }

    /// <inheritdoc />
    public async Task<int> DeleteQueueAsync(string queue, bool ifUnused = false, bool ifEmpty = false, CancellationToken cancellationToken = default)
    {
        ValidateQueueName(queue);
        var reply = await AskAsync(new QueueLifecycle.Delete(queue, ifUnused, ifEmpty), cancellationToken).ConfigureAwait(false);
        return reply switch
        {
            QueueLifecycle.Deleted deleted => deleted.MessageCount,
            QueueLifecycle.DeleteRefused refused => throw new QueueException(RejectionCode.DeleteRefused, refused.Reason),
            _ => throw Unexpected(reply),
        };
    }

    private static void ValidateQueueName(string queue)
    {
        if (!Names.IsValidQueueName(queue))
            throw new QueueException(RejectionCode.InvalidQueueName, $"Queue name '{queue}' is invalid: {Names.QueueNameRule}.");
    }

    private async Task<object> AskAsync(object message, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        try
        {
            // Without a token that can fire, an infinite wait falls back to the request timeout.
            var wait = timeout == Timeout.InfiniteTimeSpan && !cancellationToken.CanBeCanceled ? _timeout : timeout ?? _timeout;
            return await _manager.Ask<object>(message, wait == Timeout.InfiniteTimeSpan ? null : wait, cancellationToken).ConfigureAwait(false);
        }
        catch (AskTimeoutException e)
        {
            throw new QueueException(RejectionCode.JournalUnavailable, $"The queue did not answer within {_timeout}.", e);
        }
    }

    private static QueueException Unexpected(object reply) => reply switch
    {
        QueueNotFound nf => new QueueException(RejectionCode.UnknownQueue, $"Queue '{nf.QueueId}' does not exist."),
        QueueUnavailable u => new QueueException(RejectionCode.JournalUnavailable, u.Reason),
        _ => new QueueException(RejectionCode.JournalUnavailable, $"Unexpected reply {reply.GetType().Name}."),
    };
}

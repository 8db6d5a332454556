using System.Collections.Immutable;
using Actors.Client;
using Actors.Protocol;
using Actors.Schedules;
using Akka.Actor;
using Akka.Hosting;
using static Actors.Protocol.QueueCommands;
using static Actors.Protocol.QueueQueries;

namespace Actors.Hosting;

/// <summary>
/// Finds a manager in the <see cref="ActorRegistry"/> on first use instead of at construction, so a client can be
/// injected into anything, hosted services included, before the actor system has started (nothing of Akka is
/// resolved until then); a call made before then waits for the registration (at most the client's timeout).
/// </summary>
internal sealed class RegistryLookup<TKey, TClient>(IServiceProvider services, TimeSpan timeout, Func<IActorRef, TClient> create)
    where TClient : class
{
    private readonly Lazy<Task<TClient>> _client = new(async () =>
        create(await FindAsync((ActorRegistry)services.GetService(typeof(ActorRegistry))!).ConfigureAwait(false)));

    // The registry's own wait can miss a registration made while the wait is being set up (seen when a hosted
    // service asks while the actor system starts): look again every 100 ms as well.
    private static async Task<IActorRef> FindAsync(ActorRegistry registry)
    {
        var registered = registry.GetAsync<TKey>();
        while (true)
        {
            if (registry.TryGet<TKey>(out var actor)) return actor;
            if (await Task.WhenAny(registered, Task.Delay(100)).ConfigureAwait(false) == registered) return await registered.ConfigureAwait(false);
        }
    }

    /// <summary>The client once the manager is known, else null (then <see cref="WaitAsync"/>).</summary>
    public TClient? Ready => _client.IsValueCreated && _client.Value.IsCompletedSuccessfully ? _client.Value.Result : null;

    /// <summary>The client, once the manager is registered.</summary>
    public async Task<TClient> WaitAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _client.Value.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new QueueException(RejectionCode.JournalUnavailable,
                $"The durable queues have not started within {timeout} ({typeof(TKey).Name} is not in the actor registry yet).", e);
        }
    }
}

/// <summary>An <see cref="IQueueClient"/> over the <see cref="DurableQueueManager"/>, found on first use.</summary>
internal sealed class RegistryQueueClient(IServiceProvider services, TimeSpan timeout) : IQueueClient
{
    private readonly RegistryLookup<DurableQueueManager, IQueueClient> _lookup = new(services, timeout,
        manager => new QueueClient((ActorSystem)services.GetService(typeof(ActorSystem))!, manager, timeout));

    private async Task<T> Later<T>(Func<IQueueClient, Task<T>> call, CancellationToken cancellationToken) =>
        await call(await _lookup.WaitAsync(cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);

    // Enqueues are the hot path: once the manager is known they go straight through, with no extra step or allocation.

    /// <inheritdoc />
    public Task<long> EnqueueAsync(string queue, string type, ReadOnlyMemory<byte> payload, ImmutableDictionary<string, string>? headers = null, CancellationToken cancellationToken = default) =>
        _lookup.Ready is { } client ? client.EnqueueAsync(queue, type, payload, headers, cancellationToken) : EnqueueLater(queue, type, payload, headers, cancellationToken);

    private Task<long> EnqueueLater(string queue, string type, ReadOnlyMemory<byte> payload, ImmutableDictionary<string, string>? headers, CancellationToken cancellationToken) =>
        Later(c => c.EnqueueAsync(queue, type, payload, headers, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<EnqueueResult> EnqueueAsync(string queue, NewMessage message, CancellationToken cancellationToken = default) =>
        _lookup.Ready is { } client ? client.EnqueueAsync(queue, message, cancellationToken) : EnqueueLater(queue, message, cancellationToken);

    private Task<EnqueueResult> EnqueueLater(string queue, NewMessage message, CancellationToken cancellationToken) =>
        Later(c => c.EnqueueAsync(queue, message, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<long> EnqueueJsonAsync<T>(string queue, string type, T payload, ImmutableDictionary<string, string>? headers = null, CancellationToken cancellationToken = default) =>
        _lookup.Ready is { } client ? client.EnqueueJsonAsync(queue, type, payload, headers, cancellationToken) : EnqueueJsonLater(queue, type, payload, headers, cancellationToken);

    private Task<long> EnqueueJsonLater<T>(string queue, string type, T payload, ImmutableDictionary<string, string>? headers, CancellationToken cancellationToken) =>
        Later(c => c.EnqueueJsonAsync(queue, type, payload, headers, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<ImmutableArray<EnqueueOutcome>> EnqueueBatchAsync(string queue, IReadOnlyList<NewMessage> messages, CancellationToken cancellationToken = default) =>
        _lookup.Ready is { } client ? client.EnqueueBatchAsync(queue, messages, cancellationToken) : EnqueueBatchLater(queue, messages, cancellationToken);

    private Task<ImmutableArray<EnqueueOutcome>> EnqueueBatchLater(string queue, IReadOnlyList<NewMessage> messages, CancellationToken cancellationToken) =>
        Later(c => c.EnqueueBatchAsync(queue, messages, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<CancelResult> CancelAsync(string queue, long messageId, CancellationToken cancellationToken = default) =>
        Later(c => c.CancelAsync(queue, messageId, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<KeyCommands.KeyChanged> ChangeKeyAsync(string queue, string key, KeyOperation operation, CancellationToken cancellationToken = default) =>
        Later(c => c.ChangeKeyAsync(queue, key, operation, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<PauseCommands.PauseState> PauseAsync(string queue, string? reason = null, string? requestedBy = null, CancellationToken cancellationToken = default) =>
        Later(c => c.PauseAsync(queue, reason, requestedBy, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<PauseCommands.PauseState> ResumeAsync(string queue, string? requestedBy = null, CancellationToken cancellationToken = default) =>
        Later(c => c.ResumeAsync(queue, requestedBy, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<IdempotencyKeyFound?> FindByIdempotencyKeyAsync(string queue, string idempotencyKey, CancellationToken cancellationToken = default) =>
        Later(c => c.FindByIdempotencyKeyAsync(queue, idempotencyKey, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<ConsumerProtocol.Attached> AttachConsumerAsync(string queue, IActorRef consumer, int prefetch, CancellationToken cancellationToken = default) =>
        Later(c => c.AttachConsumerAsync(queue, consumer, prefetch, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task DetachConsumerAsync(string queue, IActorRef consumer, CancellationToken cancellationToken = default) =>
        Later(async c =>
        {
            await c.DetachConsumerAsync(queue, consumer, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<MessageInfo?> GetMessageAsync(string queue, long messageId, CancellationToken cancellationToken = default) =>
        Later(c => c.GetMessageAsync(queue, messageId, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<MessageInfo?> WaitAsync(string queue, long messageId, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Later(c => c.WaitAsync(queue, messageId, timeout, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<QueueStats> GetStatsAsync(string queue, CancellationToken cancellationToken = default) =>
        Later(c => c.GetStatsAsync(queue, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<QueueDeclaration> DeclareQueueAsync(string queue, Actors.Configuration.QueueOptions? options = null, CancellationToken cancellationToken = default) =>
        Later(c => c.DeclareQueueAsync(queue, options, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<QueueStats>> ListQueuesAsync(CancellationToken cancellationToken = default) =>
        Later(c => c.ListQueuesAsync(cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<LocalQueuesStatus> CheckLocalQueuesAsync(CancellationToken cancellationToken = default) =>
        Later(c => c.CheckLocalQueuesAsync(cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<ClusterStatus> GetClusterStatusAsync(CancellationToken cancellationToken = default) =>
        Later(c => c.GetClusterStatusAsync(cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<DeadLetterCommands.DeadLetterPage> ListDeadLettersAsync(string queue, DeadLetterCommands.DeadLetterFilter? filter = null, long afterId = 0, int limit = 100, CancellationToken cancellationToken = default) =>
        Later(c => c.ListDeadLettersAsync(queue, filter, afterId, limit, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<ImmutableArray<DeadLetterCommands.DeadLetterGroup>> GroupDeadLettersAsync(string queue, CancellationToken cancellationToken = default) =>
        Later(c => c.GroupDeadLettersAsync(queue, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<int> RedriveDeadLettersAsync(string queue, DeadLetterCommands.DeadLetterFilter? filter = null, CancellationToken cancellationToken = default) =>
        Later(c => c.RedriveDeadLettersAsync(queue, filter, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<DeadLetterCommands.DeadLettersRedriven> StartRedriveAsync(string queue, DeadLetterCommands.DeadLetterFilter? filter = null, string? requestedBy = null, CancellationToken cancellationToken = default) =>
        Later(c => c.StartRedriveAsync(queue, filter, requestedBy, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<ImmutableArray<RedriveJobs.RedriveJobStatus>> ListRedriveJobsAsync(string queue, CancellationToken cancellationToken = default) =>
        Later(c => c.ListRedriveJobsAsync(queue, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<RedriveJobs.RedriveJobCancelResult> CancelRedriveJobAsync(string queue, string jobId, string? requestedBy = null, CancellationToken cancellationToken = default) =>
        Later(c => c.CancelRedriveJobAsync(queue, jobId, requestedBy, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<int> PurgeDeadLettersAsync(string queue, DeadLetterCommands.DeadLetterFilter? filter = null, CancellationToken cancellationToken = default) =>
        Later(c => c.PurgeDeadLettersAsync(queue, filter, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<int> PurgeQueueAsync(string queue, CancellationToken cancellationToken = default) =>
        Later(c => c.PurgeQueueAsync(queue, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<int> DeleteQueueAsync(string queue, bool ifUnused = false, bool ifEmpty = false, CancellationToken cancellationToken = default) =>
        Later(c => c.DeleteQueueAsync(queue, ifUnused, ifEmpty, cancellationToken), cancellationToken);
}

/// <summary>An <see cref="IScheduleClient"/> over the <see cref="DurableScheduleManager"/>, found on first use.</summary>
internal sealed class RegistryScheduleClient(IServiceProvider services, TimeSpan timeout) : IScheduleClient
{
    private readonly RegistryLookup<DurableScheduleManager, IScheduleClient> _lookup = new(services, timeout, manager => new ScheduleClient(manager, timeout));

    private async Task<T> Later<T>(Func<IScheduleClient, Task<T>> call, CancellationToken cancellationToken) =>
        await call(await _lookup.WaitAsync(cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);

    /// <inheritdoc />
    public Task<ScheduleUpsert> PutAsync(string id, ScheduleOptions schedule, CancellationToken cancellationToken = default) =>
        Later(c => c.PutAsync(id, schedule, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<ScheduleStatus?> GetAsync(string id, int next = 5, CancellationToken cancellationToken = default) =>
        Later(c => c.GetAsync(id, next, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<ScheduleStatus>> ListAsync(CancellationToken cancellationToken = default) =>
        Later(c => c.ListAsync(cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        Later(c => c.DeleteAsync(id, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<ScheduleStatus?> PauseAsync(string id, CancellationToken cancellationToken = default) =>
        Later(c => c.PauseAsync(id, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<ScheduleStatus?> ResumeAsync(string id, CancellationToken cancellationToken = default) =>
        Later(c => c.ResumeAsync(id, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<ScheduleCommands.ScheduleTriggered?> TriggerAsync(string id, CancellationToken cancellationToken = default) =>
        Later(c => c.TriggerAsync(id, cancellationToken), cancellationToken);
}

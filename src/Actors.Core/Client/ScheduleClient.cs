using Actors.Schedules;
using Akka.Actor;
using static Actors.Schedules.ScheduleCommands;

namespace Actors.Client;

/// <summary><see cref="IScheduleClient"/> over a node's schedule manager: Ask with the request timeout (the edge of the system).</summary>
/// <param name="manager">The schedule manager.</param>
/// <param name="timeout">How long a request waits for its answer.</param>
public sealed class ScheduleClient(IActorRef manager, TimeSpan timeout) : IScheduleClient
{
    /// <inheritdoc />
    public async Task<ScheduleUpsert> PutAsync(string id, ScheduleOptions schedule, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ValidateId(id);
        if (!ScheduleDefinition.TryCreate(schedule, out var definition, out var problem)) throw new ScheduleException(problem!.Code, problem.Message);
        var reply = await AskAsync(new DefineSchedule(id, definition), cancellationToken).ConfigureAwait(false);
        return reply is ScheduleAccepted accepted ? new ScheduleUpsert(accepted.Created, accepted.Changed, accepted.Status) : throw Unexpected(reply);
    }

    /// <inheritdoc />
    public async Task<ScheduleStatus?> GetAsync(string id, int next = 5, CancellationToken cancellationToken = default)
    {
        ValidateId(id);
        return StatusOrNull(await AskAsync(new GetSchedule(id, next), cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ScheduleStatus>> ListAsync(CancellationToken cancellationToken = default)
    {
        var ids = (ScheduleIds)await AskAsync(ListSchedules.Instance, cancellationToken).ConfigureAwait(false);
        var statuses = await Task.WhenAll(ids.Ids.Select(id => GetAsync(id, 5, cancellationToken))).ConfigureAwait(false);
        return statuses.OfType<ScheduleStatus>().ToList();
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        ValidateId(id);
        return await AskAsync(new DeleteSchedule(id), cancellationToken).ConfigureAwait(false) switch
        {
            ScheduleDeletedReply => true,
            ScheduleNotFound => false,
            var reply => throw Unexpected(reply),
        };
    }

    /// <inheritdoc />
    public async Task<ScheduleStatus?> PauseAsync(string id, CancellationToken cancellationToken = default)
    {
        ValidateId(id);
        return StatusOrNull(await AskAsync(new PauseSchedule(id), cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async Task<ScheduleStatus?> ResumeAsync(string id, CancellationToken cancellationToken = default)
    {
        ValidateId(id);
        return StatusOrNull(await AskAsync(new ResumeSchedule(id), cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async Task<ScheduleTriggered?> TriggerAsync(string id, CancellationToken cancellationToken = default)
    {
        ValidateId(id);
        return await AskAsync(new TriggerSchedule(id), cancellationToken).ConfigureAwait(false) switch
        {
            ScheduleTriggered triggered => triggered,
            ScheduleNotFound => null,
            var reply => throw Unexpected(reply),
        };
    }

    private static ScheduleStatus? StatusOrNull(object reply) => reply switch
    {
        ScheduleStatus status => status,
        ScheduleNotFound => null,
        _ => throw Unexpected(reply),
    };

    private static void ValidateId(string id)
    {
        if (!Names.IsValidQueueName(id)) throw new ScheduleException(ScheduleErrorCode.InvalidScheduleId, $"Schedule id '{id}' is invalid: {Names.QueueNameRule}.");
    }

    private async Task<object> AskAsync(object message, CancellationToken cancellationToken)
    {
        try
        {
            return await manager.Ask<object>(message, timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (AskTimeoutException e)
        {
            throw new ScheduleException(ScheduleErrorCode.Unavailable, $"The schedule did not answer within {timeout}.", e);
        }
    }

    private static ScheduleException Unexpected(object reply) => reply switch
    {
        ScheduleRejected rejected => new ScheduleException(rejected.Code, rejected.Reason),
        _ => new ScheduleException(ScheduleErrorCode.Unavailable, $"Unexpected reply {reply.GetType().Name}."),
    };
}

using System.Collections.Immutable;
using Actors.Protocol;

namespace Actors.State;

/// <summary>Queries over the held and retained messages: a message's status, dead-letter listings and groups.</summary>
internal sealed partial class QueueState
{
    /// <summary>A held message (live or dead-lettered) by id.</summary>
    public StoredMessage? Find(long id) => _live.TryGetValue(id, out var m) || _dead.TryGetValue(id, out m) ? m : null;

    /// <summary>A message's status; its payload is null while it is only in the journal.</summary>
    public QueueQueries.MessageInfo? Describe(long id)
    {
        if (_live.TryGetValue(id, out var m) || _dead.TryGetValue(id, out m))
        {
            var status = m.Stage switch
            {
                Stage.Ready or Stage.Ending => m.FailedAttempts > 0 ? MessageStatus.FailedRetrying : MessageStatus.Queued,
                Stage.InFlight or Stage.Completing or Stage.Failing => MessageStatus.InFlight,
                Stage.Scheduled => m.FailedAttempts > 0 ? MessageStatus.FailedRetrying : MessageStatus.Scheduled,
                _ => m.Parked ? MessageStatus.Parked : MessageStatus.DeadLettered,
            };
            var attempts = m.Stage is Stage.InFlight or Stage.Completing or Stage.Failing ? m.Attempt : m.FailedAttempts;
            return WithFollowUp(new QueueQueries.MessageInfo(QueueId, m.Id, m.Type, status, attempts, m.EnqueuedAt,
                m.Stage == Stage.Scheduled ? m.DueAt : null, m.FinishedAt, m.Errors, null, m.HasPayload ? m.Payload : (ReadOnlyMemory<byte>?)null, m.Headers));
        }
        if (_finishedById.TryGetValue(id, out var s))
        {
            return WithFollowUp(new QueueQueries.MessageInfo(QueueId, s.Id, s.Type, s.Status, s.Attempts, s.EnqueuedAt,
                null, s.FinishedAt, ImmutableList<ErrorInfo>.Empty, s.Result, null, s.Headers));
        }
        return null;
    }

    /// <summary>Dead letters matching <paramref name="filter"/>, in id order, starting after <paramref name="afterId"/>.</summary>
    public IEnumerable<StoredMessage> DeadLetters(DeadLetterCommands.DeadLetterFilter filter, long afterId = 0)
    {
        if (!filter.Ids.IsDefaultOrEmpty)
        {
            foreach (var id in filter.Ids.Where(id => id > afterId).Distinct().Order())
                if (_dead.TryGetValue(id, out var byId) && Matches(byId, filter)) yield return byId;
            yield break;
        }
        foreach (var (id, message) in _dead)
            if (id > afterId && Matches(message, filter)) yield return message;
    }

    private static bool Matches(StoredMessage message, DeadLetterCommands.DeadLetterFilter filter)
    {
        if (filter.Type is { } type && message.Type != type) return false;
        if (filter.Since is { } since && !(message.FinishedAt >= since)) return false;
        if (filter.Until is { } until && !(message.FinishedAt < until)) return false;
        var last = message.Errors.Count > 0 ? message.Errors[^1] : null;
        if (filter.ErrorType is { } errorType)
        {
            if (last is null) return false;
            var shortName = last.Type[(last.Type.LastIndexOf('.') + 1)..];
            if (last.Type != errorType && shortName != errorType) return false;
        }
        if (filter.Fingerprint is { } fingerprint && (last is null || FingerprintOf(message) != fingerprint)) return false;
        return true;
    }

    /// <summary>A listing entry for a dead letter.</summary>
    public static DeadLetterCommands.DeadLetterSummary Summarize(StoredMessage m)
    {
        var last = m.Errors.Count > 0 ? m.Errors[^1] : null;
        return new DeadLetterCommands.DeadLetterSummary(m.Id, m.Type, m.FailedAttempts, m.EnqueuedAt, m.FinishedAt, m.DeadLetterReason ?? "",
            last, last is null ? "" : FingerprintOf(m));
    }

    /// <summary>The fingerprint of a message's last error ("" without one), cached while it is a dead letter.</summary>
    private static string FingerprintOf(StoredMessage m) => m.DeadLetterFingerprint ?? DeadLetterGroups.FingerprintOf(m);

    /// <summary>Dead letters grouped by the fingerprint of their last error, largest group first.</summary>
    public ImmutableArray<DeadLetterCommands.DeadLetterGroup> GroupDeadLetters() => _groups.Report(_dead.Values);

    /// <summary>Every held message (live and dead), for invariant checks.</summary>
    public IEnumerable<StoredMessage> HeldMessages => _live.Values.Concat(_dead.Values);

    /// <summary>True when the message succeeded and is still retained.</summary>
    public bool IsRetainedSuccess(long id) => _finishedById.TryGetValue(id, out var f) && f.Status == MessageStatus.Succeeded;

    /// <summary>True when the message finished (succeeded, cancelled, expired, discarded) and is still retained.</summary>
    public bool IsRetainedFinished(long id) => _finishedById.ContainsKey(id);
}

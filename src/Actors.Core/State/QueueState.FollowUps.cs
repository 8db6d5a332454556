using System.Collections.Immutable;
using System.Text.Json;
using Actors.Protocol;
using static Actors.Protocol.QueueEvents;

namespace Actors.State;

/// <summary>
/// The queue's outbox of follow-ups (see <see cref="Continuation"/>). Applying an outcome of a message whose headers
/// carry a continuation — a success for <see cref="MessageHeaders.Then"/>, a dead letter for
/// <see cref="MessageHeaders.OnFailure"/> — records a pending follow-up, derived from that event and the stored message
/// alone, so a replay rebuilds exactly the same one. It stays pending until <see cref="FollowUpsSent"/> is applied, and
/// snapshots carry it, so neither a crash nor compaction can lose it; the target queue's de-duplication (by
/// <see cref="Continuation.IdempotencyKey"/>) absorbs a follow-up sent again after a crash.
/// </summary>
internal sealed partial class QueueState
{
    private readonly SortedDictionary<(long Id, FollowUpKind Kind), PendingFollowUp> _pendingFollowUps = new();
    private readonly Dictionary<(long Id, FollowUpKind Kind), SentFollowUp> _sentFollowUps = new();

    /// <summary>Follow-ups owed and not yet stored by their target queues.</summary>
    public int PendingFollowUpCount => _pendingFollowUps.Count;

    /// <summary>The follow-ups owed, in message id order.</summary>
    public IEnumerable<PendingFollowUp> PendingFollowUps => _pendingFollowUps.Values;

    /// <summary>Message <paramref name="id"/>'s follow-up of <paramref name="kind"/> while it is owed; null otherwise.</summary>
    public PendingFollowUp? FindPendingFollowUp(long id, FollowUpKind kind) => _pendingFollowUps.GetValueOrDefault((id, kind));

    /// <summary>
    /// Records the follow-up a message's outcome calls for, if its headers carry that continuation.
    /// <paramref name="result"/> is the handler's result, for a success. A message has at most one follow-up of each
    /// kind: one redriven after its <c>onFailure</c> follow-up left, and dead-lettered again, owes no second one.
    /// </summary>
    private void OweFollowUp(StoredMessage message, FollowUpKind kind, ReadOnlyMemory<byte>? result)
    {
        if (message.Headers.Count == 0 || _sentFollowUps.ContainsKey((message.Id, kind))) return;
        var header = kind == FollowUpKind.Then ? MessageHeaders.Then : MessageHeaders.OnFailure;
        // Intake refuses a malformed continuation; a header that still does not parse is ignored.
        if (!message.Headers.TryGetValue(header, out var value) || !Continuation.TryParse(value, out var continuation, out _)) return;
        ReadOnlyMemory<byte> payload = continuation.UseResult
            ? kind == FollowUpKind.Then ? result is { } r ? r.ToArray() : Continuation.NullPayload : FailureJson(message)
            : continuation.Payload ?? Continuation.NullPayload;
        _pendingFollowUps[(message.Id, kind)] = new PendingFollowUp(message.Id, kind, continuation.Queue, continuation.Type, payload, continuation.FollowUpHeaders());
    }

    /// <summary>The payload of an <c>onFailure</c> follow-up that uses the result: what failed and why, as JSON.</summary>
    private byte[] FailureJson(StoredMessage message)
    {
        var last = message.Errors.Count > 0 ? message.Errors[^1] : null;
        return JsonSerializer.SerializeToUtf8Bytes(new
        {
            queue = QueueId,
            messageId = message.Id,
            type = message.Type,
            reason = message.DeadLetterReason,
            attempts = message.FailedAttempts,
            error = last is null ? null : new { type = last.Type, message = last.Message },
        });
    }

    private void ApplyFollowUpsSent(FollowUpsSent sent)
    {
        foreach (var followUp in sent.FollowUps)
        {
            _pendingFollowUps.Remove((followUp.Id, followUp.Kind));
            _sentFollowUps[(followUp.Id, followUp.Kind)] = followUp;
        }
        if (_sentFollowUps.Count > 2 * (_finishedById.Count + _dead.Count) + 1000) PruneSentFollowUps();
    }

    /// <summary>Forgets the sent follow-ups of messages the queue no longer holds or reports on.</summary>
    private void PruneSentFollowUps()
    {
        foreach (var key in _sentFollowUps.Keys.Where(k => !Knows(k.Id)).ToList()) _sentFollowUps.Remove(key);
    }

    /// <summary>True while the queue holds the message (a redriven one is live again) or reports on it.</summary>
    private bool Knows(long id) => _finishedById.ContainsKey(id) || _dead.ContainsKey(id) || _live.ContainsKey(id);

    /// <summary>The follow-up a final message's status shows: sent, refused or still pending; null for none.</summary>
    private FollowUpRef? FollowUpOf(long id, MessageStatus status)
    {
        var kind = status switch
        {
            MessageStatus.Succeeded => FollowUpKind.Then,
            MessageStatus.DeadLettered => FollowUpKind.OnFailure,
            _ => (FollowUpKind?)null,
        };
        if (kind is not { } k) return null;
        if (_pendingFollowUps.TryGetValue((id, k), out var pending)) return new FollowUpRef(k, pending.Queue, null);
        if (_sentFollowUps.TryGetValue((id, k), out var sent))
            return new FollowUpRef(k, sent.Queue, sent.FollowUpId == 0 ? null : sent.FollowUpId, sent.Error);
        return null;
    }

    /// <summary>The info with its follow-up, when it has one.</summary>
    private QueueQueries.MessageInfo WithFollowUp(QueueQueries.MessageInfo info) =>
        _pendingFollowUps.Count == 0 && _sentFollowUps.Count == 0 ? info : info with { FollowUp = FollowUpOf(info.MessageId, info.Status) };

    /// <summary>The snapshot with the outbox: pending follow-ups, and the sent ones of messages still reported on.</summary>
    private QueueSnapshot WithFollowUps(QueueSnapshot snapshot) => snapshot with
    {
        FollowUps = [.. _pendingFollowUps.Values],
        SentFollowUps = [.. _sentFollowUps.Where(p => Knows(p.Key.Id)).OrderBy(p => p.Key).Select(p => p.Value)],
    };

    private void RestoreFollowUps(QueueSnapshot snapshot)
    {
        if (!snapshot.FollowUps.IsDefault)
            foreach (var pending in snapshot.FollowUps) _pendingFollowUps[(pending.Id, pending.Kind)] = pending;
        if (!snapshot.SentFollowUps.IsDefault)
            foreach (var sent in snapshot.SentFollowUps) _sentFollowUps[(sent.Id, sent.Kind)] = sent;
    }

    /// <summary>The rejection of a message whose continuation headers do not parse; null when they do (or there are none).</summary>
    public static (RejectionCode Code, string Reason)? ValidateContinuations(IReadOnlyDictionary<string, string>? headers, Func<string, bool>? isDeclared)
    {
        if (!Continuation.TryReadHeaders(headers, out var then, out var onFailure, out var error)) return (RejectionCode.InvalidHeaders, error);
        if (isDeclared is null) return null;
        foreach (var continuation in new[] { then, onFailure })
        {
            if (continuation is null) continue;
            foreach (var queue in continuation.Queues())
                if (!isDeclared(queue))
                    return (RejectionCode.UnknownQueue, $"The continuation names queue '{queue}', which does not exist.");
        }
        return null;
    }
}

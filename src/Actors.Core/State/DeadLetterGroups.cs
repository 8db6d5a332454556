using System.Collections.Immutable;
using Actors.Protocol;

namespace Actors.State;

/// <summary>
/// A queue's dead letters grouped by the fingerprint of their last error, kept as they are buried, redriven and purged,
/// so a grouping query reads one entry per group instead of normalising every dead letter's error. Each dead letter
/// keeps its group's fingerprint string (<see cref="StoredMessage.DeadLetterFingerprint"/>), computed once. A group
/// whose oldest, newest or sample member leaves is marked stale and recomputed from its members on the next query.
/// </summary>
internal sealed class DeadLetterGroups
{
    private readonly Dictionary<string, Group> _groups = new(StringComparer.Ordinal);
    private bool _anyStale;

    /// <summary>Groups held.</summary>
    public int Count => _groups.Count;

    /// <summary>The fingerprint of a message's last error; "" when it has none.</summary>
    public static string FingerprintOf(StoredMessage message) =>
        message.Errors.Count > 0 ? Fingerprint.Of(message.Errors[^1].Type, message.Errors[^1].Message) : "";

    /// <summary>Counts a dead letter in its group, whose fingerprint it keeps.</summary>
    public void Add(StoredMessage message)
    {
        var fingerprint = FingerprintOf(message);
        if (!_groups.TryGetValue(fingerprint, out var group))
        {
            group = new Group(fingerprint);
            _groups[fingerprint] = group;
        }
        message.DeadLetterFingerprint = group.Fingerprint;
        group.Count++;
        group.Types[message.Type] = group.Types.GetValueOrDefault(message.Type) + 1;
        group.Include(message);
    }

    /// <summary>Takes a dead letter that leaves the set (redriven, purged) out of its group.</summary>
    public void Remove(StoredMessage message)
    {
        if (message.DeadLetterFingerprint is not { } fingerprint || !_groups.TryGetValue(fingerprint, out var group)) return;
        message.DeadLetterFingerprint = null;
        if (--group.Count == 0)
        {
            _groups.Remove(fingerprint);
            return;
        }
        if (--group.Types[message.Type] == 0) group.Types.Remove(message.Type);
        if (message.Id == group.SampleId || message.FinishedAt == group.FirstAt || message.FinishedAt == group.LastAt)
        {
            group.Stale = true;
            _anyStale = true;
        }
    }

    /// <summary>The groups, largest first; <paramref name="deadLetters"/> (in id order) are read only when a group is stale.</summary>
    public ImmutableArray<DeadLetterCommands.DeadLetterGroup> Report(IEnumerable<StoredMessage> deadLetters)
    {
        if (_anyStale) Refresh(deadLetters);
        return _groups.Values
            .Select(g => new DeadLetterCommands.DeadLetterGroup(g.Fingerprint, g.Sample?.Type ?? "", g.Sample?.Message ?? "", g.Count,
                g.Types.Keys.Order(StringComparer.Ordinal).ToImmutableArray(), g.FirstAt, g.LastAt))
            .OrderByDescending(g => g.Count).ThenBy(g => g.Fingerprint, StringComparer.Ordinal)
            .ToImmutableArray();
    }

    private void Refresh(IEnumerable<StoredMessage> deadLetters)
    {
        foreach (var group in _groups.Values)
            if (group.Stale) group.Reset();
        foreach (var message in deadLetters)
            if (message.DeadLetterFingerprint is { } fingerprint && _groups.TryGetValue(fingerprint, out var group) && group.Stale) group.Include(message);
        foreach (var group in _groups.Values) group.Stale = false;
        _anyStale = false;
    }

    private sealed class Group(string fingerprint)
    {
        public string Fingerprint { get; } = fingerprint;
        public int Count;
        public readonly Dictionary<string, int> Types = new(StringComparer.Ordinal);
        public DateTime? FirstAt;
        public DateTime? LastAt;
        // The member with the lowest id gives the sample error.
        public long SampleId;
        public ErrorInfo? Sample;
        public bool Stale;

        public void Include(StoredMessage message)
        {
            if (message.FinishedAt is { } at)
            {
                if (FirstAt is null || at < FirstAt) FirstAt = at;
                if (LastAt is null || at > LastAt) LastAt = at;
            }
            if (SampleId == 0 || message.Id < SampleId)
            {
                SampleId = message.Id;
                Sample = message.Errors.Count > 0 ? message.Errors[^1] : null;
            }
        }

        public void Reset()
        {
            FirstAt = LastAt = null;
            SampleId = 0;
            Sample = null;
        }
    }
}

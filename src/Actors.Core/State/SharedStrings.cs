using Actors.Protocol;

namespace Actors.State;

/// <summary>
/// One copy of the strings that repeat across a queue's recorded errors (stack traces, error types, worker paths): a
/// hundred thousand dead letters from the same bug keep one stack trace, not one each. At most
/// <see cref="MaxStrings"/> are remembered; past it the pool starts over, so unrelated strings never pile up.
/// </summary>
internal sealed class SharedStrings
{
    /// <summary>Distinct strings remembered before the pool starts over.</summary>
    public const int MaxStrings = 4096;

    private readonly Dictionary<string, string> _pool = new(StringComparer.Ordinal);

    /// <summary><paramref name="error"/> with its stack trace, type and worker replaced by the pool's copies.</summary>
    public ErrorInfo Share(ErrorInfo error)
    {
        var type = Share(error.Type)!;
        var stackTrace = Share(error.StackTrace);
        var worker = Share(error.Worker);
        return ReferenceEquals(type, error.Type) && ReferenceEquals(stackTrace, error.StackTrace) && ReferenceEquals(worker, error.Worker)
            ? error
            : error with { Type = type, StackTrace = stackTrace, Worker = worker };
    }

    private string? Share(string? value)
    {
        if (string.IsNullOrEmpty(value)) return value;
        if (_pool.TryGetValue(value, out var shared)) return shared;
        if (_pool.Count >= MaxStrings) _pool.Clear();
        _pool[value] = value;
        return value;
    }
}

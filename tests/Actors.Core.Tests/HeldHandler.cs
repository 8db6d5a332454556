using System.Collections.Concurrent;
using Actors.Handlers;

namespace Actors.Core.Tests;

/// <summary>
/// A handler that holds every message until <see cref="ReleaseAll"/>, counting how many run at once (now and at
/// most) and how many times each message ran: for tests of concurrency limits.
/// </summary>
internal sealed class HeldHandler
{
    private readonly SemaphoreSlim _release = new(0);
    private readonly ConcurrentDictionary<long, int> _runs = new();
    private int _running;
    private int _most;

    /// <summary>Handlers running now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>The most that ever ran at once.</summary>
    public int Most => Volatile.Read(ref _most);

    /// <summary>Times each message ran, by message id.</summary>
    public IReadOnlyDictionary<long, int> Runs => _runs;

    /// <summary>Lets <paramref name="count"/> held handlers (and as many later ones) finish.</summary>
    public void ReleaseAll(int count) => _release.Release(count);

    /// <summary>The handler to register.</summary>
    public async ValueTask<object?> HandleAsync(ReadOnlyMemory<byte> payload, MessageContext context, CancellationToken cancellationToken)
    {
        var now = Interlocked.Increment(ref _running);
        int seen;
        while (now > (seen = Volatile.Read(ref _most)) && Interlocked.CompareExchange(ref _most, now, seen) != seen) { }
        _runs.AddOrUpdate(context.MessageId, 1, (_, n) => n + 1);
        await _release.WaitAsync(cancellationToken);
        Interlocked.Decrement(ref _running);
        return null;
    }
}

namespace Actors.Core.Tests;

/// <summary>
/// Waits for a condition that no actor, probe or event announces (a file written by another process, an HTTP answer),
/// by checking it until a deadline. The one polling loop every test project shares.
/// </summary>
internal static class Poll
{
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>Checks <paramref name="condition"/> every <paramref name="interval"/> (20 ms) until it holds; throws <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public static async Task Until(Func<Task<bool>> condition, string what, TimeSpan timeout, TimeSpan? interval = null)
    {
        if (!await WaitFor(condition, timeout, interval)) throw new TimeoutException($"Timed out waiting for: {what}.");
    }

    /// <summary>
    /// Checks <paramref name="condition"/> every <paramref name="interval"/> (20 ms) until it holds or <paramref name="timeout"/>
    /// passes; returns whether it held, for a caller whose own assertions then say what is missing.
    /// </summary>
    public static async Task<bool> WaitFor(Func<Task<bool>> condition, TimeSpan timeout, TimeSpan? interval = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(interval ?? DefaultInterval);
        }
        return true;
    }

    /// <summary>As <see cref="WaitFor(Func{Task{bool}}, TimeSpan, TimeSpan?)"/>, for a condition checked in place.</summary>
    public static Task<bool> WaitFor(Func<bool> condition, TimeSpan timeout, TimeSpan? interval = null) =>
        WaitFor(() => Task.FromResult(condition()), timeout, interval);

    /// <summary>As the asynchronous overload, for a condition checked in place.</summary>
    public static Task Until(Func<bool> condition, string what, TimeSpan timeout, TimeSpan? interval = null) =>
        Until(() => Task.FromResult(condition()), what, timeout, interval);
}

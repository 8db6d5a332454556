using System.Diagnostics;
using System.Runtime;

/// <summary>
/// Warm-up until the JIT is idle, shared by the load test and the RabbitMQ client so both sides of a comparison are
/// measured warm the same way. The runtime compiles hot methods again, optimised, on a background thread some time
/// after their first calls (and delays that while new methods keep appearing), and on two cores that backlog takes
/// seconds: several thousand methods, arriving in bursts with quiet rounds between them. So rounds of the work repeat
/// until a whole window of <see cref="Window"/> compiles fewer than <see cref="QuietMethods"/> methods, for at most
/// <see cref="MaxTime"/>; a quiet round alone is not enough.
/// </summary>
internal static class JitWarmUp
{
    /// <summary>The time over which the JIT must stay quiet.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(3);

    /// <summary>Fewer methods than this compiled in a window is quiet.</summary>
    public const int QuietMethods = 50;

    /// <summary>The longest warm-up.</summary>
    public static readonly TimeSpan MaxTime = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Runs <paramref name="round"/> (which returns false to stop early, e.g. on an error) until the JIT is quiet.
    /// Each window's count goes to standard error, with the rounds run so far.
    /// </summary>
    public static async Task RunAsync(Func<Task<bool>> round)
    {
        var started = Stopwatch.GetTimestamp();
        var windowStart = started;
        var compiledAtWindowStart = JitInfo.GetCompiledMethodCount();
        var rounds = 0;
        while (Stopwatch.GetElapsedTime(started) < MaxTime)
        {
            rounds++;
            if (!await round()) break;
            if (Stopwatch.GetElapsedTime(windowStart) < Window) continue;
            var compiled = JitInfo.GetCompiledMethodCount() - compiledAtWindowStart;
            Console.Error.WriteLine($"warm-up: {compiled} methods compiled in {Stopwatch.GetElapsedTime(windowStart).TotalSeconds:F1} s ({rounds} rounds so far)");
            if (compiled < QuietMethods) break;
            windowStart = Stopwatch.GetTimestamp();
            compiledAtWindowStart = JitInfo.GetCompiledMethodCount();
        }
    }
}

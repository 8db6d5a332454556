namespace Actors.Configuration;

/// <summary>How random the spread of retry delays is.</summary>
public enum JitterMode
{
    /// <summary>Uniform between zero and the computed delay (AWS "full jitter"): best at spreading a thundering herd.</summary>
    Full = 0,
    /// <summary>Half the computed delay plus a uniform random half.</summary>
    Equal = 1,
    /// <summary>Exactly the computed delay.</summary>
    None = 2,
}

/// <summary>What to do with a message whose attempt failed.</summary>
public enum FailureAction
{
    /// <summary>Retry with backoff while attempts remain, then dead-letter.</summary>
    Retry = 0,
    /// <summary>Dead-letter at once (e.g. a validation error no retry can fix).</summary>
    DeadLetter = 1,
    /// <summary>Drop the message; recorded as an event and counted, never silent.</summary>
    Discard = 2,
}

/// <summary>A per-exception rule of a <see cref="RetryPolicy"/>. The first rule that matches wins.</summary>
public sealed class RetryRule
{
    /// <summary>
    /// The exception type the rule matches: its full name (<c>System.TimeoutException</c>) or short name
    /// (<c>TimeoutException</c>); base types of the thrown exception are not searched. Required.
    /// </summary>
    public string ExceptionType { get; set; } = "";

    /// <summary>What to do on a match. Default <see cref="FailureAction.Retry"/>.</summary>
    public FailureAction Action { get; set; } = FailureAction.Retry;

    /// <summary>With <see cref="FailureAction.Retry"/>: overrides the policy's <see cref="RetryPolicy.MaxAttempts"/>. Default: none.</summary>
    public int? MaxAttempts { get; set; }
}

/// <summary>
/// A queue's failure policy, as data: retry with capped exponential backoff and jitter, with per-exception rules.
/// Defaults: 5 attempts, 1 s base delay, factor 2, 5 min cap, full jitter.
/// </summary>
public sealed class RetryPolicy
{
    /// <summary>Attempts in total, the first included, before a message is dead-lettered. Default 5; range 1–1000.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Delay before the second attempt, before jitter. Default 1 s; range 0–1 day.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Multiplier per further attempt. Default 2; range 1–10.</summary>
    public double Factor { get; set; } = 2;

    /// <summary>Largest delay, before jitter. Default 5 min; at least <see cref="BaseDelay"/>.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Jitter applied to each delay. Default <see cref="JitterMode.Full"/>.</summary>
    public JitterMode Jitter { get; set; } = JitterMode.Full;

    /// <summary>Per-exception rules, first match wins. Default: none (every exception is retried).</summary>
    public IList<RetryRule> Rules { get; set; } = new List<RetryRule>();

    /// <summary>Throws <see cref="ArgumentException"/> when a value is out of range.</summary>
    public void Validate(string queue)
    {
        if (MaxAttempts is < 1 or > 1000) throw new ArgumentException($"Queue '{queue}': Retry.MaxAttempts must be 1–1000, was {MaxAttempts}.");
        if (BaseDelay < TimeSpan.Zero || BaseDelay > TimeSpan.FromDays(1)) throw new ArgumentException($"Queue '{queue}': Retry.BaseDelay must be 0–1 day.");
        if (Factor is < 1 or > 10) throw new ArgumentException($"Queue '{queue}': Retry.Factor must be 1–10, was {Factor}.");
        if (MaxDelay < BaseDelay) throw new ArgumentException($"Queue '{queue}': Retry.MaxDelay must be at least BaseDelay.");
        foreach (var rule in Rules)
        {
            if (string.IsNullOrWhiteSpace(rule.ExceptionType)) throw new ArgumentException($"Queue '{queue}': a retry rule has no ExceptionType.");
            if (rule.MaxAttempts is < 1 or > 1000) throw new ArgumentException($"Queue '{queue}': rule '{rule.ExceptionType}' MaxAttempts must be 1–1000.");
        }
    }

    /// <summary>The delay before the attempt after <paramref name="failedAttempt"/>, before jitter.</summary>
    public TimeSpan BackoffFor(int failedAttempt)
    {
        var exponent = Math.Max(0, failedAttempt - 1);
        var ticks = BaseDelay.Ticks * Math.Pow(Factor, exponent);
        return ticks >= MaxDelay.Ticks ? MaxDelay : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>Applies the jitter mode to a delay, with <paramref name="random01"/> uniform in [0, 1).</summary>
    public TimeSpan ApplyJitter(TimeSpan delay, double random01) => Jitter switch
    {
        JitterMode.Full => TimeSpan.FromTicks((long)(delay.Ticks * random01)),
        JitterMode.Equal => TimeSpan.FromTicks(delay.Ticks / 2 + (long)(delay.Ticks / 2 * random01)),
        _ => delay,
    };

    /// <summary>The first rule matching the exception type name, if any.</summary>
    public RetryRule? MatchRule(string exceptionType)
    {
        var shortName = exceptionType[(exceptionType.LastIndexOf('.') + 1)..];
        foreach (var rule in Rules)
        {
            if (string.Equals(rule.ExceptionType, exceptionType, StringComparison.Ordinal)
                || string.Equals(rule.ExceptionType, shortName, StringComparison.Ordinal))
                return rule;
        }
        return null;
    }
}

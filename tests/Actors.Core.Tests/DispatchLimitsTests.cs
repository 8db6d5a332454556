using System.Collections.Immutable;
using System.Text;
using Actors.Configuration;
using Actors.Hosting;
using Actors.Protocol;
using Actors.State;
using Microsoft.Extensions.Configuration;
using static Actors.Protocol.QueueEvents;
using static Actors.Protocol.QueueQueries;

namespace Actors.Core.Tests;

/// <summary>The pure parts of rate and concurrency limits: the token bucket, the dispatch gate, the options, and push-back that does not use up an attempt.</summary>
public sealed class DispatchLimitsTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The token bucket's promise over a run of start times: in any window from one start to a later one, no more
    /// started than the burst plus the permits the window earns. A token comes at the first whole tick it is due, so a
    /// window is given one tick more than it measures.
    /// </summary>
    internal static void AssertWithinRate(IEnumerable<DateTime> starts, int permits, TimeSpan period, int burst)
    {
        var times = starts.Order().ToList();
        for (var i = 0; i < times.Count; i++)
        {
            for (var j = i; j < times.Count; j++)
            {
                var earned = ((times[j] - times[i]).Ticks + 1) * permits / period.Ticks;
                Assert.True(j - i + 1 <= burst + earned, $"{j - i + 1} starts between {times[i]:O} and {times[j]:O}, more than burst {burst} + {earned} earned");
            }
        }
    }

    [Fact]
    public void A_token_bucket_starts_full_gives_its_burst_then_one_token_per_interval_and_never_holds_more_than_the_burst()
    {
        var bucket = new TokenBucket(permits: 2, period: Second, burst: 3, T0);
        for (var i = 0; i < 3; i++) Assert.True(bucket.TryTake(T0));
        Assert.False(bucket.TryTake(T0));

        var next = T0.AddMilliseconds(500);
        Assert.Equal(next, bucket.NextTokenAt(T0));
        Assert.False(bucket.TryTake(next.AddTicks(-1)));
        Assert.True(bucket.TryTake(next));
        Assert.False(bucket.TryTake(next));

        // A quiet day refills it to the burst, no further.
        Assert.Equal(3L, bucket.Available(T0.AddDays(1)));
        // An earlier time (a clock that stepped back) changes nothing.
        Assert.Equal(3L, bucket.Available(T0));
    }

    [Fact]
    public void A_rate_that_does_not_divide_its_period_evenly_does_not_drift_over_an_hour()
    {
        var bucket = new TokenBucket(permits: 3, period: Second, burst: 1, T0);
        Assert.True(bucket.TryTake(T0));
        var now = T0;
        var starts = new List<DateTime> { now };
        for (var i = 0; i < 3 * 3600; i++)
        {
            var at = bucket.NextTokenAt(now);
            Assert.True(at > now);
            Assert.False(bucket.TryTake(at.AddTicks(-1)));
            now = at;
            Assert.True(bucket.TryTake(now));
            if (i < 300) starts.Add(now);
        }
        Assert.Equal(T0.AddHours(1), now);
        AssertWithinRate(starts, 3, Second, 1);
    }

    [Fact]
    public void A_token_bucket_taken_at_random_times_keeps_to_its_rate_and_the_largest_settings_do_not_overflow()
    {
        var random = new Random(12);
        var bucket = new TokenBucket(permits: 7, period: TimeSpan.FromMilliseconds(300), burst: 4, T0);
        var now = T0;
        var starts = new List<DateTime>();
        for (var i = 0; i < 2000; i++)
        {
            now = now.AddTicks(random.Next(0, 200_000));
            if (bucket.TryTake(now)) starts.Add(now);
        }
        Assert.InRange(starts.Count, 100, 2000);
        AssertWithinRate(starts, 7, TimeSpan.FromMilliseconds(300), 4);

        var largest = new TokenBucket(RateLimitOptions.MaxPermits, TimeSpan.FromDays(1), RateLimitOptions.MaxPermits, T0);
        Assert.True(largest.TryTake(T0));
        Assert.Equal((long)RateLimitOptions.MaxPermits, largest.Available(T0.AddYears(100)));
    }

    [Fact]
    public void The_gate_holds_at_the_concurrency_limit_and_counts_the_starts_that_waited()
    {
        var gate = new DispatchGate(new QueueOptions { MaxConcurrency = 2 }, T0);
        Assert.True(gate.Limited);
        Assert.True(gate.MayStart(0, T0));
        gate.Started(T0);
        Assert.True(gate.MayStart(1, T0));
        gate.Started(T0);
        Assert.False(gate.MayStart(2, T0));
        // A concurrency hold ends with a report, not at a time.
        Assert.Null(gate.RetryAt(T0));
        Assert.True(gate.MayStart(1, T0));
        gate.Started(T0);
        gate.Unheld();
        Assert.True(gate.MayStart(0, T0));
        gate.Started(T0);
        Assert.Equal(new DispatchLimitStats(null, null, null, 2, 0, 1), gate.Stats());
    }

    [Fact]
    public void The_gate_holds_at_the_rate_limit_until_the_next_token_and_says_when_that_is()
    {
        var gate = new DispatchGate(new QueueOptions { RateLimit = new RateLimitOptions { Permits = 4, Burst = 2 } }, T0);
        for (var i = 0; i < 2; i++)
        {
            Assert.True(gate.MayStart(0, T0));
            gate.Started(T0);
        }
        Assert.False(gate.MayStart(0, T0));
        Assert.Equal(T0.AddMilliseconds(250), gate.RetryAt(T0));
        Assert.True(gate.MayStart(0, T0.AddMilliseconds(250)));
        gate.Started(T0.AddMilliseconds(250));
        Assert.False(gate.MayStart(0, T0.AddMilliseconds(250)));
        Assert.Equal(new DispatchLimitStats(4, Second, 2, null, 1, 0), gate.Stats());

        Assert.False(new DispatchGate(new QueueOptions(), T0).Limited);
        Assert.Null(new DispatchGate(new QueueOptions(), T0).Stats());
    }

    [Fact]
    public void Each_partition_gets_its_share_of_a_limit_rounded_up_and_at_least_one()
    {
        var options = new QueueOptions { Partitions = 4, MaxConcurrency = 5, RateLimit = new RateLimitOptions { Permits = 10, Burst = 3 } };
        Assert.Equal(new DispatchLimitStats(3, Second, 1, 2, 0, 0), new DispatchGate(options, T0).Stats());
        options.Partitions = 8;
        options.MaxConcurrency = 3;
        Assert.Equal(new DispatchLimitStats(2, Second, 1, 1, 0, 0), new DispatchGate(options, T0).Stats());
        options.Partitions = 1;
        Assert.Equal(new DispatchLimitStats(10, Second, 3, 3, 0, 0), new DispatchGate(options, T0).Stats());
        // A queue's merged statistics add the partitions' shares up.
        Assert.Equal(new DispatchLimitStats(6, Second, 2, 4, 3, 5),
            DispatchLimitStats.Sum([new DispatchLimitStats(3, Second, 1, 2, 1, 2), null, new DispatchLimitStats(3, Second, 1, 2, 2, 3)]));
    }

    [Theory]
    [InlineData("MaxConcurrency", 0, "Queue 'q': MaxConcurrency must be 1–1,000,000, was 0.")]
    [InlineData("MaxConcurrency", -3, "Queue 'q': MaxConcurrency must be 1–1,000,000, was -3.")]
    [InlineData("Permits", 0, "Queue 'q': RateLimit.Permits must be 1–1,000,000, was 0.")]
    [InlineData("Permits", -1, "Queue 'q': RateLimit.Permits must be 1–1,000,000, was -1.")]
    [InlineData("Burst", 0, "Queue 'q': RateLimit.Burst must be 1–1,000,000, was 0.")]
    [InlineData("PeriodMs", 0, "Queue 'q': RateLimit.Period must be 1 ms – 1 day, was 00:00:00.")]
    public void A_limit_of_zero_or_less_is_refused_with_what_is_wrong(string setting, int value, string expected)
    {
        var options = new QueueOptions { RateLimit = new RateLimitOptions { Permits = 10 } };
        switch (setting)
        {
            case "MaxConcurrency": options.MaxConcurrency = value; break;
            case "Permits": options.RateLimit.Permits = value; break;
            case "Burst": options.RateLimit.Burst = value; break;
            default: options.RateLimit.Period = TimeSpan.FromMilliseconds(value); break;
        }
        Assert.Equal(expected, Assert.Throws<ArgumentException>(() => options.Validate("q")).Message);
    }

    [Fact]
    public void Limits_bind_from_configuration_and_a_rate_limit_without_permits_is_refused()
    {
        const string json = """
            { "Actors": { "Queues": {
                "paced": { "RateLimit": { "Permits": 100, "Period": "00:00:01", "Burst": 50 }, "MaxConcurrency": 4, "RetryLaterCountsAsAttempt": false },
                "plain": { "Workers": 2 },
                "broken": { "RateLimit": { "Period": "00:01:00" } } } } }
            """;
        var options = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build().GetDurableQueuesOptions();

        var paced = options.Queues["paced"];
        Assert.Equal((100, Second, 50), (paced.RateLimit!.Permits, paced.RateLimit.Period, paced.RateLimit.EffectiveBurst));
        Assert.Equal(4, paced.MaxConcurrency);
        Assert.False(paced.RetryLaterCountsAsAttempt);
        var plain = options.Queues["plain"];
        Assert.Null(plain.RateLimit);
        Assert.Null(plain.MaxConcurrency);
        Assert.True(plain.RetryLaterCountsAsAttempt);
        Assert.Equal("Queue 'broken': RateLimit.Permits must be 1–1,000,000, was 0.", Assert.Throws<ArgumentException>(() => options.Queues["broken"].Validate("broken")).Message);
    }

    private static (QueueState State, StoredMessage Message) FailingFirstAttempt(QueueOptions options)
    {
        var state = new QueueState("q", options);
        state.Apply(new MessagesEnqueued([new EnqueuedMessage(1, "work", Encoding.UTF8.GetBytes("{}"), ImmutableDictionary<string, string>.Empty, T0)]));
        var message = state.Dispatch(0, T0)!;
        Assert.True(state.TryBeginFailure(1, message.Attempt, out _));
        return (state, message);
    }

    private static readonly ErrorInfo PushBack = new("Actors.Handlers.RetryLaterException", "busy", null, "w", T0);

    [Fact]
    public void A_push_back_that_does_not_count_retries_after_its_delay_with_the_same_attempt_past_the_attempt_limit()
    {
        var options = new QueueOptions { RetryLaterCountsAsAttempt = false };
        options.Retry.MaxAttempts = 1;
        var (state, message) = FailingFirstAttempt(options);

        var retry = Assert.IsType<RetryScheduled>(state.DecideFailure(message, PushBack, RequestedFailureAction.RetryLater, TimeSpan.FromSeconds(30), T0, 0.5));
        Assert.Equal((0, T0.AddSeconds(30)), (retry.Attempt, retry.DueAt));
        state.Apply(retry);
        state.PromoteDue(T0.AddSeconds(30));
        var again = state.Dispatch(0, T0.AddSeconds(30))!;
        Assert.Equal(1, again.Attempt);
        Assert.Single(again.Errors);

        // A worker that crashed or stopped is not a push-back: that attempt counts.
        Assert.True(state.TryBeginFailure(1, 1, out _));
        Assert.IsType<DeadLettered>(state.DecideFailure(again, PushBack, RequestedFailureAction.RetryAfter, TimeSpan.Zero, T0, 0.5));
    }

    [Fact]
    public void By_default_a_push_back_counts_as_an_attempt()
    {
        var options = new QueueOptions();
        options.Retry.MaxAttempts = 2;
        var (state, message) = FailingFirstAttempt(options);
        var retry = Assert.IsType<RetryScheduled>(state.DecideFailure(message, PushBack, RequestedFailureAction.RetryLater, TimeSpan.FromSeconds(5), T0, 0.5));
        Assert.Equal((1, T0.AddSeconds(5)), (retry.Attempt, retry.DueAt));
        state.Apply(retry);
        state.PromoteDue(T0.AddSeconds(5));
        var second = state.Dispatch(0, T0.AddSeconds(5))!;
        Assert.Equal(2, second.Attempt);
        Assert.True(state.TryBeginFailure(1, 2, out _));
        Assert.IsType<DeadLettered>(state.DecideFailure(second, PushBack, RequestedFailureAction.RetryLater, TimeSpan.FromSeconds(5), T0, 0.5));
    }
}

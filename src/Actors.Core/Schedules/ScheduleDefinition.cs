using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using System.Xml;
using Cronos;

namespace Actors.Schedules;

/// <summary>What a schedule does with occurrences that came due while it could not fire (its node was down).</summary>
public enum MisfirePolicy
{
    /// <summary>One run for everything missed: the latest missed occurrence fires, the older ones are skipped (counted).</summary>
    FireOnce = 0,
    /// <summary>One run per missed occurrence, oldest first, at most <see cref="ScheduleDefinition.MaxCatchup"/> (the newest ones); the rest are skipped (counted).</summary>
    FireAll = 1,
    /// <summary>Missed occurrences are skipped (counted); the schedule carries on with the next one.</summary>
    Skip = 2,
}

/// <summary>What a schedule does when an occurrence comes due while the previous occurrence's message is not finished.</summary>
public enum OverlapPolicy
{
    /// <summary>Do not fire; the occurrence is skipped (counted).</summary>
    Skip = 0,
    /// <summary>Hold one occurrence and fire it when the previous message finishes; further ones are skipped (counted).</summary>
    BufferOne = 1,
    /// <summary>Fire regardless of the previous message.</summary>
    Allow = 2,
}

/// <summary>Why a schedule definition (or a request about one) was refused.</summary>
public enum ScheduleErrorCode
{
    /// <summary>A field is missing or out of range (HTTP 400).</summary>
    InvalidSchedule = 1,
    /// <summary>The cron expression does not parse; the reason is Cronos's message (HTTP 400).</summary>
    InvalidCron = 2,
    /// <summary>The time zone is not a known IANA (or Windows) zone id (HTTP 400).</summary>
    UnknownTimeZone = 3,
    /// <summary>The <c>every</c> interval is under one second (HTTP 400).</summary>
    IntervalTooShort = 4,
    /// <summary>Both or neither of <c>cron</c> and <c>every</c> were given (HTTP 400).</summary>
    CronOrEvery = 5,
    /// <summary>The target queue is not declared (HTTP 404).</summary>
    UnknownQueue = 6,
    /// <summary>The schedule id breaks the naming rules (HTTP 400).</summary>
    InvalidScheduleId = 7,
    /// <summary>No schedule of that id exists (HTTP 404).</summary>
    NotFound = 8,
    /// <summary>The schedule did not answer in time or its journal failed (HTTP 503).</summary>
    Unavailable = 9,
}

/// <summary>A refusal: a code and a readable reason.</summary>
/// <param name="Code">Why.</param>
/// <param name="Message">Why, for people (for an invalid cron, Cronos's own message).</param>
public sealed record ScheduleProblem(ScheduleErrorCode Code, string Message);

/// <summary>
/// A validated schedule: when it fires (<see cref="Cron"/> in <see cref="TimeZone"/>, or <see cref="Every"/>), what
/// it enqueues where, and its misfire and overlap policies. Built with <see cref="TryCreate"/>, stored in the
/// schedule's journal.
/// </summary>
/// <param name="Queue">The target queue.</param>
/// <param name="Type">The message type enqueued at each occurrence.</param>
/// <param name="Payload">The payload bytes (JSON) of each message.</param>
/// <param name="Headers">Headers of each message (besides the <c>schedule</c> and <c>schedule-occurrence</c> headers added at fire time).</param>
/// <param name="Cron">A cron expression of 5 fields, or 6 with seconds first; null when <see cref="Every"/> is set.</param>
/// <param name="Every">A fixed interval (at least 1 s), anchored at <see cref="StartAt"/> or else the Unix epoch; null when <see cref="Cron"/> is set.</param>
/// <param name="TimeZone">The IANA zone a cron expression is read in; daylight-saving transitions are handled as Cronos defines them.</param>
/// <param name="StartAt">No occurrence before this time (UTC).</param>
/// <param name="EndAt">No occurrence after this time (UTC).</param>
/// <param name="Paused">Pause (true) or resume (false) with this definition; null leaves the schedule as it is (new: running).</param>
/// <param name="Misfire">What to do with occurrences missed while down.</param>
/// <param name="MaxCatchup">Most runs a <see cref="MisfirePolicy.FireAll"/> catch-up fires.</param>
/// <param name="CatchupWindow">Missed occurrences older than this are skipped whatever the policy.</param>
/// <param name="Overlap">What to do when the previous occurrence's message is not finished.</param>
public sealed record ScheduleDefinition(
    string Queue,
    string Type,
    ReadOnlyMemory<byte> Payload,
    ImmutableDictionary<string, string>? Headers,
    string? Cron,
    TimeSpan? Every,
    string TimeZone,
    DateTime? StartAt,
    DateTime? EndAt,
    bool? Paused,
    MisfirePolicy Misfire,
    int MaxCatchup,
    TimeSpan CatchupWindow,
    OverlapPolicy Overlap)
{
    /// <summary>Shortest <see cref="Every"/> interval.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);

    /// <summary>Default <see cref="MaxCatchup"/>.</summary>
    public const int DefaultMaxCatchup = 100;

    /// <summary>Largest <see cref="MaxCatchup"/>.</summary>
    public const int MaxMaxCatchup = 10_000;

    /// <summary>Default <see cref="CatchupWindow"/>: 24 h.</summary>
    public static readonly TimeSpan DefaultCatchupWindow = TimeSpan.FromHours(24);

    /// <summary>
    /// True when <paramref name="other"/> describes the same schedule (payload and headers compared by content;
    /// <see cref="Paused"/> is not part of it): an upsert of the same definition changes nothing.
    /// </summary>
    public bool SameAs(ScheduleDefinition other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return this with { Payload = default, Headers = null, Paused = null } == other with { Payload = default, Headers = null, Paused = null }
            && Payload.Span.SequenceEqual(other.Payload.Span)
            && HeadersEqual(Headers, other.Headers);
    }

    private static bool HeadersEqual(ImmutableDictionary<string, string>? a, ImmutableDictionary<string, string>? b)
    {
        var x = a ?? ImmutableDictionary<string, string>.Empty;
        var y = b ?? ImmutableDictionary<string, string>.Empty;
        return x.Count == y.Count && x.All(p => y.TryGetValue(p.Key, out var v) && v == p.Value);
    }

    /// <summary>
    /// Validates <paramref name="spec"/> and builds the definition, or says why not. The queue's existence is
    /// checked by the schedule manager, which knows the declared queues.
    /// </summary>
    public static bool TryCreate(ScheduleOptions spec, out ScheduleDefinition definition, out ScheduleProblem? problem)
    {
        ArgumentNullException.ThrowIfNull(spec);
        definition = null!;
        problem = Validate(spec, out var every, out var catchup, out var payload);
        if (problem is not null) return false;
        definition = new ScheduleDefinition(
            spec.Queue!, spec.Type!, payload, spec.Headers is { Count: > 0 } h ? h.ToImmutableDictionary(StringComparer.Ordinal) : null,
            string.IsNullOrWhiteSpace(spec.Cron) ? null : spec.Cron.Trim(), every,
            string.IsNullOrWhiteSpace(spec.TimeZone) ? "UTC" : spec.TimeZone.Trim(),
            spec.StartAt?.UtcDateTime, spec.EndAt?.UtcDateTime, spec.Paused,
            spec.Misfire, spec.MaxCatchup ?? DefaultMaxCatchup, catchup ?? DefaultCatchupWindow, spec.Overlap);
        return true;
    }

    private static ScheduleProblem? Validate(ScheduleOptions spec, out TimeSpan? every, out TimeSpan? catchup, out ReadOnlyMemory<byte> payload)
    {
        every = null;
        catchup = null;
        payload = "null"u8.ToArray();
        var hasCron = !string.IsNullOrWhiteSpace(spec.Cron);
        var hasEvery = !string.IsNullOrWhiteSpace(spec.Every);
        if (hasCron == hasEvery) return new(ScheduleErrorCode.CronOrEvery, "Give exactly one of \"cron\" (5 fields, or 6 with seconds) and \"every\" (an ISO 8601 duration such as PT10S).");
        if (hasCron && ScheduleTimeline.ParseCron(spec.Cron!) is { Problem: { } cronProblem }) return cronProblem;
        if (hasEvery)
        {
            if (!TryParseDuration(spec.Every!, out var interval)) return new(ScheduleErrorCode.InvalidSchedule, $"\"every\" must be an ISO 8601 duration such as PT10S (or hh:mm:ss); got '{spec.Every}'.");
            if (interval < MinInterval) return new(ScheduleErrorCode.IntervalTooShort, $"\"every\" must be at least 1 second; got {interval}.");
            every = interval;
        }
        if (ScheduleTimeline.FindZone(string.IsNullOrWhiteSpace(spec.TimeZone) ? "UTC" : spec.TimeZone.Trim()) is null)
            return new(ScheduleErrorCode.UnknownTimeZone, $"Unknown time zone '{spec.TimeZone}': use an IANA id such as Europe/Berlin.");
        if (!Names.IsValidQueueName(spec.Queue)) return new(ScheduleErrorCode.InvalidSchedule, $"\"queue\" must name a queue: {Names.QueueNameRule}.");
        if (!Names.IsValidMessageType(spec.Type)) return new(ScheduleErrorCode.InvalidSchedule, $"\"type\" must be a message type: {Names.TypeNameRule}.");
        if (spec.StartAt is { } start && spec.EndAt is { } end && end <= start) return new(ScheduleErrorCode.InvalidSchedule, "\"endAt\" must be after \"startAt\".");
        if (spec.MaxCatchup is { } max && (max < 1 || max > MaxMaxCatchup)) return new(ScheduleErrorCode.InvalidSchedule, $"\"maxCatchup\" must be 1–{MaxMaxCatchup}; got {max}.");
        if (!Enum.IsDefined(spec.Misfire)) return new(ScheduleErrorCode.InvalidSchedule, "\"misfire\" must be fireOnce, fireAll or skip.");
        if (!Enum.IsDefined(spec.Overlap)) return new(ScheduleErrorCode.InvalidSchedule, "\"overlap\" must be skip, bufferOne or allow.");
        if (!string.IsNullOrWhiteSpace(spec.CatchupWindow))
        {
            if (!TryParseDuration(spec.CatchupWindow, out var window) || window < TimeSpan.Zero || window > TimeSpan.FromDays(366))
                return new(ScheduleErrorCode.InvalidSchedule, $"\"catchupWindow\" must be a duration of 0 – 366 days (ISO 8601 such as PT24H, or hh:mm:ss); got '{spec.CatchupWindow}'.");
            catchup = window;
        }
        if (spec.Payload is { } json)
        {
            try
            {
                using var _ = JsonDocument.Parse(json);
            }
            catch (JsonException e)
            {
                return new(ScheduleErrorCode.InvalidSchedule, $"\"payload\" is not valid JSON: {e.Message}");
            }
            payload = Encoding.UTF8.GetBytes(json);
        }
        return null;
    }

    /// <summary>Parses an ISO 8601 duration (<c>PT10S</c>, <c>P1D</c>) or a .NET time span (<c>00:00:10</c>).</summary>
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Trim();
        if (text.StartsWith('P') || text.StartsWith("-P", StringComparison.Ordinal))
        {
            try
            {
                value = XmlConvert.ToTimeSpan(text);
                return true;
            }
            catch (FormatException)
            {
            }
            catch (OverflowException)
            {
            }
            value = default;
            return false;
        }
        return TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out value);
    }
}

/// <summary>
/// The occurrences of a definition: Cronos for cron expressions (in the schedule's zone), arithmetic for fixed
/// intervals; both bounded by <see cref="ScheduleDefinition.StartAt"/> and <see cref="ScheduleDefinition.EndAt"/>.
/// All times are UTC.
/// </summary>
public sealed class ScheduleTimeline
{
    private readonly CronExpression? _cron;
    private readonly TimeZoneInfo _zone;
    private readonly long _intervalTicks;
    private readonly DateTime _anchor;
    private readonly DateTime? _start;
    private readonly DateTime? _end;

    /// <summary>Builds the timeline of a valid definition.</summary>
    /// <exception cref="ArgumentException">The definition's cron or zone is invalid (it was not built by <see cref="ScheduleDefinition.TryCreate"/>).</exception>
    public ScheduleTimeline(ScheduleDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        _zone = FindZone(definition.TimeZone) ?? throw new ArgumentException($"Unknown time zone '{definition.TimeZone}'.", nameof(definition));
        if (definition.Cron is { } cron) _cron = ParseCron(cron).Expression ?? throw new ArgumentException($"Invalid cron '{cron}'.", nameof(definition));
        else _intervalTicks = (definition.Every ?? throw new ArgumentException("A definition needs a cron or an interval.", nameof(definition))).Ticks;
        _start = definition.StartAt;
        _end = definition.EndAt;
        _anchor = _start ?? DateTime.UnixEpoch;
    }

    /// <summary>Parses a cron expression: 6 fields mean seconds first. The problem carries Cronos's message.</summary>
    public static (CronExpression? Expression, ScheduleProblem? Problem) ParseCron(string cron)
    {
        ArgumentNullException.ThrowIfNull(cron);
        var text = cron.Trim();
        var format = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard;
        try
        {
            return (CronExpression.Parse(text, format), null);
        }
        catch (CronFormatException e)
        {
            return (null, new ScheduleProblem(ScheduleErrorCode.InvalidCron, $"Invalid cron expression '{text}': {e.Message}"));
        }
    }

    /// <summary>The zone of an IANA (or Windows) id; null when unknown.</summary>
    public static TimeZoneInfo? FindZone(string id)
    {
        if (string.IsNullOrWhiteSpace(id)) return null;
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (TimeZoneNotFoundException)
        {
            return null;
        }
        catch (InvalidTimeZoneException)
        {
            return null;
        }
    }

    /// <summary>The first occurrence strictly after <paramref name="afterUtc"/>; null when there is none (past <c>EndAt</c>).</summary>
    public DateTime? Next(DateTime afterUtc)
    {
        afterUtc = Utc(afterUtc);
        DateTime? next;
        if (_start is { } start && start > afterUtc)
            next = _cron is null ? start : _cron.GetNextOccurrence(start, _zone, inclusive: true);
        else if (_cron is not null)
            next = _cron.GetNextOccurrence(afterUtc, _zone);
        else
        {
            var k = afterUtc < _anchor ? 0 : (afterUtc - _anchor).Ticks / _intervalTicks + 1;
            next = Add(_anchor, k);
        }
        return next is { } n && (_end is null || n <= _end) ? n : null;
    }

    /// <summary>The last occurrence strictly before <paramref name="beforeUtc"/>; null when there is none (before <c>StartAt</c>).</summary>
    public DateTime? Previous(DateTime beforeUtc)
    {
        beforeUtc = Utc(beforeUtc);
        if (_end is { } end && beforeUtc > end) beforeUtc = end.AddTicks(1);
        DateTime? previous;
        if (_cron is not null)
        {
            // Cronos works in whole seconds and its "previous" is strictly before: round a fractional bound up.
            var remainder = beforeUtc.Ticks % TimeSpan.TicksPerSecond;
            var bound = remainder == 0 ? beforeUtc : beforeUtc.AddTicks(TimeSpan.TicksPerSecond - remainder);
            previous = null;
            // Cronos's backward search maps a spring-forward gap differently from its forward one (the last valid second
            // before the gap instead of the first after it). The timeline is the forward sequence, so the backward search
            // only finds a starting point two occurrences back and the answer is walked forward from there.
            if (_cron.GetPreviousOccurrence(bound, _zone) is { } hint)
            {
                var from = (_cron.GetPreviousOccurrence(hint, _zone) ?? hint).AddTicks(-1);
                while (_cron.GetNextOccurrence(from, _zone) is { } next && next < beforeUtc) previous = from = next;
            }
        }
        else
        {
            if (beforeUtc <= _anchor) return null;
            var k = (beforeUtc - _anchor).Ticks / _intervalTicks;
            if ((beforeUtc - _anchor).Ticks % _intervalTicks == 0) k--;
            previous = Add(_anchor, k);
        }
        return previous is { } p && (_start is null || p >= _start) ? p : null;
    }

    /// <summary>The occurrences in (<paramref name="afterUtc"/>, <paramref name="throughUtc"/>], oldest first, at most <paramref name="limit"/>.</summary>
    public IReadOnlyList<DateTime> Between(DateTime afterUtc, DateTime throughUtc, int limit)
    {
        var list = new List<DateTime>();
        var cursor = afterUtc;
        while (list.Count < limit && Next(cursor) is { } next && next <= throughUtc)
        {
            list.Add(next);
            cursor = next;
        }
        return list;
    }

    /// <summary>
    /// How many occurrences lie in (<paramref name="afterUtc"/>, <paramref name="throughUtc"/>]. Exact for intervals;
    /// for cron expressions counted one by one up to <paramref name="cap"/> (<c>Capped</c> then says the count is a lower bound).
    /// </summary>
    public (long Count, bool Capped) Count(DateTime afterUtc, DateTime throughUtc, long cap = 1_000_000)
    {
        if (throughUtc <= afterUtc || Next(afterUtc) is not { } first || first > throughUtc) return (0, false);
        if (_cron is null)
        {
            var last = Previous(throughUtc.AddTicks(1))!.Value;
            return ((last - first).Ticks / _intervalTicks + 1, false);
        }
        long count = 0;
        DateTime? cursor = first;
        while (cursor is { } c && c <= throughUtc)
        {
            if (++count >= cap) return (count, true);
            cursor = Next(c);
        }
        return (count, false);
    }

    private DateTime? Add(DateTime anchor, long k)
    {
        var ticks = anchor.Ticks + k * _intervalTicks;
        return ticks > DateTime.MaxValue.Ticks || ticks < 0 ? null : new DateTime(ticks, DateTimeKind.Utc);
    }

    private static DateTime Utc(DateTime time) => time.Kind == DateTimeKind.Utc ? time : DateTime.SpecifyKind(time, DateTimeKind.Utc);
}

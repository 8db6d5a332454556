using System.Globalization;
using System.Text;
using Actors.Protocol;

namespace Actors.Http.Dashboard;

/// <summary>
/// One sample of a queue's statistics for the dashboard's charts: what the queue page's five charts draw (depth, in
/// flight, scheduled and dead-lettered; arrivals and completions; mean wait and service; L against λW; workers against
/// suggested). Values are single precision: plenty for a chart, half the memory of doubles.
/// </summary>
/// <param name="Time">Unix time in seconds.</param>
/// <param name="Depth">Messages waiting.</param>
/// <param name="InFlight">Messages being handled.</param>
/// <param name="Scheduled">Messages due later (delayed or waiting for a retry).</param>
/// <param name="Dead">Dead letters held.</param>
/// <param name="Arrivals">Arrival rate λ per second.</param>
/// <param name="Completions">Completion rate per second.</param>
/// <param name="WaitMs">Mean wait W (enqueue to start) in milliseconds.</param>
/// <param name="ServiceMs">Mean service time in milliseconds.</param>
/// <param name="LittleW">Little's law λW: the depth the rates and wait time imply.</param>
/// <param name="Workers">Workers.</param>
/// <param name="Suggested">Workers the measured λ and service time call for.</param>
internal readonly record struct HistoryPoint(
    long Time, float Depth, float InFlight, float Scheduled, float Dead, float Arrivals, float Completions,
    float WaitMs, float ServiceMs, float LittleW, float Workers, float Suggested)
{
    /// <summary>How many values a point holds (besides its time).</summary>
    public const int Count = 11;

    /// <summary>The point of <paramref name="q"/> at <paramref name="time"/>.</summary>
    public static HistoryPoint From(long time, QueueQueries.QueueStats q) => new(time, q.Depth, q.InFlight, q.Scheduled, q.DeadLettered,
        (float)q.ArrivalRate, (float)q.CompletionRate, (float)q.MeanWait.TotalMilliseconds, (float)q.MeanService.TotalMilliseconds,
        (float)q.LittlesLawWaiting, q.Workers, q.SuggestedWorkers);

    /// <summary>The value at <paramref name="index"/> (0 to <see cref="Count"/> − 1, in the order of the constructor).</summary>
    public float this[int index] => index switch
    {
        0 => Depth, 1 => InFlight, 2 => Scheduled, 3 => Dead, 4 => Arrivals, 5 => Completions,
        6 => WaitMs, 7 => ServiceMs, 8 => LittleW, 9 => Workers, 10 => Suggested,
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    /// <summary>A point from its values in index order.</summary>
    public static HistoryPoint Of(long time, ReadOnlySpan<float> v) => new(time, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10]);

    /// <summary>
    /// The charts and the indexes of their series, keyed as the queue page's <c>data-chart</c> elements: the history
    /// JSON and the stream's <c>point</c> event are both built from this one table.
    /// </summary>
    public static readonly (string Chart, int[] Series)[] Charts =
    [
        ("depth", [0, 1, 2]), ("rates", [4, 5]), ("times", [6, 7]), ("little", [0, 8]), ("workers", [9, 10]),
    ];

    /// <summary>The stream's <c>point</c> event: <c>{"t":…,"depth":[…],"rates":[…],…}</c>.</summary>
    public string ToJson()
    {
        var json = new StringBuilder(160).Append("{\"t\":").Append(Time);
        foreach (var (chart, series) in Charts)
        {
            json.Append(",\"").Append(chart).Append("\":[");
            for (var i = 0; i < series.Length; i++) AppendNumber(i > 0 ? json.Append(',') : json, this[series[i]]);
            json.Append(']');
        }
        return json.Append('}').ToString();
    }

    /// <summary>
    /// Points as columns for uPlot: <c>{"t":[…],"depth":[[…],[…],[…]],…}</c>. Where two points are further apart than
    /// <paramref name="gap"/> seconds (the node was down), a null point breaks the lines instead of joining them.
    /// </summary>
    public static string ToColumnsJson(IReadOnlyList<HistoryPoint> points, long gap)
    {
        var breaks = new List<int>();
        for (var i = 1; i < points.Count; i++) if (points[i].Time - points[i - 1].Time > gap) breaks.Add(i);
        var json = new StringBuilder(64 + points.Count * Count * 6).Append("{\"t\":[");
        Column(json, points, breaks, p => json.Append(p.Time), p => json.Append(p.Time + 1));
        json.Append(']');
        foreach (var (chart, series) in Charts)
        {
            json.Append(",\"").Append(chart).Append("\":[");
            for (var s = 0; s < series.Length; s++)
            {
                var index = series[s];
                json.Append(s > 0 ? ",[" : "[");
                Column(json, points, breaks, p => AppendNumber(json, p[index]), _ => json.Append("null"));
                json.Append(']');
            }
            json.Append(']');
        }
        return json.Append('}').ToString();
    }

    private static void Column(StringBuilder json, IReadOnlyList<HistoryPoint> points, List<int> breaks, Action<HistoryPoint> value, Action<HistoryPoint> gap)
    {
        var next = 0;
        for (var i = 0; i < points.Count; i++)
        {
            if (i > 0) json.Append(',');
            if (next < breaks.Count && breaks[next] == i)
            {
                gap(points[i - 1]);
                json.Append(',');
                next++;
            }
            value(points[i]);
        }
    }

    private static StringBuilder AppendNumber(StringBuilder json, float value) =>
        float.IsFinite(value) ? json.Append(Math.Round(value, 3).ToString("0.###", CultureInfo.InvariantCulture)) : json.Append('0');
}

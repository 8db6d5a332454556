using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using LinqToDB.Data;

namespace Actors.Monitoring;

/// <summary>
/// Opt-in diagnostics of the write path: where one in-process enqueue's round trip goes, stage by stage. Off by
/// default, when every hook costs one static field read; <see cref="Enable"/> turns it on for the process (a load test,
/// a profiling session), never in production.
/// <para>
/// Stages of one single-message enqueue, from <see cref="Stopwatch"/> timestamps taken on the way:
/// <c>to_queue</c> (the client's tell until the queue actor buffers it), <c>buffered</c> (until its write starts, while
/// the previous write is in flight), <c>journal_mailbox</c> (until the journal actor serializes the write's first
/// event), <c>to_sql</c> (until the SQL library opens its first statement for it: the journal's write queue, the
/// connection and the transaction), <c>insert</c> (the INSERT statements), <c>commit</c> (the transaction's commit,
/// with SQLite's fsync), <c>to_callback</c> (until the queue's persist callback runs), <c>to_client</c> (until the
/// Accepted reply completes the client's task), and <c>total</c>.
/// </para>
/// <para>
/// The SQL stages come from the SQL library's connection trace, which names no write: they are charged to the write
/// the journal serialized last, which is exact while one write is in flight (the SQLite journal's setting) and an
/// approximation when several queues write at once. Batches of messages are not traced.
/// </para>
/// </summary>
public static class WritePathBreakdown
{
    /// <summary>The stages reported, in the order of the round trip.</summary>
    public static readonly IReadOnlyList<string> Stages = ["to_queue", "buffered", "journal_mailbox", "to_sql", "insert", "commit", "to_callback", "to_client", "total"];

    private static readonly ConcurrentDictionary<(IActorRef Client, long Correlation), MessageTrace> Messages = new();
    private static readonly ConcurrentDictionary<object, WriteTrace> Events = new(ReferenceEqualityComparer.Instance);
    private static readonly List<long>[] Samples = Stages.Select(_ => new List<long>()).ToArray();
    private static WriteTrace? _inJournal;

    /// <summary>Whether the breakdown is being recorded.</summary>
    public static bool Enabled { get; private set; }

    /// <summary>
    /// Starts recording (and the SQL library's connection trace, for connections opened from now on), forgetting what
    /// was recorded before.
    /// </summary>
    public static void Enable()
    {
        foreach (var samples in Samples) lock (samples) samples.Clear();
        DataConnection.TraceSwitch.Level = TraceLevel.Info;
        DataConnection.DefaultOnTraceConnection = OnSqlTrace;
        Enabled = true;
    }

    /// <summary>Stops recording.</summary>
    public static void Disable()
    {
        Enabled = false;
        DataConnection.TraceSwitch.Level = TraceLevel.Off;
        Messages.Clear();
        Events.Clear();
    }

    /// <summary>The 50th and 99th percentile in milliseconds of each stage recorded so far, and how many round trips were recorded.</summary>
    public static IReadOnlyDictionary<string, (double P50Ms, double P99Ms, int Count)> Percentiles()
    {
        var result = new Dictionary<string, (double, double, int)>(StringComparer.Ordinal);
        for (var s = 0; s < Stages.Count; s++)
        {
            long[] sorted;
            lock (Samples[s]) sorted = Samples[s].ToArray();
            Array.Sort(sorted);
            result[Stages[s]] = (Ms(At(sorted, 0.50)), Ms(At(sorted, 0.99)), sorted.Length);
        }
        return result;
    }

    private static long At(long[] sorted, double quantile) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(quantile * sorted.Length) - 1)];

    private static double Ms(long ticks) => Math.Round(ticks * 1000.0 / Stopwatch.Frequency, 3);

    /// <summary>The client tells a queue an enqueue whose reply goes to <paramref name="client"/> under <paramref name="correlation"/>.</summary>
    internal static void Sent(IActorRef client, long correlation) => Messages[(client, correlation)] = new MessageTrace { SentAt = Stopwatch.GetTimestamp() };

    /// <summary>The queue buffered that enqueue for its next write: the trace goes with it (null when it is not traced).</summary>
    internal static MessageTrace? Buffered(IActorRef client, long correlation)
    {
        if (!Messages.TryGetValue((client, correlation), out var trace)) return null;
        trace.BufferedAt = Stopwatch.GetTimestamp();
        return trace;
    }

    /// <summary>A write with <paramref name="events"/> starts; the traced messages it carries wait for it.</summary>
    internal static void WriteStarted(IEnumerable<object> events, IEnumerable<MessageTrace?> messages)
    {
        var write = new WriteTrace { StartedAt = Stopwatch.GetTimestamp() };
        foreach (var message in messages) if (message is not null) message.Write = write;
        foreach (var evt in events) Events[evt] = write;
    }

    /// <summary>The journal serializes <paramref name="evt"/>: its write has left the journal actor's mailbox.</summary>
    internal static void Serializing(object evt)
    {
        if (!Events.TryGetValue(evt, out var write)) return;
        if (write.SerializedAt == 0) write.SerializedAt = Stopwatch.GetTimestamp();
        _inJournal = write;
    }

    /// <summary>The queue's persist callback for <paramref name="evt"/> runs.</summary>
    internal static void Committed(object evt)
    {
        if (!Events.TryRemove(evt, out var write)) return;
        if (write.CallbackAt == 0) write.CallbackAt = Stopwatch.GetTimestamp();
    }

    /// <summary>The client's reply for <paramref name="correlation"/> arrived: the round trip's stages are recorded.</summary>
    internal static void Replied(IActorRef client, long correlation)
    {
        if (!Messages.TryRemove((client, correlation), out var trace) || trace.Write is not { CallbackAt: > 0 } write || trace.BufferedAt == 0) return;
        var now = Stopwatch.GetTimestamp();
        Record(0, trace.BufferedAt - trace.SentAt);
        Record(1, write.StartedAt - trace.BufferedAt);
        if (write.SerializedAt > 0 && write.SqlStartedAt > 0 && write.InsertEndedAt > 0 && write.CommitEndedAt > 0)
        {
            Record(2, write.SerializedAt - write.StartedAt);
            Record(3, write.SqlStartedAt - write.SerializedAt);
            Record(4, write.InsertEndedAt - write.SqlStartedAt);
            Record(5, write.CommitEndedAt - write.InsertEndedAt);
            Record(6, write.CallbackAt - write.CommitEndedAt);
        }
        Record(7, now - write.CallbackAt);
        Record(8, now - trace.SentAt);
    }

    private static void Record(int stage, long ticks)
    {
        var samples = Samples[stage];
        lock (samples) samples.Add(Math.Max(0, ticks));
    }

    private static void OnSqlTrace(TraceInfo info)
    {
        if (_inJournal is not { } write || info.TraceInfoStep is not (TraceInfoStep.BeforeExecute or TraceInfoStep.AfterExecute)) return;
        var now = Stopwatch.GetTimestamp();
        var before = info.TraceInfoStep == TraceInfoStep.BeforeExecute;
        switch (info.Operation)
        {
            case TraceOperation.CommitTransaction when !before:
                write.CommitEndedAt = now;
                Interlocked.CompareExchange(ref _inJournal, null, write);
                break;
            case TraceOperation.ExecuteReader:
                break;
            default:
                if (before && write.SqlStartedAt == 0) write.SqlStartedAt = now;
                else if (!before && write.SqlStartedAt > 0 && write.CommitEndedAt == 0) write.InsertEndedAt = now;
                break;
        }
    }

    /// <summary>One traced enqueue.</summary>
    internal sealed class MessageTrace
    {
        public long SentAt { get; init; }
        public long BufferedAt { get; set; }
        public WriteTrace? Write { get; set; }
    }

    /// <summary>The write that carries traced enqueues.</summary>
    internal sealed class WriteTrace
    {
        public long StartedAt { get; init; }
        public long SerializedAt { get; set; }
        public long SqlStartedAt { get; set; }
        public long InsertEndedAt { get; set; }
        public long CommitEndedAt { get; set; }
        public long CallbackAt { get; set; }
    }
}

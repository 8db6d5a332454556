using System.Collections.Immutable;
using System.Diagnostics;
using Actors.Protocol;

namespace Actors.Monitoring;

/// <summary>
/// Spans: a producer span per enqueue request whose W3C context travels with the message as the
/// <see cref="MessageHeaders.TraceParent"/> and <see cref="MessageHeaders.TraceState"/> headers, and a consumer span
/// per attempt that is its child and links to it (the messaging conventions allow the creation context as the parent
/// of a single message's processing), so one trace runs from the request through every attempt, on whatever node,
/// and a parent-based sampler keeps or drops all of it together. The consumer span is current while the handler
/// runs, so the handler's own outgoing calls (an HttpClient's span) are its children. A batch handler call, which
/// serves messages of many traces, is a root span linked to each of them.
/// </summary>
public static partial class ActorsTelemetry
{
    /// <summary>Starts the producer span of an enqueue to <paramref name="queue"/>, or null when nobody listens.</summary>
    internal static Activity? StartSend(string queue, int batchSize = 1)
    {
        if (!Source.HasListeners()) return null;
        var activity = Source.StartActivity(SpanNames(queue).Send, ActivityKind.Producer);
        if (activity is null) return null;
        activity.SetTag("messaging.system", MessagingSystem);
        activity.SetTag("messaging.operation.type", "send");
        activity.SetTag("messaging.operation.name", "send");
        activity.SetTag("messaging.destination.name", queue);
        if (batchSize > 1) activity.SetTag("messaging.batch.message_count", batchSize);
        return activity;
    }

    /// <summary>
    /// <paramref name="headers"/> with the trace context of <paramref name="activity"/> added when the producer set no
    /// <c>traceparent</c> of its own; otherwise unchanged. A span the sampler did not record still goes with the
    /// message (its flags say "not sampled"), so the consumer side follows the same decision instead of starting a new
    /// trace of its own.
    /// </summary>
    internal static ImmutableDictionary<string, string>? WithTraceContext(ImmutableDictionary<string, string>? headers, Activity? activity)
    {
        // No producer span: the sampler dropped it under a local parent that was not sampled either (OpenTelemetry
        // creates no span then), and that parent's context is the message's.
        if (activity is null && Source.HasListeners()) activity = Activity.Current;
        if (activity is null || activity.IdFormat != ActivityIdFormat.W3C) return headers;
        if (headers is not null && headers.ContainsKey(MessageHeaders.TraceParent)) return headers;
        var with = (headers ?? ImmutableDictionary<string, string>.Empty).SetItem(MessageHeaders.TraceParent, activity.Id!);
        return activity.TraceStateString is { Length: > 0 } state ? with.SetItem(MessageHeaders.TraceState, state) : with;
    }

    /// <summary>
    /// Starts the consumer span of one attempt on the current thread (it becomes <see cref="Activity.Current"/>),
    /// the child of the producer context in <paramref name="headers"/> and linked to it; null when nobody listens.
    /// </summary>
    internal static Activity? StartProcess(string queueId, long messageId, int attempt, string type, ImmutableDictionary<string, string> headers)
    {
        if (!Source.HasListeners()) return null;
        ActivityLink[]? links = null;
        ActivityContext producer = default;
        if (headers.TryGetValue(MessageHeaders.TraceParent, out var parent)
            && ActivityContext.TryParse(parent, headers.TryGetValue(MessageHeaders.TraceState, out var state) ? state : null, isRemote: true, out producer))
        {
            // The trace was not sampled where it began: the consumer span follows that decision, and is not even
            // created (a parent-based sampler would create it unrecorded, only to drop it).
            if ((producer.TraceFlags & ActivityTraceFlags.Recorded) == 0) return null;
            links = [new ActivityLink(producer)];
        }
        var names = SpanNames(queueId);
        // The producer's child, or a root of its own without one, whatever happens to be current on the handler thread.
        var activity = Source.StartActivity(ActivityKind.Consumer, parentContext: producer, tags: null, links: links, name: names.Process);
        if (activity is null) return null;
        if (activity.IsAllDataRequested)
        {
            activity.SetTag("messaging.system", MessagingSystem);
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.operation.name", "process");
            activity.SetTag("messaging.destination.name", names.Queue);
            if (names.Partition is { } partition) activity.SetTag("messaging.destination.partition.id", partition);
            activity.SetTag("messaging.message.id", messageId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            activity.SetTag("messaging.message.type", type);
            activity.SetTag("actors.attempt", attempt);
        }
        return activity;
    }

    /// <summary>
    /// Starts the consumer span of one batch handler call, linked to the producer context of each message that has
    /// one; null when nobody listens.
    /// </summary>
    internal static Activity? StartProcessBatch(IReadOnlyList<Handlers.BatchInput> items)
    {
        if (!Source.HasListeners() || items.Count == 0) return null;
        var links = new List<ActivityLink>(items.Count);
        foreach (var item in items)
        {
            var headers = item.Context.Headers;
            if (headers.TryGetValue(MessageHeaders.TraceParent, out var parent)
                && ActivityContext.TryParse(parent, headers.TryGetValue(MessageHeaders.TraceState, out var state) ? state : null, isRemote: true, out var producer))
                links.Add(new ActivityLink(producer));
        }
        var names = SpanNames(items[0].Context.QueueId);
        var activity = Source.StartActivity(ActivityKind.Consumer, parentContext: default, tags: null, links: links, name: names.Process);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", MessagingSystem);
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.operation.name", "process");
            activity.SetTag("messaging.destination.name", names.Queue);
            if (names.Partition is { } partition) activity.SetTag("messaging.destination.partition.id", partition);
            activity.SetTag("messaging.message.type", items[0].Context.Type);
            activity.SetTag("messaging.batch.message_count", items.Count);
        }
        return activity;
    }

    /// <summary>
    /// The span names and destination attributes of a queue partition (by its entity id, or a queue name), built once
    /// and shared, so a span per message allocates no strings for them.
    /// </summary>
    private static QueueSpanNames SpanNames(string queueId) =>
        SpanNamesByQueue.TryGetValue(queueId, out var names) ? names : SpanNamesByQueue.GetOrAdd(queueId, static id =>
        {
            var (queue, partition) = Partitions.Parse(id);
            return new QueueSpanNames(queue, "send " + queue, "process " + queue,
                partition == 0 ? null : partition.ToString(System.Globalization.CultureInfo.InvariantCulture));
        });

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, QueueSpanNames> SpanNamesByQueue = new(StringComparer.Ordinal);

    private sealed record QueueSpanNames(string Queue, string Send, string Process, string? Partition);

    /// <summary>Marks <paramref name="activity"/> failed with <paramref name="error"/>.</summary>
    internal static void SetError(Activity? activity, Exception error)
    {
        if (activity is null) return;
        activity.SetStatus(ActivityStatusCode.Error, error.Message);
        activity.SetTag("error.type", error.GetType().FullName);
    }

    /// <summary>Records the client's enqueue round trip and ends its producer span.</summary>
    internal static void EndSend(Activity? activity, string queue, long startedAt, object reply)
    {
        var error = reply switch
        {
            QueueCommands.Rejected rejected => rejected.Code.ToString(),
            Exception e => e.GetType().FullName,
            _ => null,
        };
        if (OperationDuration.Enabled)
        {
            var elapsed = Stopwatch.GetElapsedTime(startedAt).TotalSeconds;
            if (error is null) OperationDuration.Record(elapsed, QueueTags(queue));
            else OperationDuration.Record(elapsed, QueueTags(queue, "error.type", error));
        }
        if (activity is null) return;
        if (error is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, reply is QueueCommands.Rejected r ? r.Reason : ((Exception)reply).Message);
            activity.SetTag("error.type", error);
        }
        else if (reply is QueueCommands.Accepted accepted)
        {
            activity.SetTag("messaging.message.id", accepted.MessageId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        activity.Dispose();
    }
}

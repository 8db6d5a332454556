using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;

namespace Actors.Monitoring;

/// <summary>
/// Counts Akka's own undeliverable messages (to stopped actors, late replies, dropped messages) per message type
/// and logs a summary at most once per <see cref="LogInterval"/>, so none disappears silently and none floods the
/// log. No accepted work depends on them: a queue keeps every message until its completion is stored.
/// <para>A quiet node produces none (a test holds it to zero), so any line in the summary is worth reading: a
/// message no actor handles (<c>unhandled:</c>), one sent to a stopped actor (<c>dead-letter:</c>), or one dropped.</para>
/// </summary>
internal sealed class DeadLetterMonitor : ReceiveActor, IWithTimers
{
    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _sinceLastLog = new(StringComparer.Ordinal);

    public DeadLetterMonitor()
    {
        Receive<AllDeadLetters>(letter =>
        {
            var kind = letter switch
            {
                Dropped => "dropped",
                SuppressedDeadLetter => "suppressed",
                UnhandledMessage => "unhandled",
                _ => "dead-letter",
            };
            var key = $"{kind}:{letter.Message.GetType().Name}";
            _counts[key] = _counts.GetValueOrDefault(key) + 1;
            _sinceLastLog[key] = _sinceLastLog.GetValueOrDefault(key) + 1;
        });
        Receive<GetCounts>(_ => Sender.Tell(new Counts(_counts.ToImmutableDictionary(StringComparer.Ordinal))));
        Receive<LogTick>(_ =>
        {
            if (_sinceLastLog.Count == 0) return;
            var summary = string.Join(", ", _sinceLastLog.OrderByDescending(p => p.Value).Select(p => $"{p.Value} × {p.Key}"));
            Context.GetLogger().Info("Undeliverable messages in the last {0}: {1}", LogInterval, summary);
            _sinceLastLog.Clear();
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props() => Akka.Actor.Props.Create(() => new DeadLetterMonitor());

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(AllDeadLetters));
        Timers.StartPeriodicTimer("log", LogTick.Instance, LogInterval);
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    /// <summary>Ask for the counts so far; answered with <see cref="Counts"/>.</summary>
    public sealed class GetCounts
    {
        public static readonly GetCounts Instance = new();
        private GetCounts() { }
    }

    /// <summary>Undeliverable messages so far, by <c>kind:MessageType</c>.</summary>
    public sealed record Counts(ImmutableDictionary<string, long> ByCause);

    private sealed class LogTick : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly LogTick Instance = new();
        private LogTick() { }
    }
}

using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence.Query;

namespace Actors.Queues;

/// <summary>The messages the queue sends itself: timer ticks, the outcomes of journal reads, and the drain's checks.</summary>
internal sealed partial class QueueActor
{
    private sealed record PayloadsRead(IImmutableList<EventEnvelope> Events);

    private sealed record PayloadReadFailed(Exception Cause);


    private sealed class Tick : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly Tick Instance = new();
        private Tick() { }
    }

    /// <summary>The earliest scheduled message is due (or more due ones wait to be made ready).</summary>
    private sealed class DueTick : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly DueTick Instance = new();
        private DueTick() { }
    }

    /// <summary>The rate limit's next token is due.</summary>
    private sealed class PermitTick : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public const string Key = "permit";
        public static readonly PermitTick Instance = new();
        private PermitTick() { }
    }

    private sealed class RefreshWorkers : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly RefreshWorkers Instance = new();
        private RefreshWorkers() { }
    }

    /// <summary>The backoff before asking for replacement workers ended.</summary>
    private sealed class ReplaceWorkers : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public const string Key = "replace-workers";
        public static readonly ReplaceWorkers Instance = new();
        private ReplaceWorkers() { }
    }

    private sealed class DrainTimedOut : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly DrainTimedOut Instance = new();
        private DrainTimedOut() { }
    }

    /// <summary>Nothing is left to write or deliver: the draining queue checks whether it can answer.</summary>
    private sealed class DrainCheck : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly DrainCheck Instance = new();
        private DrainCheck() { }
    }
}

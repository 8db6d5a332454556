using System.Collections.Immutable;
using Actors.Protocol;
using Actors.State;
using Akka.Persistence.Query;
using static Actors.Protocol.QueueEvents;

namespace Actors.Queues;

/// <summary>
/// Decides when and how much to read back from the journal for payloads the queue keeps there: one read at a time,
/// a pause of a second after a read that failed or found nothing, and reads sized from the mean size of an enqueue
/// event to about half the payload budget. The actor runs the read itself and reports the outcome.
/// <para>A read that comes back without the event it was for (the journal no longer has it: deleted by hand, or
/// lost) is retried after the pause; after <see cref="ReadsBeforeGivingUp"/> such reads in a row for the same event,
/// the reader gives up on it and the queue dead-letters the messages that wait on it (reason
/// <see cref="QueueState.PayloadMissingReason"/>), so one lost event does not block the queue behind it for good. A
/// read that fails is not evidence of a missing event and never leads there.</para>
/// </summary>
internal sealed class PayloadReader
{
    /// <summary>How long reads pause after one failed or returned nothing useful.</summary>
    public static readonly TimeSpan PauseAfterFailure = TimeSpan.FromSeconds(1);

    /// <summary>The size assumed for an enqueue event before any was seen.</summary>
    public const long DefaultBytesPerEvent = 64 * 1024;

    // An estimate of what a message costs in an event besides its payload.
    private const int BytesPerMessageBesidesPayload = 64;

    /// <summary>Reads in a row that come back without the wanted event before the reader gives up on it.</summary>
    public const int ReadsBeforeGivingUp = 5;

    private readonly long _payloadMemoryBytes;
    private readonly TimeProvider _time;
    private DateTime _pausedUntil;
    private long _enqueuedBytes;
    private long _enqueueEvents;
    private long _reading;
    private long _missing;
    private int _misses;

    /// <summary>A reader for a queue with a payload budget of <paramref name="payloadMemoryBytes"/>, timed by <paramref name="time"/>.</summary>
    public PayloadReader(long payloadMemoryBytes, TimeProvider time)
    {
        _payloadMemoryBytes = payloadMemoryBytes;
        _time = time;
    }

    /// <summary>Whether a read is in flight.</summary>
    public bool InFlight { get; private set; }

    /// <summary>Events one read covers now: half the budget over the mean event size, 1 to <see cref="QueueActor.EventsPerPayloadRead"/>.</summary>
    public long EventsPerRead
    {
        get
        {
            var bytesPerEvent = _enqueueEvents == 0 ? DefaultBytesPerEvent : Math.Max(1, _enqueuedBytes / _enqueueEvents);
            return Math.Clamp(_payloadMemoryBytes / 2 / bytesPerEvent, 1, QueueActor.EventsPerPayloadRead);
        }
    }

    /// <summary>Keeps the mean size of an enqueue event (recovered or committed), to size reads.</summary>
    public void CountEnqueued(MessagesEnqueued enqueued)
    {
        _enqueueEvents++;
        foreach (var m in enqueued.Messages) _enqueuedBytes += m.Payload.Length + BytesPerMessageBesidesPayload;
    }

    /// <summary>
    /// Starts a read when none is in flight, reads are not paused and <paramref name="state"/> wants payloads:
    /// true with the journal range [<paramref name="from"/>, <paramref name="to"/>] to read.
    /// </summary>
    public bool TryStart(QueueState state, out long from, out long to)
    {
        from = to = 0;
        if (InFlight || (state.ReadyWithoutPayload == 0 && state.DeadWithoutPayload == 0)) return false;
        if (_time.GetUtcNow().UtcDateTime < _pausedUntil || state.PayloadsWanted is not { } wanted) return false;
        from = wanted;
        to = wanted + EventsPerRead - 1;
        _reading = wanted;
        InFlight = true;
        return true;
    }

    /// <summary>
    /// A read came back having given <paramref name="attached"/> messages their payloads; none pauses reads.
    /// <paramref name="wantedAfter"/> is what the state wants now (<see cref="QueueState.PayloadsWanted"/>): still the
    /// event the read started at means the journal did not return it. Returns that event's sequence number once it
    /// was missing from <see cref="ReadsBeforeGivingUp"/> reads in a row (the caller dead-letters what waits on it, see
    /// <see cref="QueueState.GiveUpPayloads"/>); otherwise null.
    /// </summary>
    public long? OnRead(int attached, long? wantedAfter)
    {
        InFlight = false;
        // The wanted event was not there: never expected, but a tight loop would not help.
        if (attached == 0) Pause();
        if (wantedAfter != _reading)
        {
            _misses = 0;
            return null;
        }
        if (_missing != _reading) (_missing, _misses) = (_reading, 0);
        if (++_misses < ReadsBeforeGivingUp) return null;
        _misses = 0;
        return _missing;
    }

    /// <summary>A read failed: reads pause.</summary>
    public void OnFailed()
    {
        InFlight = false;
        Pause();
    }

    /// <summary>
    /// <paramref name="info"/> with the payload of message <paramref name="id"/> from the events <paramref name="read"/>
    /// returns; without one when the read fails or the message is not among them.
    /// </summary>
    public static Task<QueueQueries.MessageInfo> WithPayloadFrom(Task<IImmutableList<EventEnvelope>> read, QueueQueries.MessageInfo info, long id) =>
        read.ContinueWith(done =>
        {
            var payload = done.IsCompletedSuccessfully
                ? done.Result.Select(e => e.Event).OfType<MessagesEnqueued>().SelectMany(e => e.Messages).FirstOrDefault(m => m.Id == id)?.Payload
                : null;
            return info with { Payload = payload };
        }, TaskScheduler.Default);

    /// <summary>
    /// <paramref name="info"/> with the archived result (<paramref name="isResult"/>) or payload of message
    /// <paramref name="id"/> from the archive events <paramref name="read"/> returns; without one when the read fails or
    /// the archive no longer has it.
    /// </summary>
    public static Task<QueueQueries.MessageInfo> WithArchivedFrom(Task<IImmutableList<EventEnvelope>> read, QueueQueries.MessageInfo info, long id, bool isResult) =>
        read.ContinueWith(done =>
        {
            var bytes = done.IsCompletedSuccessfully
                ? done.Result.Select(e => e.Event).OfType<PayloadsArchived>().SelectMany(e => e.Items).FirstOrDefault(i => i.Id == id && i.IsResult == isResult)?.Bytes
                : null;
            return isResult ? info with { Result = bytes } : info with { Payload = bytes };
        }, TaskScheduler.Default);

    private void Pause() => _pausedUntil = _time.GetUtcNow().UtcDateTime + PauseAfterFailure;
}

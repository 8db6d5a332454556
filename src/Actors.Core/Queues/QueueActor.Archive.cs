using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence.Query;
using static Actors.Protocol.QueueEvents;

namespace Actors.Queues;

/// <summary>
/// The queue's side of its <see cref="PayloadArchive"/>: it moves retained bytes past the budget there, one write at a
/// time, lets memory go of them once stored, reads archived payloads back for redriven messages, and trims the archive
/// after each snapshot.
/// </summary>
internal sealed partial class QueueActor
{
    private string ArchiveId => PayloadArchive.PersistenceIdFor(PersistenceId);

    private IActorRef Archive => _archive ??= Context.Watch(Context.ActorOf(PayloadArchive.Props(PersistenceId), "archive"));

    /// <summary>
    /// Moves the oldest dead letters' payloads and results to the archive while the retained bytes in memory exceed
    /// the queue's budget, one write at a time; memory lets go of them once the archive's write is stored.
    /// </summary>
    private void ArchiveRetained()
    {
        if (_archiving is not null || Now < _archivePausedUntil) return;
        var items = _state.TakeForArchive(ArchiveBytesPerWrite);
        if (items.Count == 0) return;
        _archiving = items.ToImmutableArray();
        Archive.Tell(new PayloadArchive.Store(_archiving.Value));
    }

    private void OnArchived(PayloadArchive.Stored stored)
    {
        _archiving = null;
        _archivedTo = Math.Max(_archivedTo, stored.SequenceNr);
        _state.MarkArchived(stored.SequenceNr, stored.Items);
        ArchiveRetained();
    }

    private void OnArchiveFailed(ImmutableArray<ArchivedPayload> items)
    {
        _archiving = null;
        _state.ArchiveFailed(items);
        _archivePausedUntil = Now + PayloadReader.PauseAfterFailure;
        _log.Warning("Queue {0}: could not archive {1} retained payload(s); they stay in memory and are tried again", _queueId, items.Length);
    }

    /// <summary>Reads the archived payloads of redriven messages that are next in line.</summary>
    private void ReadArchivedPayloads()
    {
        if (_archiveReading || Now < _archivePausedUntil || _state.ArchivedPayloadWanted is not { } from) return;
        _archiveReading = true;
        ReadEvents(from, from + EventsPerPayloadRead - 1, ArchiveId).PipeTo(Self,
            success: read => new ArchivedPayloadsRead(from, read),
            failure: e => new ArchivedPayloadReadFailed(e));
    }

    private void OnArchivedPayloadsRead(ArchivedPayloadsRead read)
    {
        _archiveReading = false;
        var attached = 0;
        foreach (var envelope in read.Events)
            if (envelope.Event is PayloadsArchived archived) attached += _state.AttachArchived(envelope.SequenceNr, archived);
        if (attached > 0) _archiveMisses = 0;
        else if (CountArchiveMiss(read.From))
        {
            var decisions = _state.GiveUpArchivedPayloads(read.From, Now);
            _log.Error("Queue {0}: the archive no longer has event {1} ({2} reads came back without it); dead-lettering the {3} redriven message(s) whose payload it held, reason {4}",
                _queueId, read.From, PayloadReader.ReadsBeforeGivingUp, decisions.Count, State.QueueState.PayloadMissingReason);
            foreach (var decision in decisions) _writer.BufferDecision(decision);
            Flush();
        }
        else
        {
            _archivePausedUntil = Now + PayloadReader.PauseAfterFailure;
            _log.Error("Queue {0}: the archive returned none of the payloads wanted from sequence number {1}; trying again in a second", _queueId, read.From);
        }
        Dispatch();
    }

    /// <summary>Counts a read that came back without archive event <paramref name="archiveSeq"/>: true once it missed <see cref="PayloadReader.ReadsBeforeGivingUp"/> reads in a row.</summary>
    private bool CountArchiveMiss(long archiveSeq)
    {
        if (_archiveMissing != archiveSeq) (_archiveMissing, _archiveMisses) = (archiveSeq, 0);
        if (++_archiveMisses < PayloadReader.ReadsBeforeGivingUp) return false;
        _archiveMisses = 0;
        return true;
    }

    /// <summary>
    /// Once a snapshot is saved, the archive events below the oldest one that it or the previous snapshot refers to
    /// are deleted: compaction keeps the previous snapshot as a fallback, so what it refers to must stay readable too.
    /// The first snapshot after a start trims nothing, as the previous one's references are not known.
    /// </summary>
    private void TrimArchive()
    {
        var trimTo = Math.Min(_archiveTrimTo, _previousSnapshotArchiveTrimTo);
        if (trimTo > 0) Archive.Tell(new PayloadArchive.Trim(trimTo));
        _previousSnapshotArchiveTrimTo = _archiveTrimTo;
        _archiveTrimTo = 0;
    }

    private sealed record ArchivedPayloadsRead(long From, IImmutableList<EventEnvelope> Events);

    private sealed record ArchivedPayloadReadFailed(Exception Cause);
}

using Actors.Configuration;
using Actors.Protocol;
using static Actors.Protocol.QueueEvents;

namespace Actors.State;

/// <summary>
/// Retained bytes kept in the queue's archive: which dead letters' payloads and results leave memory past
/// <see cref="QueueOptions.RetainedMemoryBytes"/>, what memory keeps of them once they are archived, and
/// how a redriven message gets its archived payload back.
/// </summary>
internal sealed partial class QueueState
{
    /// <summary>
    /// Dead letters' payloads and results to move to the archive, oldest first, when the retained bytes in memory
    /// exceed <see cref="QueueOptions.RetainedMemoryBytes"/>: enough to come down to three quarters of it (so archive
    /// writes come in batches), at most <paramref name="maxBytes"/> (and at least one item). Empty when within budget.
    /// Until <see cref="MarkArchived"/> they stay in memory; if the write fails, <see cref="ArchiveFailed"/> offers them again.
    /// </summary>
    public List<ArchivedPayload> TakeForArchive(long maxBytes)
    {
        var items = new List<ArchivedPayload>();
        if (RetainedBytes <= Options.RetainedMemoryBytes) return items;
        var excess = RetainedBytes - Options.RetainedMemoryBytes * 3 / 4;
        long taken = 0;
        while (taken < excess && (items.Count == 0 || taken < maxBytes) && _archiveCandidates.TryDequeue(out var candidate))
        {
            if (ArchiveCandidate(candidate) is not { } item) continue;
            items.Add(item);
            taken += item.Bytes.Length;
        }
        return items;
    }

    /// <summary>The item a candidate entry stands for, while its bytes are still in memory and not archived.</summary>
    private ArchivedPayload? ArchiveCandidate((long Id, bool IsResult) candidate)
    {
        if (candidate.IsResult)
            return _finishedById.TryGetValue(candidate.Id, out var finished) && finished is { ArchiveSeq: 0, Result: { Length: > 0 } result }
                ? new ArchivedPayload(candidate.Id, true, result) : null;
        return _dead.TryGetValue(candidate.Id, out var dead) && dead is { HasPayload: true, SequenceNr: 0, ArchiveSeq: 0, PayloadLength: > 0 }
            ? new ArchivedPayload(candidate.Id, false, dead.Payload) : null;
    }

    private void AddArchiveCandidate(long id, bool isResult)
    {
        _archiveCandidates.Enqueue((id, isResult));
        // Entries of items that left (results past retention, purged dead letters) are dropped, so the queue stays
        // proportional to what is retained.
        if (_archiveCandidates.Count <= 2 * (_finishedById.Count + _dead.Count) + 1024) return;
        var current = _archiveCandidates.Where(c => ArchiveCandidate(c) is not null).ToList();
        _archiveCandidates.Clear();
        foreach (var c in current) _archiveCandidates.Enqueue(c);
    }

    /// <summary>
    /// <paramref name="items"/> are stored in archive event <paramref name="archiveSeq"/>: those still retained in
    /// memory let go of their bytes and keep the sequence number. Returns the bytes freed.
    /// </summary>
    public long MarkArchived(long archiveSeq, IEnumerable<ArchivedPayload> items)
    {
        long freed = 0;
        foreach (var item in items)
        {
            if (ArchiveCandidate((item.Id, item.IsResult)) is null) continue;
            if (item.IsResult)
            {
                var finished = _finishedById[item.Id];
                freed += finished.ResultBytesInMemory;
                finished.Archived(archiveSeq);
            }
            else
            {
                var dead = _dead[item.Id];
                freed += dead.PayloadLength;
                dead.ArchiveSeq = archiveSeq;
                dead.DropPayload();
            }
        }
        RetainedBytes -= freed;
        return freed;
    }

    /// <summary>An archive write of <paramref name="items"/> failed: they are offered again.</summary>
    public void ArchiveFailed(IEnumerable<ArchivedPayload> items)
    {
        foreach (var item in items) AddArchiveCandidate(item.Id, item.IsResult);
    }

    /// <summary>The archive event holding the result of retained finished message <paramref name="id"/>; null when none does.</summary>
    public long? ArchivedResultSeq(long id) => _finishedById.TryGetValue(id, out var f) && f.ArchiveSeq != 0 ? f.ArchiveSeq : null;

    /// <summary>The archive event to read next for a redriven message waiting for its archived payload, if one is first in line.</summary>
    public long? ArchivedPayloadWanted => _order.ReturnWaitingForPayload is { SequenceNr: 0, ArchiveSeq: > 0 } waiting ? waiting.ArchiveSeq : null;

    /// <summary>Gives ready messages waiting for their archived payloads the ones archive event <paramref name="archiveSeq"/> holds; returns how many.</summary>
    public int AttachArchived(long archiveSeq, PayloadsArchived stored)
    {
        var attached = 0;
        foreach (var item in stored.Items)
        {
            if (item.IsResult || !_live.TryGetValue(item.Id, out var message)) continue;
            if (message is not { Stage: Stage.Ready, HasPayload: false, SequenceNr: 0 } || message.ArchiveSeq != archiveSeq) continue;
            message.AttachPayload(item.Bytes.ToArray());
            _order.PayloadAttached(message);
            attached++;
        }
        _order.Trim();
        return attached;
    }

    /// <summary>
    /// The lowest archive sequence number a snapshot refers to, or <paramref name="ifNone"/>: the archive may delete the
    /// events below it once the snapshot is saved.
    /// </summary>
    public static long ArchiveLowWatermark(QueueSnapshot snapshot, long ifNone)
    {
        var low = ifNone;
        foreach (var m in snapshot.Messages)
            if (m.ArchiveSeq != 0 && m.ArchiveSeq < low) low = m.ArchiveSeq;
        foreach (var f in snapshot.Succeeded)
            if (f.ArchiveSeq != 0 && f.ArchiveSeq < low) low = f.ArchiveSeq;
        return low;
    }

    /// <summary>
    /// The archive no longer has event <paramref name="archiveSeq"/>: the redriven messages waiting for a payload it held
    /// cannot get it back, so each gets a <see cref="DeadLettered"/> decision with reason <see cref="PayloadMissingReason"/>
    /// for the caller to write, as <see cref="GiveUpPayloads"/> does for the queue's own journal. They leave the dispatch
    /// order meanwhile (a rejected write puts them back with <see cref="ReturnToReady"/>).
    /// </summary>
    public List<DeadLettered> GiveUpArchivedPayloads(long archiveSeq, DateTime now)
    {
        var error = new ErrorInfo("PayloadMissing",
            $"The archive of queue '{QueueId}' no longer has event {archiveSeq}, which held this message's payload.", null, null, now);
        var decisions = new List<DeadLettered>();
        foreach (var message in _live.Values)
        {
            if (message is not { Stage: Stage.Ready, HasPayload: false, SequenceNr: 0 } || message.ArchiveSeq != archiveSeq) continue;
            LeaveStage(message);
            message.Stage = Stage.Ending;
            decisions.Add(new DeadLettered(message.Id, message.FailedAttempts, error, PayloadMissingReason));
        }
        decisions.Sort((a, b) => a.Id.CompareTo(b.Id));
        return decisions;
    }
}

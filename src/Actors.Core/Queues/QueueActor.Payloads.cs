using System.Collections.Immutable;
using Actors.State;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using static Actors.Protocol.QueueEvents;
using static Actors.Protocol.QueueQueries;

namespace Actors.Queues;

/// <summary>
/// Payloads kept in the journal: read back through the SQL read journal for dispatch, and (with the archive's) to answer
/// a status query.
/// </summary>
internal sealed partial class QueueActor
{
    /// <summary>Reads the next payloads the state wants from the journal, when the <see cref="PayloadReader"/> says so.</summary>
    private void ReadPayloads()
    {
        if (!_payloads.TryStart(_state, out var from, out var to)) return;
        ReadEvents(from, to).PipeTo(Self,
            success: read => new PayloadsRead(read),
            failure: e => new PayloadReadFailed(e));
    }

    /// <summary>A run of this queue's events (or, with <paramref name="persistenceId"/>, its archive's), through the SQL read journal.</summary>
    private Task<IImmutableList<EventEnvelope>> ReadEvents(long from, long to, string? persistenceId = null)
    {
        _materializer ??= Context.Materializer();
        try
        {
            // Opening the read journal waits (up to 5 s) for the write journal to start, and throws if it has not.
            _readJournal ??= PersistenceQuery.Get(Context.System).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        }
        catch (AggregateException e)
        {
            return Task.FromException<IImmutableList<EventEnvelope>>(e);
        }
        return _readJournal.CurrentEventsByPersistenceId(persistenceId ?? PersistenceId, from, to).RunWith(Sink.Seq<EventEnvelope>(), _materializer);
    }

    private void OnPayloadsRead(PayloadsRead read)
    {
        var attached = 0;
        foreach (var envelope in read.Events)
            if (envelope.Event is MessagesEnqueued enqueued) attached += _state.AttachPayloads(envelope.SequenceNr, enqueued);
        var wanted = _state.PayloadsWanted;
        if (_payloads.OnRead(attached, wanted) is { } missing) DeadLetterPayloadsMissing(missing);
        else if (attached == 0)
            _log.Error("Queue {0}: the journal returned none of the payloads wanted from sequence number {1}; trying again in a second", _queueId, wanted);
        Dispatch();
    }

    /// <summary>The journal lost event <paramref name="sequenceNr"/>: what waits on its payloads is dead-lettered, so the queue moves on.</summary>
    private void DeadLetterPayloadsMissing(long sequenceNr)
    {
        var decisions = _state.GiveUpPayloads(sequenceNr, Now);
        _log.Error("Queue {0}: the journal no longer has event {1} ({2} reads came back without it); dead-lettering the {3} message(s) whose payload it held, reason {4}",
            _queueId, sequenceNr, PayloadReader.ReadsBeforeGivingUp, decisions.Count, QueueState.PayloadMissingReason);
        foreach (var decision in decisions) _writer.BufferDecision(decision);
        Flush();
    }

    private void OnPayloadReadFailed(PayloadReadFailed failed)
    {
        _payloads.OnFailed();
        _log.Warning(failed.Cause, "Queue {0}: could not read payloads from the journal; retrying in a second", _queueId);
    }

    /// <summary>Answers <paramref name="replyTo"/> with what the queue knows of a message, its payload and result read back when only the journal or archive holds them.</summary>
    private void AnswerMessage(long messageId, IActorRef replyTo)
    {
        var info = _state.Describe(messageId);
        if (info is null)
        {
            replyTo.Tell(new MessageNotFound(_queueId, messageId));
            return;
        }
        if (_state.ArchivedResultSeq(messageId) is { } resultSeq)
        {
            PayloadReader.WithArchivedFrom(ReadEvents(resultSeq, resultSeq, ArchiveId), info, messageId, isResult: true).PipeTo(replyTo);
            return;
        }
        if (info.Payload is not null || _state.Find(messageId) is not { } message)
        {
            replyTo.Tell(info);
            return;
        }
        if (message is { SequenceNr: 0, ArchiveSeq: > 0 })
        {
            PayloadReader.WithArchivedFrom(ReadEvents(message.ArchiveSeq, message.ArchiveSeq, ArchiveId), info, messageId, isResult: false).PipeTo(replyTo);
            return;
        }
        // The payload is only in the journal: read its event and answer with it (the state is left as it is).
        PayloadReader.WithPayloadFrom(ReadEvents(message.SequenceNr, message.SequenceNr), info, message.Id).PipeTo(replyTo);
    }
}

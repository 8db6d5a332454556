using Actors.Protocol;
using Akka.Actor;
using Akka.Event;

namespace Actors.Queues;

/// <summary>The operator's dead-letter operations: redrive (one write, or a job of the <see cref="RedriveJobActor"/>) and purge.</summary>
internal sealed partial class QueueActor
{
    /// <summary>
    /// A selection of at most one chunk is one write, answered after it commits; a larger one becomes a persisted job
    /// of the <see cref="RedriveJobActor"/>, which answers once the job is stored and sends its chunks back here.
    /// </summary>
    private void OnRedrive(DeadLetterCommands.RedriveDeadLetters command)
    {
        var ids = _state.DeadLetters(command.Filter).Select(m => m.Id).ToList();
        if (ids.Count > _deadLetters.RedriveChunkSize)
        {
            _log.Info("Queue {0}: redriving {1} dead letter(s) at up to {2}/s as a job", _queueId, ids.Count, _options.RedrivePerSecond);
            _redriveJobs.Forward(new RedriveProtocol.StartJob(command.JobId ?? RedriveJobs.NewJobId(), [.. ids.Order()], command.RequestedBy, Sender));
        }
        else if (_deadLetters.BufferRedrive(_writer, ids, Sender, Now, Dispatch)) Flush();
        else Sender.Tell(new DeadLetterCommands.DeadLettersRedriven(_queueId, 0));
    }

    /// <summary>A redrive job's chunk: persisted like any decision; a draining queue refuses it (the job resumes after the restart).</summary>
    private void OnRedriveChunk(RedriveProtocol.Chunk chunk)
    {
        if (_pool.Retired) Sender.Tell(new RedriveProtocol.ChunkFailed(chunk.JobId, chunk.End, "the queue is shutting down"));
        else if (DeadLetterOperations.BufferChunk(_writer, _state, chunk, Sender, Now, Dispatch)) Flush();
    }

    private void OnPurge(DeadLetterCommands.PurgeDeadLetters command)
    {
        var ids = _state.DeadLetters(command.Filter).Select(m => m.Id).ToList();
        if (!_deadLetters.BufferPurge(_writer, ids, Sender, Now))
        {
            Sender.Tell(new DeadLetterCommands.DeadLettersPurged(_queueId, 0));
            return;
        }
        _log.Info("Queue {0}: purging {1} dead letter(s)", _queueId, ids.Count);
        Flush();
    }
}

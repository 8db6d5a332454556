namespace Actors.Protocol;

/// <summary>
/// Marker for every message that is stored in the journal or sent between nodes. The type is bound to
/// <see cref="Serialization.QueueMessageSerializer"/>, so none of them falls back to a CLR-type-name serializer.
/// </summary>
public interface IQueueMessage;

/// <summary>A message addressed to one queue: all a router or shard extractor needs to find the queue.</summary>
public interface IWithQueueId
{
    /// <summary>The queue's name.</summary>
    string QueueId { get; }
}

using Akka.Actor;
using Actors.Amqp.Codec;
using Actors.Client;
using Actors.Http.Security;
using Actors.Protocol;
using static Actors.Amqp.Codec.AmqpMethod;

namespace Actors.Amqp;

/// <summary>
/// <c>queue.purge</c> and <c>queue.delete</c> (both need <c>manage</c> on the queue), and the server-sent
/// <c>basic.cancel</c> a consumer of a deleted queue gets when its client announced <c>consumer_cancel_notify</c>.
/// </summary>
internal sealed partial class AmqpChannel
{
    /// <summary>Purges what waits for delivery (see <see cref="IQueueClient.PurgeQueueAsync"/>); unacknowledged deliveries stay.</summary>
    private async ValueTask<uint> PurgeQueueAsync(string queue)
    {
        RequireManage(queue, "purging");
        try
        {
            return (uint)Math.Max(0, await connection.Queues.PurgeQueueAsync(queue, connection.Closed));
        }
        catch (QueueException e)
        {
            throw Refusal(queue, e);
        }
    }

    /// <summary>Deletes a queue declared at run time (see <see cref="IQueueClient.DeleteQueueAsync"/>); a configured one → 406.</summary>
    private async ValueTask<uint> DeleteQueueAsync(Queue.Delete delete)
    {
        RequireManage(delete.Queue, "deleting");
        try
        {
            return (uint)Math.Max(0, await connection.Queues.DeleteQueueAsync(delete.Queue, delete.IfUnused, delete.IfEmpty, connection.Closed));
        }
        catch (QueueException e)
        {
            throw Refusal(delete.Queue, e);
        }
    }

    private void RequireManage(string queue, string doing)
    {
        if (!connection.Principal.Allows(PermissionKind.Manage, queue))
            throw new AmqpChannelException(ReplyCodes.AccessRefused, ReplyCodes.Text(ReplyCodes.AccessRefused,
                $"{doing} queue '{queue}' refused for {connection.Principal.Name}: needs manage"));
    }

    private static AmqpChannelException Refusal(string queue, QueueException e)
    {
        var code = e.Code switch
        {
            RejectionCode.UnknownQueue or RejectionCode.InvalidQueueName => ReplyCodes.NotFound,
            RejectionCode.DeleteRefused => ReplyCodes.PreconditionFailed,
            _ => ReplyCodes.InternalError,
        };
        return new AmqpChannelException(code, ReplyCodes.Text(code, code == ReplyCodes.NotFound ? $"no queue '{queue}' in vhost '/'" : e.Message));
    }

    /// <inheritdoc />
    public void QueueDeleted(IActorRef consumer)
    {
        // Called on the consumer actor's thread, which stops itself after this.
        string consumerTag;
        lock (_gate)
        {
            if (!_byActor.Remove(consumer, out var owner)) return;
            consumerTag = owner.Tag;
            // A basic.get's own consumer has no tag the client knows of; a consumer's tag may already name a new one.
            if (!_consumers.TryGetValue(consumerTag, out var current) || !ReferenceEquals(current, owner)) return;
            _consumers.Remove(consumerTag);
        }
        if (_closing || _released || !connection.ConsumerCancelNotify) return;
        _ = SendCancelAsync(consumerTag);
    }

    private async Task SendCancelAsync(string consumerTag)
    {
        try
        {
            await connection.SendAsync(number, new Basic.Cancel(consumerTag, NoWait: true));
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            // The connection is closing: the client learns of the cancelled consumer by the close.
        }
    }
}

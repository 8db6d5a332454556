using Actors.Amqp.Codec;
using Actors.Client;
using Actors.Http.Security;
using Actors.Protocol;
using static Actors.Amqp.Codec.AmqpMethod;

namespace Actors.Amqp;

/// <summary>
/// <c>basic.get</c>: a consumer actor of its own, attached with prefetch 1, takes one delivery from the queue and the
/// channel answers <c>get-ok</c> with it; it then waits for the client's ack, nack or reject like any delivery (and goes
/// back to the queue when the channel closes), and the actor detaches once it is settled. An empty queue answers
/// <c>get-empty</c> at once; one with ready messages that still gives none within <see cref="GetWait"/> (paused, its
/// keys busy, another consumer was faster) answers <c>get-empty</c> then.
/// </summary>
internal sealed partial class AmqpChannel
{
    /// <summary>How long a get waits for the delivery a queue with ready messages owes it.</summary>
    private static readonly TimeSpan GetWait = TimeSpan.FromSeconds(2);

    private async ValueTask GetAsync(Basic.Get get)
    {
        if (connection.Attachments is NoConsumerAttachments)
            throw new AmqpChannelException(ReplyCodes.NotImplemented, ReplyCodes.Text(ReplyCodes.NotImplemented, "basic.get is not supported on this node"));
        if (!connection.Principal.Allows(PermissionKind.Read, get.Queue))
            throw new AmqpChannelException(ReplyCodes.AccessRefused, ReplyCodes.Text(ReplyCodes.AccessRefused, $"getting from queue '{get.Queue}' refused for {connection.Principal.Name}: needs read"));
        var actor = connection.System.ActorOf(AmqpConsumer.Props(this));
        var owner = new Consumer("", get.Queue, actor, get.NoAck, 1)
        {
            Closing = true,
            Get = new TaskCompletionSource<Taken>(TaskCreationOptions.RunContinuationsAsynchronously),
        };
        lock (_gate) _byActor[actor] = owner;
        ConsumerProtocol.Attached attached;
        try
        {
            attached = await connection.Attachments.AttachAsync(get.Queue, actor, 1, connection.Closed);
        }
        catch (QueueException e)
        {
            Drop(owner);
            var code = e.Code is RejectionCode.UnknownQueue or RejectionCode.InvalidQueueName ? ReplyCodes.NotFound : ReplyCodes.InternalError;
            throw new AmqpChannelException(code, ReplyCodes.Text(code, code == ReplyCodes.NotFound ? $"no queue '{get.Queue}' in vhost '/'" : $"queue '{get.Queue}': {e.Message}"));
        }

        Taken? taken = null;
        if (attached.ReadyCount > 0)
        {
            try
            {
                taken = await owner.Get.Task.WaitAsync(GetWait, connection.Closed);
            }
            catch (TimeoutException)
            {
            }
        }
        // Whatever comes after this point stays with the actor, which stops and hands it back.
        if (taken is null && !owner.Get.TrySetCanceled() && owner.Get.Task.IsCompletedSuccessfully) taken = await owner.Get.Task;
        if (taken is null)
        {
            Drop(owner);
            await connection.SendAsync(number, new Basic.GetEmpty());
            return;
        }

        var delivery = taken.Delivery;
        var header = new ContentHeader(60, (ulong)delivery.Payload.Length, MessageMapping.ToProperties(delivery.Type, delivery.Headers));
        var remaining = (uint)Math.Max(0, attached.ReadyCount - 1);
        var sent = false;
        await connection.SendAsync(number, () =>
        {
            if (_closing || _released) return null;
            ulong tag;
            lock (_gate) tag = owner.NoAck ? _unacked.Skip() : Track(owner, delivery, taken.Queue, actor);
            sent = true;
            return new Basic.GetOk(tag, Redelivered(delivery), "", delivery.QueueId, remaining);
        }, header, delivery.Payload);
        if (sent && owner.NoAck)
            taken.Queue.Tell(new WorkerProtocol.Completed(delivery.QueueId, delivery.MessageId, delivery.Attempt, null, TimeSpan.Zero), actor);
        if (!sent || owner.NoAck) Drop(owner);
    }

    /// <summary>Stops a get's actor now (nothing of it waits for the client): the queue takes back what it holds.</summary>
    private void Drop(Consumer owner)
    {
        bool mine;
        lock (_gate) mine = _byActor.Remove(owner.Actor);
        if (mine) connection.System.Stop(owner.Actor);
    }
}

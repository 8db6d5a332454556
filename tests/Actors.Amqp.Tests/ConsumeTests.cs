using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text;
using Actors.Core.Tests;
using Actors.Protocol;
using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Actors.Amqp.Tests;

/// <summary>
/// The AMQP side of consuming, with a stand-in for the queue: an actor that delivers to the attached consumer actor as
/// a queue partition does and records what the consumer reports back. RabbitMQ.Client consumes with manual acks.
/// </summary>
public sealed class ConsumeTests : IAsyncLifetime
{
    private readonly StandInAttachments _attachments = new();
    private readonly AmqpNode _node;

    public ConsumeTests() => _node = new AmqpNode([], services => services.AddSingleton<IConsumerAttachments>(sp =>
    {
        _attachments.System = sp.GetRequiredService<ActorSystem>();
        return _attachments;
    }));

    public Task InitializeAsync() => _node.InitializeAsync();

    public Task DisposeAsync() => ((IAsyncLifetime)_node).DisposeAsync();

    [Fact]
    public async Task Deliveries_reach_the_client_and_ack_nack_reject_go_back_to_the_queue_and_closing_stops_the_consumer()
    {
        await using var connection = await _node.Factory().CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync();
        await channel.BasicQosAsync(0, 5, false);
        var received = new ConcurrentQueue<BasicDeliverEventArgs>();
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            received.Enqueue(new BasicDeliverEventArgs(delivery.ConsumerTag, delivery.DeliveryTag, delivery.Redelivered, delivery.Exchange,
                delivery.RoutingKey, delivery.BasicProperties, delivery.Body.ToArray()));
            return Task.CompletedTask;
        };
        var tag = await channel.BasicConsumeAsync("orders", autoAck: false, consumer);

        await Poll.Until(() => received.Count == 3, "three deliveries", TimeSpan.FromSeconds(30));
        Assert.Equal(5, _attachments.Prefetch);
        var d = received.ToArray();
        Assert.All(d, x => Assert.Equal(tag, x.ConsumerTag));
        Assert.Equal([1UL, 2UL, 3UL], d.Select(x => x.DeliveryTag));
        Assert.Equal("body-1", Encoding.UTF8.GetString(d[0].Body.Span));
        Assert.Equal("order.placed", d[0].BasicProperties.Type);
        Assert.Equal("m-1", d[0].BasicProperties.MessageId);
        Assert.Equal("application/json", d[0].BasicProperties.ContentType);
        Assert.Equal("acme", Encoding.UTF8.GetString((byte[])d[0].BasicProperties.Headers!["tenant"]!));
        Assert.False(d[0].Redelivered);
        Assert.True(d[2].Redelivered);
        Assert.Equal("orders", d[0].RoutingKey);

        await channel.BasicAckAsync(1, multiple: false);
        await channel.BasicNackAsync(2, multiple: false, requeue: true);
        await channel.BasicRejectAsync(3, requeue: false);
        await Poll.Until(() => _attachments.Reports.Count == 3, "three reports", TimeSpan.FromSeconds(30));
        var reports = _attachments.Reports.ToArray();
        Assert.Equal(1, Assert.IsType<WorkerProtocol.Completed>(reports[0]).MessageId);
        var requeued = Assert.IsType<WorkerProtocol.Failed>(reports[1]);
        Assert.Equal((2L, RequestedFailureAction.FollowPolicy), (requeued.MessageId, requeued.Requested));
        var rejected = Assert.IsType<WorkerProtocol.Failed>(reports[2]);
        Assert.Equal((3L, RequestedFailureAction.DeadLetter, 2), (rejected.MessageId, rejected.Requested, rejected.Attempt));

        // Acknowledging a tag twice is the client's error: 406 closes the channel.
        await channel.BasicAckAsync(1, multiple: false);
        await Poll.Until(() => channel.IsClosed, "the channel closed", TimeSpan.FromSeconds(30));
        Assert.Equal(406, channel.CloseReason!.ReplyCode);
        // The closed channel stopped its consumer: the queue takes back what it held.
        await Poll.Until(() => _attachments.Stopped, "the consumer actor stopped", TimeSpan.FromSeconds(30));
    }

    private sealed class StandInAttachments : IConsumerAttachments
    {
        public ActorSystem System { get; set; } = null!;

        public ConcurrentQueue<object> Reports { get; } = new();

        public int Prefetch { get; private set; }

        public volatile bool Stopped;

        public Task<ConsumerProtocol.Attached> AttachAsync(string queue, IActorRef consumer, int prefetch, CancellationToken cancellationToken)
        {
            Prefetch = prefetch;
            System.ActorOf(Props.Create(() => new StandInQueue(queue, consumer, this)));
            return Task.FromResult(new ConsumerProtocol.Attached(queue, 3, 1));
        }

        public Task DetachAsync(string queue, IActorRef consumer, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class StandInQueue : ReceiveActor
    {
        public StandInQueue(string queue, IActorRef consumer, StandInAttachments attachments)
        {
            Context.Watch(consumer);
            var headers = ImmutableDictionary<string, string>.Empty.Add("content-type", "application/json").Add("message-id", "m-1").Add("tenant", "acme");
            consumer.Tell(new WorkerProtocol.Deliver(queue, 1, 1, "order.placed", "body-1"u8.ToArray(), headers, DateTime.UtcNow, TimeSpan.FromMinutes(1)));
            consumer.Tell(new WorkerProtocol.Deliver(queue, 2, 1, "order.placed", "body-2"u8.ToArray(), ImmutableDictionary<string, string>.Empty, DateTime.UtcNow, TimeSpan.FromMinutes(1)));
            consumer.Tell(new WorkerProtocol.Deliver(queue, 3, 2, "order.placed", "body-3"u8.ToArray(), ImmutableDictionary<string, string>.Empty, DateTime.UtcNow, TimeSpan.FromMinutes(1)));
            Receive<WorkerProtocol.Completed>(attachments.Reports.Enqueue);
            Receive<WorkerProtocol.Failed>(attachments.Reports.Enqueue);
            Receive<Terminated>(_ => attachments.Stopped = true);
        }
    }
}

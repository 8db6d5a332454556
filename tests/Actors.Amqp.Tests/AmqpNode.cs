using Actors.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace Actors.Amqp.Tests;

/// <summary>
/// An in-process node over a fresh SQLite file with its AMQP listener on a free loopback port. The queue
/// <c>orders</c> (16 MiB payloads), and the queues of pika's tutorials (<c>hello</c>, <c>task_queue</c>), are paused, so what a test publishes stays queued where the client API can read it.
/// </summary>
public sealed class AmqpNode : WebApplicationFactory<Program>, IAsyncLifetime
{
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;

    public AmqpNode() : this([]) { }

    internal AmqpNode(Dictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        _settings = settings;
        _services = services;
    }

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "actors-amqp-tests", Guid.NewGuid().ToString("N"));

    public int Port { get; private set; }

    /// <summary>Whether starting pauses <c>orders</c>, <c>hello</c> and <c>task_queue</c> (a cluster node whose queues live elsewhere does not).</summary>
    internal bool PauseTestQueues { get; init; } = true;

    public IQueueClient Queues => Services.GetRequiredService<IQueueClient>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Actors:DataDirectory", DataDirectory);
        builder.UseSetting("Actors:DrainTimeout", "00:00:02");
        builder.UseSetting("Actors:Amqp:Enabled", "true");
        builder.UseSetting("Actors:Amqp:Port", "0");
        // Queues are not created by queue.declare here unless a test asks for it (DeclareTests).
        builder.UseSetting("Actors:Amqp:AllowDeclare", "false");
        builder.UseSetting("Actors:Queues:orders:Workers", "1");
        builder.UseSetting("Actors:Queues:orders:MaxPayloadBytes", (16 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Actors:Queues:orders:PayloadMemoryBytes", (64 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Actors:Queues:other:Workers", "1");
        builder.UseSetting("Actors:Queues:hello:Workers", "0");
        builder.UseSetting("Actors:Queues:task_queue:Workers", "0");
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        if (_services is not null) builder.ConfigureTestServices(_services);
    }

    public async Task InitializeAsync()
    {
        Port = Services.GetRequiredService<AmqpServer>().EndPoint!.Port;
        if (PauseTestQueues)
            foreach (var queue in new[] { "orders", "hello", "task_queue" }) await Queues.PauseAsync(queue, "AMQP tests read what they publish");
    }

    /// <summary>A RabbitMQ.Client connection factory for this node (guest/guest unless given).</summary>
    public ConnectionFactory Factory(string user = "guest", string password = "guest") => new()
    {
        HostName = "127.0.0.1",
        Port = Port,
        UserName = user,
        Password = password,
        AutomaticRecoveryEnabled = false,
        RequestedConnectionTimeout = TimeSpan.FromSeconds(30),
        ContinuationTimeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>The stored message a publish with this message-id made (the message-id is its idempotency key).</summary>
    public async Task<Actors.Protocol.QueueQueries.MessageInfo> StoredAsync(string queue, string messageId)
    {
        var found = await Queues.FindByIdempotencyKeyAsync(queue, messageId);
        Assert.NotNull(found);
        var message = await Queues.GetMessageAsync(queue, found.MessageId);
        Assert.NotNull(message);
        return message;
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
    }
}

using System.Collections.Concurrent;
using Actors.Client;
using Actors.Configuration;
using Actors.Handlers;
using Actors.Hosting;
using Actors.Protocol;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Actors.Core.Tests;

public sealed record SendEmail(string To, string Subject);

public sealed class Outbox
{
    public ConcurrentQueue<string> Sent { get; } = new();
}

public sealed class SendEmailHandler(Outbox outbox) : IMessageHandler<SendEmail>
{
    public ValueTask<object?> HandleAsync(SendEmail payload, MessageContext context, CancellationToken cancellationToken)
    {
        outbox.Sent.Enqueue($"{payload.To}: {payload.Subject}");
        return ValueTask.FromResult<object?>(new { delivered = true, attempt = context.Attempt });
    }
}

/// <summary>Embedding through Akka.Hosting: options bound from configuration, a typed handler resolved from DI.</summary>
public sealed class HostingTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "actors-tests", Guid.NewGuid().ToString("N"));
    private IHost _host = null!;

    public async Task InitializeAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Actors:DataDirectory"] = _dataDirectory,
            ["Actors:Queues:emails:Workers"] = "2",
            ["Actors:Queues:emails:MaxPayloadBytes"] = "4096",
            ["Actors:Queues:emails:AllowedTypes:0"] = "send_email",
            ["Actors:Queues:emails:Retry:MaxAttempts"] = "7",
        });
        var queues = builder.Configuration.GetDurableQueuesOptions();
        queues.Handlers.Add<SendEmail, SendEmailHandler>("send_email");
        builder.Services.AddSingleton<Outbox>();
        builder.Services.AddQueueClient();
        builder.Services.AddAkka("actors", akka => akka.WithDurableQueues(queues));
        _host = builder.Build();
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        TestQueues.DeleteDirectory(_dataDirectory);
    }

    [Fact]
    public async Task An_embedded_node_binds_its_queues_from_configuration_and_runs_typed_handlers_from_DI()
    {
        var client = _host.Services.GetRequiredService<IQueueClient>();
        var id = await client.EnqueueJsonAsync("emails", "send_email", new SendEmail("ops@example.com", "hello"));

        await Poll.WaitFor(async () => (await client.GetMessageAsync("emails", id))?.Status == MessageStatus.Succeeded, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(25));
        var info = await client.GetMessageAsync("emails", id);
        Assert.Equal(MessageStatus.Succeeded, info!.Status);
        Assert.Equal("{\"delivered\":true,\"attempt\":1}", System.Text.Encoding.UTF8.GetString(info.Result!.Value.Span));
        Assert.Equal(["ops@example.com: hello"], _host.Services.GetRequiredService<Outbox>().Sent);

        var refused = await Assert.ThrowsAsync<QueueException>(() => client.EnqueueJsonAsync("emails", "other", new { }));
        Assert.Equal(RejectionCode.UnknownMessageType, refused.Code);
        var stats = await client.GetStatsAsync("emails");
        Assert.Equal(2, stats.Workers);
        Assert.True(File.Exists(Path.Combine(_dataDirectory, "actors.db")));
    }

    [Fact]
    public async Task Producer_actors_can_tell_the_manager_from_the_registry_and_get_native_replies()
    {
        var registry = _host.Services.GetRequiredService<ActorRegistry>();
        var manager = registry.Get<DurableQueueManager>();
        var payload = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new SendEmail("a@b.c", "native"), HandlerRegistry.JsonOptions);

        var reply = await manager.Ask<object>(new QueueCommands.Enqueue("emails", "send_email", payload, CorrelationId: 42), TimeSpan.FromSeconds(20));

        var accepted = Assert.IsType<QueueCommands.Accepted>(reply);
        Assert.Equal(42, accepted.CorrelationId);
    }
}

/// <summary>What the hosted producer below enqueued, for the test to follow.</summary>
public sealed class ProducedIds
{
    public TaskCompletionSource<long> First { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>A hosted service that takes the client in its constructor, before the actor system has started.</summary>
public sealed class StartupProducer(IQueueClient client, ProducedIds produced) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            produced.First.TrySetResult(await client.EnqueueJsonAsync("emails", "send_email", new SendEmail("bg@example.com", "from a hosted service"), cancellationToken: stoppingToken));
        }
        catch (Exception e)
        {
            produced.First.TrySetException(e);
        }
    }
}

/// <summary>The client from DI works from any hosted service, constructed before the queues have started.</summary>
public sealed class HostedServiceClientTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "actors-tests", Guid.NewGuid().ToString("N"));
    private IHost _host = null!;

    public async Task InitializeAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Actors:DataDirectory"] = _dataDirectory });
        var queues = builder.Configuration.GetDurableQueuesOptions();
        queues.AddQueue("emails");
        queues.Handlers.Add<SendEmail, SendEmailHandler>("send_email");
        builder.Services.AddSingleton<Outbox>();
        builder.Services.AddSingleton<ProducedIds>();
        // Generous: on a loaded 2-core machine the actor system may take a while to start, and the first call waits for it.
        builder.Services.AddQueueClient(TimeSpan.FromSeconds(120));
        // Registered before Akka: it is constructed, and starts producing, before the actor system exists.
        builder.Services.AddHostedService<StartupProducer>();
        builder.Services.AddAkka("actors", akka => akka.WithDurableQueues(queues));
        _host = builder.Build();
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        TestQueues.DeleteDirectory(_dataDirectory);
    }

    [Fact]
    public async Task A_background_service_taking_IQueueClient_in_its_constructor_starts_and_its_message_completes()
    {
        var id = await _host.Services.GetRequiredService<ProducedIds>().First.Task.WaitAsync(TimeSpan.FromSeconds(150));
        var client = _host.Services.GetRequiredService<IQueueClient>();
        await TestQueues.Until(async () => (await client.GetMessageAsync("emails", id))?.Status == MessageStatus.Succeeded, "the hosted service's message to complete", 30);
        Assert.Equal(["bg@example.com: from a hosted service"], _host.Services.GetRequiredService<Outbox>().Sent);
    }
}

using Actors.Client;
using Akka.Actor;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Actors.Amqp;

/// <summary>
/// Kestrel's entry point for AMQP 0-9-1: <c>Listen(...).UseConnectionHandler&lt;AmqpConnectionHandler&gt;()</c>. Each
/// accepted TCP connection runs as one <see cref="AmqpConnection"/> until either side closes it.
/// </summary>
public sealed class AmqpConnectionHandler(
    IOptions<AmqpOptions> options,
    AmqpAuthenticator authenticator,
    IQueueClient queues,
    AmqpExchanges exchanges,
    ActorSystem system,
    IConsumerAttachments attachments,
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggers) : ConnectionHandler
{
    private readonly ILogger _log = loggers.CreateLogger("Actors.Amqp");

    /// <inheritdoc />
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var amqp = new AmqpConnection(connection, options.Value, authenticator, queues, exchanges, system, attachments, _log);
        await using var stopping = lifetime.ApplicationStopping.Register(() => _ = amqp.ShutdownAsync());
        await amqp.RunAsync();
    }
}

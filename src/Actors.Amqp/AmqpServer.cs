using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Actors.Amqp;

/// <summary>
/// The AMQP listener: a Kestrel server of its own, beside the node's HTTP server, whose one endpoint
/// (<c>Listen(...).UseConnectionHandler&lt;AmqpConnectionHandler&gt;()</c>) speaks AMQP 0-9-1 on <see cref="AmqpOptions.Port"/>.
/// Its own server, so the HTTP endpoints (URLs, HTTPS, limits) stay exactly as configured. When the port is taken the
/// error is logged and the node runs without AMQP.
/// </summary>
public sealed partial class AmqpServer(IServiceProvider services, IOptions<AmqpOptions> options, ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _log = loggers.CreateLogger("Actors.Amqp");
    private KestrelServer? _server;
    private ListenOptions? _endpoint;

    /// <summary>The address the listener is bound to (after start): the actual port when <see cref="AmqpOptions.Port"/> is 0.</summary>
    public IPEndPoint? EndPoint => _endpoint?.IPEndPoint;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var kestrel = new KestrelServerOptions { ApplicationServices = services };
        var address = settings.LoopbackOnly ? IPAddress.Loopback : IPAddress.IPv6Any;
        kestrel.Listen(address, settings.Port, listen =>
        {
            listen.UseConnectionHandler<AmqpConnectionHandler>();
            _endpoint = listen;
        });
        var transport = new SocketTransportFactory(Options.Create(new SocketTransportOptions()), loggers);
        _server = new KestrelServer(Options.Create(kestrel), transport, loggers);
        try
        {
            await _server.StartAsync(new NoHttp(), cancellationToken);
        }
        catch (Exception e) when (e is AddressInUseException || e.InnerException is AddressInUseException)
        {
            // Another process (a RabbitMQ broker, a second node) holds the port: the node runs on without AMQP.
            LogPortInUse(_log, settings.Port, e);
            _server.Dispose();
            _server = null;
            _endpoint = null;
            return;
        }
        LogListening(_log, EndPoint);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null) await _server.StopAsync(cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _server?.Dispose();
        _server = null;
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "AMQP port {Port} is in use: the node runs without its AMQP listener")]
    private static partial void LogPortInUse(ILogger logger, int port, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "AMQP 0-9-1 listening on {EndPoint}")]
    private static partial void LogListening(ILogger logger, IPEndPoint? endPoint);

    /// <summary>The HTTP application Kestrel requires; the AMQP endpoint never calls it.</summary>
    private sealed class NoHttp : IHttpApplication<object>
    {
        public object CreateContext(IFeatureCollection contextFeatures) => new();

        public void DisposeContext(object context, Exception? exception) { }

        public Task ProcessRequestAsync(object context) => Task.CompletedTask;
    }
}

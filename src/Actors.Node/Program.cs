using Actors;
using Actors.Amqp;
using Actors.Configuration;
using Actors.Hosting;
using Actors.Http;
using Actors.Http.Dashboard;
using Actors.Http.Health;
using Actors.Http.Security;
using Actors.Node;
using Akka.Hosting;
using Microsoft.Extensions.Configuration.Json;

// `Actors.Node keygen [name] [permissions...]`: print a new API key, its hash and the configuration that declares it.
if (args is ["keygen", ..]) return KeyCommand.Run(args[1..], Console.Out);

var builder = WebApplication.CreateBuilder(args);
NodeConfiguration.AddProfile(builder.Configuration);
NodeConfiguration.AddSecretFiles(builder.Configuration);

// Request limits (body size, header count and size) come from the profile's Kestrel:Limits section.
builder.WebHost.ConfigureKestrel(kestrel => builder.Configuration.GetSection("Kestrel:Limits").Bind(kestrel.Limits));

var queues = builder.Configuration.GetDurableQueuesOptions();
var webhooks = builder.Configuration.GetSection("Actors:Webhooks").Get<Dictionary<string, WebhookOptions>>() ?? new();
// One guarded HttpClient per webhook type: restricted networks only where AllowedNetworks says, no redirects.
builder.Services.AddWebhooks(queues, webhooks);
builder.Services.AddProblemDetails();
builder.Services.AddOpenApi(openApi => openApi.AddWebhookDescriptions().AddRequestExamples());
builder.Services.AddQueueClient(queues.RequestTimeout);
// The options of queues declared at run time (PUT /queues/{queue}) start from its DeclaredQueueDefaults.
builder.Services.AddSingleton(queues);
// Readiness (/health/ready): this node's journal and the queues it hosts, not the whole cluster's.
builder.Services.AddActorsHealthChecks(queues);
// API keys (Actors:Auth:Keys), optional JWT, per-queue policies; anonymous only on loopback unless configured otherwise.
builder.Services.AddActorsAuth(builder.Configuration);
// Metrics (/metrics, OTLP) and traces (OTLP): the Actors meter and source with ASP.NET Core, HttpClient and runtime.
builder.Services.AddNodeTelemetry(builder.Configuration);
// AMQP 0-9-1 (Actors:Amqp): RabbitMQ clients publish to the queues; the standalone profile listens on localhost:5672.
if (queues.Cluster.HasRole(ClusterRoles.Api)) builder.Services.AddAmqp(builder.Configuration);
// The dashboard's one statistics sampler and its history under {data}/dashboard-history (with the dashboard only).
if (queues.Cluster.HasRole(ClusterRoles.Api)) builder.Services.AddDashboard(queues);
builder.Services.AddAkka("actors", akka => akka
    .ConfigureLoggers(loggers => loggers.AddLoggerFactory())
    .WithDurableQueues(queues)
    .WithKubernetesBootstrap(queues.Cluster));

var app = builder.Build();
app.UseExceptionHandler();
// A bodiless framework answer (no route: 404, wrong method: 405, a media type a route does not accept: 415) becomes
// a problem too, whatever the Accept header asks for: the default writer would fall back to text/plain.
app.UseStatusCodePages(context => Results.Problem(statusCode: context.HttpContext.Response.StatusCode).ExecuteAsync(context.HttpContext));
app.UseActorsAuth();
// The OpenAPI document describes routes, not data: anonymous, like the health probes.
app.MapOpenApi().AllowAnonymous();
// In a cluster, only nodes with the api role serve the queue API; every node answers the health probes.
// Prometheus scrape endpoint: read:* (anonymous on loopback).
app.MapNodeMetrics();
if (queues.Cluster.HasRole(ClusterRoles.Api)) app.MapQueueEndpoints().MapScheduleEndpoints();
else app.MapHealthEndpoints();
// Online backups of the SQLite journal under the data directory (admin); a PostgreSQL node answers 501: pg_dump.
if (queues.Cluster.HasRole(ClusterRoles.Api)) app.MapBackupEndpoints(queues);
// The live dashboard (/dashboard): pages over this node's queue client, with the API's permissions.
if (queues.Cluster.HasRole(ClusterRoles.Api)) app.MapDashboard();

app.Lifetime.ApplicationStarted.Register(() =>
{
    var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Actors.Node");
    var urls = string.Join(", ", app.Urls);
    var names = string.Join(", ", queues.Queues.Keys);
    var journal = queues.Journal == JournalKind.PostgreSql ? $"PostgreSQL ({Secrets.Redact(queues.ConnectionString)})" : "SQLite file " + queues.DatabasePath;
    var mode = queues.Cluster.Enabled
        ? $"cluster node {queues.Cluster.PublicHostname ?? queues.Cluster.Hostname}:{queues.Cluster.Port} (roles {queues.Cluster.Roles}; seeds {string.Join(",", queues.Cluster.SeedNodeList)}; remoting {(queues.Cluster.Tls.Enabled ? "TLS" : "plain TCP")})"
        : "standalone";
    NodeLog.Ready(log, mode, journal, urls, names);
});

try
{
    app.Run();
}
catch (UnsafeExposureException e)
{
    // Not a crash: a configuration the node will not run with. 78 (EX_CONFIG): systemd does not restart on it.
    Console.Error.WriteLine(e.Message);
    return 78;
}
return 0;

/// <summary>The node's entry point (public for integration tests).</summary>
public partial class Program;

/// <summary>Loads the node's configuration profile from <c>config/{profile}.json</c>.</summary>
internal static class NodeConfiguration
{
    /// <summary>
    /// Adds <c>config/{profile}.json</c> (profile from <c>--profile</c> or <c>ACTORS_PROFILE</c>, default
    /// <c>standalone</c>) as the lowest-priority source, so appsettings, environment variables
    /// (<c>Actors__Queues__default__Workers=16</c>) and command-line switches (<c>--Actors:DataDirectory=/var/lib/actors</c>) override it.
    /// </summary>
    public static void AddProfile(ConfigurationManager configuration)
    {
        var profile = configuration["profile"] ?? Environment.GetEnvironmentVariable("ACTORS_PROFILE") ?? "standalone";
        var path = Path.Combine(AppContext.BaseDirectory, "config", profile + ".json");
        if (!File.Exists(path)) throw new FileNotFoundException($"Configuration profile '{profile}' not found at {path}.", path);
        var source = new JsonConfigurationSource { Path = path, Optional = false, ReloadOnChange = false };
        source.ResolveFileProvider();
        configuration.Sources.Insert(0, source);
    }

    /// <summary>
    /// Adds one setting per file of the secrets directory (<c>--secrets-directory</c> or <c>ACTORS_SECRETS_DIRECTORY</c>,
    /// default <c>/run/secrets</c>, where Docker and Compose mount secrets; skipped when it does not exist): the file
    /// name is the key with <c>__</c> for <c>:</c> (<c>Actors__ConnectionString</c>), the content the value. Added last,
    /// so a secret file overrides every other source.
    /// </summary>
    public static void AddSecretFiles(ConfigurationManager configuration)
    {
        var directory = configuration["secrets-directory"] ?? Environment.GetEnvironmentVariable("ACTORS_SECRETS_DIRECTORY") ?? "/run/secrets";
        configuration.AddKeyPerFile(Path.GetFullPath(directory), optional: true);
    }
}

/// <summary><c>keygen [name] [permissions...]</c>: a new API key (name default <c>ops</c>, permissions default <c>admin</c>).</summary>
internal static class KeyCommand
{
    /// <summary>Writes the key, its hash and the configuration snippet; 2 when a permission is not valid.</summary>
    public static int Run(string[] args, TextWriter output)
    {
        var name = args.Length > 0 ? args[0] : "ops";
        string[] permissions = args.Length > 1 ? args[1..] : [Permissions.Admin];
        foreach (var permission in permissions)
        {
            if (Permissions.TryParse(permission, out _, out _, out var error)) continue;
            Console.Error.WriteLine(error);
            return 2;
        }
        var (key, hash) = ApiKeys.Generate();
        output.Write(ApiKeys.KeygenText(name, permissions, key, hash));
        return 0;
    }
}

/// <summary>The node's own log messages.</summary>
internal static partial class NodeLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Actors node ready ({Mode}): journal in {Journal}, HTTP on {Urls}, queues: {Queues}")]
    public static partial void Ready(ILogger logger, string mode, string journal, string urls, string queues);
}

using Akka.Event;
using Actors.Actors;
using Actors.Client;
using Actors.Configuration;
using Actors.Protocol;
using Actors.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using static Actors.Protocol.QueueCommands;

namespace Actors;

/// <summary>
/// Starts the durable queues of a node inside an <see cref="ActorSystem"/>. With Akka.Hosting use
/// <c>WithDurableQueues</c> instead; this is the plain Akka entry point it builds on.
/// </summary>
public static class DurableQueues
{
    /// <summary>The name of the queue manager actor under <c>/user</c>.</summary>
    public const string ManagerName = "queues";

    /// <summary>
    /// The HOCON an actor system needs for the queues: the SQL journal and snapshot store (the SQLite file or the
    /// PostgreSQL database of <paramref name="options"/>), and our serializer for everything stored. Use it as the
    /// system's configuration (or prepend it to yours); it already falls back to Akka.Persistence.Sql's defaults.
    /// </summary>
    public static Config Configuration(DurableQueuesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var persistence = options.Journal == JournalKind.PostgreSql
            ? PersistenceConfig(options.ConnectionString!, "PostgreSQL.15", TimeSpan.FromSeconds(30))
            // A journal call must be allowed to outlast SQLite's own wait for a lock, or the breaker trips first.
            : PersistenceConfig(SqliteConnectionString(options), "SQLite.MS", options.SqliteBusyTimeout + TimeSpan.FromSeconds(10));
        return SerializationConfig().WithFallback(persistence).WithFallback(Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration);
    }

    /// <summary>The serializer bindings: every <see cref="IQueueMessage"/> goes through <see cref="QueueMessageSerializer"/>.</summary>
    public static Config SerializationConfig() => ConfigurationFactory.ParseString($$"""
        akka.actor {
          serializers.actors-queue = "{{typeof(QueueMessageSerializer).AssemblyQualifiedName}}"
          serialization-bindings {
            "{{typeof(IQueueMessage).AssemblyQualifiedName}}" = actors-queue
          }
          serialization-identifiers {
            "{{typeof(QueueMessageSerializer).AssemblyQualifiedName}}" = {{QueueMessageSerializer.SerializerId}}
          }
        }
        """);

    /// <summary>The journal, snapshot store and query journal settings for one SQL database.</summary>
    /// <param name="connectionString">The ADO.NET connection string.</param>
    /// <param name="providerName">The linq2db provider name: <c>SQLite.MS</c> or <c>PostgreSQL.15</c>.</param>
    /// <param name="callTimeout">How long one journal call may take before the circuit breaker counts it as failed.</param>
    /// <remarks>
    /// The circuit breakers reset after 2 s (Akka's default is 30 s), so a queue that stopped on a journal failure
    /// recovers within seconds of the database coming back.
    /// </remarks>
    public static Config PersistenceConfig(string connectionString, string providerName, TimeSpan callTimeout)
    {
        var cs = Quote(connectionString);
        var provider = Quote(providerName);
        var breaker = $"circuit-breaker {{ max-failures = 10, call-timeout = {(int)Math.Ceiling(callTimeout.TotalSeconds)}s, reset-timeout = 2s }}";
        return ConfigurationFactory.ParseString($$"""
            akka.persistence {
              journal {
                plugin = "akka.persistence.journal.sql"
                sql {
                  connection-string = {{cs}}
                  provider-name = {{provider}}
                  auto-initialize = on
                  # Without this, linq2db writes large events as hex literals inside the SQL text, at half the speed.
                  prefer-parameters-on-multirow-insert = true
                  {{breaker}}
                }
              }
              snapshot-store {
                plugin = "akka.persistence.snapshot-store.sql"
                sql {
                  connection-string = {{cs}}
                  provider-name = {{provider}}
                  auto-initialize = on
                  {{breaker}}
                }
              }
              query.journal.sql {
                connection-string = {{cs}}
                provider-name = {{provider}}
              }
            }
            """);
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>
    /// For the SQLite journal: creates the data directory and the SQLite file if needed and switches the file to
    /// write-ahead logging (a persistent setting of the file). Durability: Microsoft.Data.Sqlite leaves
    /// <c>synchronous</c> at FULL, so every commit is fsynced before a producer is answered. For PostgreSQL there is
    /// nothing to prepare: the journal creates its tables on start.
    /// </summary>
    public static void PrepareStorage(DurableQueuesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Journal != JournalKind.Sqlite) return;
        var path = options.DatabasePath;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var connection = new SqliteConnection(SqliteConnectionString(options));
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        command.ExecuteNonQuery();
    }

    private static string SqliteConnectionString(DurableQueuesOptions options) =>
        new SqliteConnectionStringBuilder
        {
            DataSource = options.DatabasePath,
            Pooling = true,
            DefaultTimeout = (int)Math.Ceiling(options.SqliteBusyTimeout.TotalSeconds),
        }.ToString();

    /// <summary>
    /// Starts the queue manager (and through it every declared queue) in <paramref name="system"/> and returns a
    /// client for it. Registers a graceful drain with <see cref="CoordinatedShutdown"/>.
    /// </summary>
    /// <param name="system">A system created with <see cref="Configuration"/> in its config.</param>
    /// <param name="options">The queues and limits.</param>
    /// <param name="services">Where handlers are resolved from; null for an empty provider.</param>
    public static DurableQueuesHandle Start(ActorSystem system, DurableQueuesOptions options, IServiceProvider? services = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        services ??= new ServiceCollection().BuildServiceProvider();
        var queues = options.Queues.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        system.ActorOf(DeadLetterMonitor.Props(), "dead-letter-monitor");
        var manager = system.ActorOf(QueueManager.Props(queues, options.Handlers, services, options.Time, options.DrainTimeout), ManagerName);
        var client = new QueueClient(system, manager, options.RequestTimeout);

        var shutdown = CoordinatedShutdown.Get(system);
        var drainTimeout = options.DrainTimeout + TimeSpan.FromSeconds(2);
        shutdown.AddTask(CoordinatedShutdown.PhaseServiceRequestsDone, "drain-queues", async () =>
        {
            try
            {
                await manager.Ask<Drained>(Drain.Instance, drainTimeout).ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                system.Log.Warning("Queues did not drain within {0}; unfinished deliveries are redelivered after restart", drainTimeout);
            }
            return Akka.Done.Instance;
        });
        return new DurableQueuesHandle(manager, client);
    }
}

/// <summary>What <see cref="DurableQueues.Start"/> returns: the manager to Tell commands to, and a client.</summary>
/// <param name="Manager">The queue manager: Tell it <see cref="Enqueue"/> and receive <see cref="Accepted"/> or <see cref="Rejected"/>.</param>
/// <param name="Client">The task-based client.</param>
public sealed record DurableQueuesHandle(IActorRef Manager, IQueueClient Client);

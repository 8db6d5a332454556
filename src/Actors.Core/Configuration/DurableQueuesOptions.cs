using Actors.Handlers;

namespace Actors.Configuration;

/// <summary>Where queues keep their journal and snapshots.</summary>
public enum JournalKind
{
    /// <summary>An embedded SQLite file under <see cref="DurableQueuesOptions.DataDirectory"/>: nothing to install.</summary>
    Sqlite = 0,
    /// <summary>A PostgreSQL database (<see cref="DurableQueuesOptions.ConnectionString"/>); tables are created on start.</summary>
    PostgreSql = 1,
}

/// <summary>The settings of a node's durable queues. Bind from the <c>Actors</c> configuration section or set in code.</summary>
public sealed class DurableQueuesOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Actors";

    /// <summary>
    /// Where the node keeps its data. Relative paths are resolved against the current directory.
    /// Default <c>data</c>.
    /// </summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>The journal's database. Default <see cref="JournalKind.Sqlite"/>.</summary>
    public JournalKind Journal { get; set; } = JournalKind.Sqlite;

    /// <summary>The PostgreSQL connection string (Npgsql syntax), required with <see cref="JournalKind.PostgreSql"/>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The SQLite file of the embedded journal, inside <see cref="DataDirectory"/> unless rooted. Default <c>actors.db</c>.</summary>
    public string DatabaseFile { get; set; } = "actors.db";

    /// <summary>
    /// How long a SQLite statement waits for a lock held by another connection before it fails (and the queue answers
    /// <c>JournalUnavailable</c> and restarts with backoff). Default 30 s; range 1 s – 10 min.
    /// </summary>
    public TimeSpan SqliteBusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The declared queues by name. Default: none (declare at least one).</summary>
    public IDictionary<string, QueueOptions> Queues { get; set; } = new Dictionary<string, QueueOptions>(StringComparer.Ordinal);

    /// <summary>
    /// The options of a queue declared at run time without options of its own (<c>IQueueClient.DeclareQueueAsync</c>,
    /// <c>PUT /queues/{queue}</c>, AMQP <c>queue.declare</c>). Default: the defaults of <see cref="QueueOptions"/> except
    /// <see cref="QueueOptions.Workers"/> 0, so such a queue has no in-process pool and delivers only to external consumers
    /// (AMQP consumers, <c>AttachConsumerAsync</c>); 1 partition.
    /// </summary>
    public QueueOptions DeclaredQueueDefaults { get; set; } = new() { Workers = 0 };

    /// <summary>
    /// Schedules by id (<c>Actors:Schedules:{id}</c>), upserted at start; more are managed at runtime. Default: none.
    /// See <see cref="Schedules.ScheduleOptions"/>.
    /// </summary>
    public IDictionary<string, Schedules.ScheduleOptions> Schedules { get; set; } = new Dictionary<string, Schedules.ScheduleOptions>(StringComparer.Ordinal);

    /// <summary>
    /// Threads of their own that run message handlers, apart from the .NET thread pool the queue actors use, so a
    /// handler that blocks cannot starve the queues. Default null: two per processor, at least 8, at most 64; range
    /// 0–1,024. 0 runs each handler on its worker's own thread (the .NET pool) and completes a synchronous handler
    /// without a thread hop: the fastest for handlers that never block, but one that blocks holds a pool thread the
    /// queues need and its worker cannot be stopped until it returns.
    /// </summary>
    public int? HandlerThreads { get; set; }

    /// <summary>How long a graceful shutdown waits for in-flight deliveries. Default 30 s; range 0–10 min.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a client call waits for the queue's answer. Default 30 s; range 1 s – 10 min.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Cluster mode (off by default: a standalone node). See <see cref="QueueClusterOptions"/>.</summary>
    public QueueClusterOptions Cluster { get; set; } = new();

    /// <summary>The message handlers. Set in code; built-in <c>noop</c> and <c>echo</c> are always there.</summary>
    public HandlerRegistry Handlers { get; set; } = new();

    /// <summary>The clock for timestamps and retry due times. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>The full path of the SQLite journal file.</summary>
    public string DatabasePath => Path.GetFullPath(Path.Combine(DataDirectory, DatabaseFile));

    /// <summary>Declares a queue (or replaces its settings) and returns these options.</summary>
    public DurableQueuesOptions AddQueue(string name, Action<QueueOptions>? configure = null)
    {
        var options = new QueueOptions();
        configure?.Invoke(options);
        Queues[name] = options;
        return this;
    }

    /// <summary>Throws <see cref="ArgumentException"/> when a value is out of range or a name breaks the rules.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDirectory)) throw new ArgumentException("Actors:DataDirectory must be set.");
        if (string.IsNullOrWhiteSpace(DatabaseFile)) throw new ArgumentException("Actors:DatabaseFile must be set.");
        if (Journal == JournalKind.PostgreSql && string.IsNullOrWhiteSpace(ConnectionString)) throw new ArgumentException("Actors:ConnectionString must be set for the PostgreSql journal.");
        if (DrainTimeout < TimeSpan.Zero || DrainTimeout > TimeSpan.FromMinutes(10)) throw new ArgumentException("Actors:DrainTimeout must be 0–10 min.");
        if (HandlerThreads is < 0 or > 1024) throw new ArgumentException($"Actors:HandlerThreads must be 0–1,024, was {HandlerThreads}.");
        if (SqliteBusyTimeout < TimeSpan.FromSeconds(1) || SqliteBusyTimeout > TimeSpan.FromMinutes(10)) throw new ArgumentException("Actors:SqliteBusyTimeout must be 1 s – 10 min.");
        if (RequestTimeout < TimeSpan.FromSeconds(1) || RequestTimeout > TimeSpan.FromMinutes(10)) throw new ArgumentException("Actors:RequestTimeout must be 1 s – 10 min.");
        Cluster.Validate();
        foreach (var (name, queue) in Queues)
        {
            if (!Names.IsValidQueueName(name)) throw new ArgumentException($"Queue name '{name}' is invalid: {Names.QueueNameRule}.");
            queue.Validate(name);
        }
        DeclaredQueueDefaults.Validate("(declared at run time)");
        _ = Actors.Schedules.DurableSchedules.Declared(this);
    }
}

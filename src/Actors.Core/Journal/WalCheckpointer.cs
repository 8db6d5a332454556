using Akka.Actor;
using Akka.Event;
using Microsoft.Data.Sqlite;

namespace Actors.Journal;

/// <summary>
/// Checkpoints the SQLite journal's write-ahead log from its own connection every <see cref="Interval"/>, so the
/// log stays below SQLite's auto-checkpoint threshold (1,000 pages) and no journal commit has to copy it back into
/// the database itself: that copy and its fsync otherwise land on one producer-facing write every few seconds and
/// hold every reply behind it. A passive checkpoint never blocks writers and changes nothing about durability: it
/// copies pages that are already committed.
/// </summary>
internal sealed class WalCheckpointer : ReceiveActor, IWithTimers
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    private readonly string _connectionString;
    private bool _running;

    public WalCheckpointer(string connectionString)
    {
        _connectionString = connectionString;
        Receive<Tick>(_ =>
        {
            if (_running) return;
            _running = true;
            Task.Run(Checkpoint).PipeTo(Self, success: () => Done.Instance, failure: e => new Status.Failure(e));
        });
        // A block, not `_ => _running = false`: that lambda returns a bool and binds to the Func<T, bool> overload,
        // whose false means "not handled" and sends every tick's reply to the dead letters.
        Receive<Done>(_ => { _running = false; });
        Receive<Status.Failure>(f =>
        {
            // Correctness does not depend on it: SQLite's own checkpoint on commit takes over.
            Context.GetLogger().Warning(f.Cause, "WAL checkpoint failed; leaving checkpoints to SQLite's commits from now on");
            Context.Stop(Self);
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string connectionString) => Akka.Actor.Props.Create(() => new WalCheckpointer(connectionString));

    protected override void PreStart() => Timers.StartPeriodicTimer("tick", Tick.Instance, Interval);

    private void Checkpoint()
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
        command.ExecuteNonQuery();
    }

    private sealed class Tick : INotInfluenceReceiveTimeout, IDeadLetterSuppression
    {
        public static readonly Tick Instance = new();
        private Tick() { }
    }

    private sealed class Done
    {
        public static readonly Done Instance = new();
        private Done() { }
    }
}

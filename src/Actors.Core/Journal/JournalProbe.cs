using Actors.Configuration;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Actors.Journal;

/// <summary>
/// Checks that the journal a node writes to can take a write now: SQLite's write lock can be taken (and is released
/// at once, writing nothing), or PostgreSQL answers a query. For readiness probes: a node whose journal cannot be
/// written accepts nothing.
/// </summary>
public static class JournalProbe
{
    /// <summary>
    /// Completes when the journal of <paramref name="options"/> answers within <paramref name="wait"/>; throws
    /// (<see cref="SqliteException"/>, <see cref="NpgsqlException"/>, <see cref="TimeoutException"/> or
    /// <see cref="OperationCanceledException"/>) when it does not.
    /// </summary>
    public static async Task CheckAsync(DurableQueuesOptions options, TimeSpan wait, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        if (options.Journal == JournalKind.PostgreSql)
        {
            var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString) { Timeout = seconds, CommandTimeout = seconds };
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(timeout.Token).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(timeout.Token).ConfigureAwait(false);
            return;
        }
        var sqlite = new SqliteConnectionStringBuilder { DataSource = options.DatabasePath, Mode = SqliteOpenMode.ReadWrite, Pooling = false, DefaultTimeout = seconds };
        await using (var connection = new SqliteConnection(sqlite.ToString()))
        {
            await connection.OpenAsync(timeout.Token).ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            // Takes the write lock, waiting up to the timeout for a writer holding it, and gives it back unused.
            command.CommandText = "BEGIN IMMEDIATE; ROLLBACK;";
            await command.ExecuteNonQueryAsync(timeout.Token).ConfigureAwait(false);
        }
    }
}

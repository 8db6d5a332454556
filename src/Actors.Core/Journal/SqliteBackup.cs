using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using Actors.Configuration;
using Microsoft.Data.Sqlite;

namespace Actors.Journal;

/// <summary>One backup file of a SQLite node.</summary>
/// <param name="Name">The file name, <c>actors-{UTC yyyyMMddTHHmmssZ}.db</c> (with <c>-2</c>, <c>-3</c>… when several share a second).</param>
/// <param name="Path">The absolute path of the file.</param>
/// <param name="Bytes">The file's size.</param>
/// <param name="CreatedAt">When the file was written.</param>
public sealed record BackupFile(string Name, string Path, long Bytes, DateTimeOffset CreatedAt);

/// <summary>A backup just taken: its file and the highest journal sequence number of each persistence id in it.</summary>
/// <param name="File">The backup file.</param>
/// <param name="LastSequenceNumbers">Persistence id (<c>queue-{name}-{partition}</c>, <c>schedule-…</c>) → its highest sequence number in the copy.</param>
public sealed record BackupResult(BackupFile File, ImmutableSortedDictionary<string, long> LastSequenceNumbers);

/// <summary>
/// Online backups of the SQLite journal with SQLite's backup API, into <c>backups/</c> under the data directory. The
/// copy is one read transaction on the journal file: in WAL mode writers go on appending to the log while it runs,
/// and the copy holds exactly the transactions committed before it began, so a node started on it recovers every
/// message acknowledged before the backup started. One backup runs at a time.
/// </summary>
public sealed partial class SqliteBackup
{
    /// <summary>The folder under the data directory that holds backups.</summary>
    public const string FolderName = "backups";

    private const string PartialSuffix = ".partial";
    private readonly DurableQueuesOptions _options;
    private readonly TimeProvider _time;
    private int _running;

    /// <summary>Backups of the SQLite journal of <paramref name="options"/>.</summary>
    public SqliteBackup(DurableQueuesOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The absolute path of the backup folder.</summary>
    public string Folder => Path.GetFullPath(Path.Combine(_options.DataDirectory, FolderName));

    /// <summary>True when the node's journal is a SQLite file this class can copy; a PostgreSQL node is backed up with <c>pg_dump</c>.</summary>
    public bool IsSupported => _options.Journal == JournalKind.Sqlite;

    /// <summary>
    /// True when <paramref name="name"/> has the form of a backup file name (<c>actors-20261202T161500Z.db</c>,
    /// optionally <c>-2</c> before <c>.db</c>): letters, digits and one dot only, so no path can be built from it.
    /// </summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>
    /// Copies the journal into a new backup file off the caller's thread and reads the sequence numbers it holds.
    /// Throws <see cref="InvalidOperationException"/> for a PostgreSQL node or while another backup runs.
    /// </summary>
    public async Task<BackupResult> CreateAsync(CancellationToken cancellationToken = default)
    {
        if (!IsSupported) throw new InvalidOperationException("This node's journal is PostgreSQL: back it up with pg_dump.");
        if (Interlocked.Exchange(ref _running, 1) == 1) throw new BackupInProgressException();
        try
        {
            return await Task.Run(Create, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>The backup files, newest first.</summary>
    public IReadOnlyList<BackupFile> List()
    {
        var folder = Folder;
        if (!Directory.Exists(folder)) return [];
        return new DirectoryInfo(folder).EnumerateFiles("actors-*.db")
            .Where(f => IsValidName(f.Name))
            .Select(Describe)
            .OrderByDescending(f => f.CreatedAt).ThenByDescending(f => f.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The backup file called <paramref name="name"/>, or null when the name is not valid or no such backup exists.</summary>
    public BackupFile? Find(string name)
    {
        if (!IsValidName(name)) return null;
        var file = new FileInfo(Path.Combine(Folder, name));
        return file.Exists ? Describe(file) : null;
    }

    /// <summary>The highest journal sequence number of each persistence id in the SQLite file at <paramref name="path"/> (opened read-only).</summary>
    public static ImmutableSortedDictionary<string, long> LastSequenceNumbers(string path)
    {
        var builder = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false };
        using var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        using var exists = connection.CreateCommand();
        exists.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'journal'";
        var result = ImmutableSortedDictionary.CreateBuilder<string, long>(StringComparer.Ordinal);
        if (Convert.ToInt64(exists.ExecuteScalar(), CultureInfo.InvariantCulture) == 0) return result.ToImmutable();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT persistence_id, MAX(sequence_number) FROM journal GROUP BY persistence_id";
        using var reader = command.ExecuteReader();
        while (reader.Read()) result[reader.GetString(0)] = reader.GetInt64(1);
        return result.ToImmutable();
    }

    private BackupResult Create()
    {
        var folder = Folder;
        Directory.CreateDirectory(folder);
        var name = FreeName(folder, _time.GetUtcNow());
        var path = Path.Combine(folder, name);
        var partial = path + PartialSuffix;
        try
        {
            Copy(_options.DatabasePath, partial);
            var sequenceNumbers = LastSequenceNumbers(partial);
            File.Move(partial, path);
            return new BackupResult(Describe(new FileInfo(path)), sequenceNumbers);
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
    }

    /// <summary>
    /// The copy: SQLite's backup API in one step, which reads every page in one read transaction (a consistent
    /// snapshot; writers in WAL mode are not blocked), then the copy is switched to a rollback journal so the backup
    /// is one self-contained file. A node started on it switches it back to WAL.
    /// </summary>
    private void Copy(string source, string destination)
    {
        var timeout = (int)Math.Ceiling(_options.SqliteBusyTimeout.TotalSeconds);
        var from = new SqliteConnectionStringBuilder { DataSource = source, Mode = SqliteOpenMode.ReadWrite, Pooling = false, DefaultTimeout = timeout };
        var to = new SqliteConnectionStringBuilder { DataSource = destination, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false };
        using (var sourceConnection = new SqliteConnection(from.ToString()))
        using (var destinationConnection = new SqliteConnection(to.ToString()))
        {
            sourceConnection.Open();
            destinationConnection.Open();
            sourceConnection.BackupDatabase(destinationConnection);
            using var command = destinationConnection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode=DELETE;";
            command.ExecuteNonQuery();
        }
    }

    private static string FreeName(string folder, DateTimeOffset now)
    {
        var stem = "actors-" + now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var name = stem + ".db";
        for (var n = 2; File.Exists(Path.Combine(folder, name)) || File.Exists(Path.Combine(folder, name + PartialSuffix)); n++)
            name = $"{stem}-{n.ToString(CultureInfo.InvariantCulture)}.db";
        return name;
    }

    private static BackupFile Describe(FileInfo file) =>
        new(file.Name, file.FullName, file.Length, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero));

    [GeneratedRegex(@"^actors-[0-9]{8}T[0-9]{6}Z(-[0-9]{1,6})?\.db\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}

/// <summary>Thrown when a backup is asked for while another one is being written.</summary>
public sealed class BackupInProgressException : InvalidOperationException
{
    /// <summary>A backup is already being written.</summary>
    public BackupInProgressException() : base("A backup is already being written; try again when it has finished.") { }

    /// <summary>With a message.</summary>
    public BackupInProgressException(string message) : base(message) { }

    /// <summary>With a message and a cause.</summary>
    public BackupInProgressException(string message, Exception innerException) : base(message, innerException) { }
}

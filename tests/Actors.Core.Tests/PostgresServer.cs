using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Actors.Core.Tests;

/// <summary>
/// A throwaway PostgreSQL 15 server for tests: initdb into a temp directory, a random loopback port, trust auth,
/// run as the <c>postgres</c> user when the tests run as root; stopped and deleted on dispose.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "actors-pg", Guid.NewGuid().ToString("N"));
    private string _bin = "";

    public int Port { get; private set; }

    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Maximum Pool Size=20";

    public async Task InitializeAsync()
    {
        _bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderDescending().FirstOrDefault() ?? ""
            : "";
        if (_bin.Length == 0) throw new InvalidOperationException("PostgreSQL is not installed (apt-get install postgresql-15); .ci/run installs it.");
        Directory.CreateDirectory(_directory);
        if (Environment.UserName == "root") await Run("chown", ["-R", "postgres:postgres", _directory]);
        Port = FreePort();
        await RunAsPostgres(Path.Combine(_bin, "initdb"), ["-D", Path.Combine(_directory, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        await RunAsPostgres(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_directory, "data"), "-l", Path.Combine(_directory, "log"), "-w", "-t", "60",
            "-o", $"-p {Port} -k {_directory} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=100", "start"]);
    }

    public async Task DisposeAsync()
    {
        try
        {
            await RunAsPostgres(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_directory, "data"), "-m", "immediate", "-w", "stop"]);
        }
        finally
        {
            try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Creates a fresh database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "t" + Guid.NewGuid().ToString("N")[..12];
        await RunAsPostgres(Path.Combine(_bin, "createdb"), ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", name]);
        return ConnectionString(name);
    }

    /// <summary>
    /// <c>pg_dump -Fc</c> of <paramref name="database"/> (a database name or a connection string) into a file in the
    /// server's directory, taken while the database is in use; returns the file's path.
    /// </summary>
    public async Task<string> DumpAsync(string database)
    {
        var file = Path.Combine(_directory, "dump-" + Guid.NewGuid().ToString("N")[..8] + ".pgdump");
        await RunAsPostgres(Path.Combine(_bin, "pg_dump"), [.. ClientArgs(), "-Fc", "-f", file, DatabaseName(database)]);
        return file;
    }

    /// <summary><c>pg_restore</c> of a <see cref="DumpAsync"/> file into a fresh database; returns its connection string.</summary>
    public async Task<string> RestoreAsync(string dumpFile)
    {
        var connection = await CreateDatabaseAsync();
        await RunAsPostgres(Path.Combine(_bin, "pg_restore"), [.. ClientArgs(), "--no-owner", "--exit-on-error", "-d", DatabaseName(connection), dumpFile]);
        return connection;
    }

    private string[] ClientArgs() => ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres"];

    private static string DatabaseName(string databaseOrConnectionString) =>
        databaseOrConnectionString.Contains('=', StringComparison.Ordinal)
            ? new Npgsql.NpgsqlConnectionStringBuilder(databaseOrConnectionString).Database!
            : databaseOrConnectionString;

    /// <summary>A free TCP port on loopback.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Task RunAsPostgres(string program, string[] args) =>
        Environment.UserName == "root" ? Run("runuser", ["-u", "postgres", "--", program, .. args]) : Run(program, args);

    private static async Task Run(string program, string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}{await stdout}");
    }
}

using Actors.Configuration;
using Actors.Http.Security;
using Actors.Journal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Actors.Http;

/// <summary>
/// Online backups of a SQLite node (permission <c>admin</c>): take one, list them, download one. A PostgreSQL node
/// answers 501 with a problem pointing to <c>pg_dump</c>.
/// </summary>
public static class BackupEndpoints
{
    /// <summary>The media type of a downloaded backup.</summary>
    public const string SqliteMediaType = "application/vnd.sqlite3";

    /// <summary>
    /// Maps <c>POST /admin/backup</c> (answers <c>{"path","bytes","lastSequenceNumbers"}</c>), <c>GET /admin/backups</c>
    /// and <c>GET /admin/backups/{name}</c> for the journal of <paramref name="options"/>.
    /// </summary>
    public static IEndpointRouteBuilder MapBackupEndpoints(this IEndpointRouteBuilder app, DurableQueuesOptions options)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(options);
        var backup = new SqliteBackup(options);
        var admin = app.MapGroup("/admin").WithTags("Backup");
        admin.MapPost("/backup", (CancellationToken ct) => CreateAsync(backup, ct)).WithName("CreateBackup")
            .WithSummary("Copy the SQLite journal, without stopping intake, into backups/ under the data directory; 501 on PostgreSQL (use pg_dump)")
            .RequirePermission(ActorsPolicies.Admin);
        admin.MapGet("/backups", () => List(backup)).WithName("ListBackups").WithSummary("The backup files, newest first").RequirePermission(ActorsPolicies.Admin);
        admin.MapGet("/backups/{name}", (string name) => Download(backup, name)).WithName("DownloadBackup")
            .WithSummary("Download a backup file (a SQLite database: copy it to a fresh data directory as actors.db and start a node on it)")
            .RequirePermission(ActorsPolicies.Admin);
        return app;
    }

    private static async Task<IResult> CreateAsync(SqliteBackup backup, CancellationToken cancellationToken)
    {
        if (!backup.IsSupported) return NotSupported();
        try
        {
            var result = await backup.CreateAsync(cancellationToken).ConfigureAwait(false);
            return Results.Json(new { path = result.File.Path, bytes = result.File.Bytes, lastSequenceNumbers = result.LastSequenceNumbers });
        }
        catch (BackupInProgressException e)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "backup-in-progress", "Backup in progress", e.Message);
        }
    }

    private static IResult List(SqliteBackup backup)
    {
        if (!backup.IsSupported) return NotSupported();
        var backups = backup.List().Select(b => new { name = b.Name, path = b.Path, bytes = b.Bytes, createdAt = b.CreatedAt });
        return Results.Json(new { backups });
    }

    private static IResult Download(SqliteBackup backup, string name)
    {
        if (!SqliteBackup.IsValidName(name))
            return Problems.Create(StatusCodes.Status400BadRequest, "invalid-backup-name", "Invalid backup name",
                "A backup name has the form actors-yyyyMMddTHHmmssZ.db (as listed by GET /admin/backups).");
        if (!backup.IsSupported) return NotSupported();
        return backup.Find(name) is { } file
            ? Results.File(file.Path, SqliteMediaType, file.Name, enableRangeProcessing: true)
            : Problems.Create(StatusCodes.Status404NotFound, "unknown-backup", "Unknown backup", $"There is no backup called '{name}'.");
    }

    private static IResult NotSupported() =>
        Problems.Create(StatusCodes.Status501NotImplemented, "backup-not-supported", "Backup not supported on PostgreSQL",
            "This node's journal is PostgreSQL: back it up with pg_dump (pg_dump -Fc -f actors.dump <database>) and restore with pg_restore into a fresh database; see the README, \"Backup and restore\".");
}

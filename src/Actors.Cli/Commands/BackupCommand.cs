using System.CommandLine;
using System.Text.Json.Nodes;

namespace Actors.Cli.Commands;

/// <summary>
/// <c>backup --out &lt;file&gt;</c>: the node takes a consistent copy of its database (<c>POST /admin/backup</c>), then the
/// CLI downloads it (<c>GET /admin/backups/{name}</c>) into the file.
/// </summary>
internal static class BackupCommand
{
    /// <summary>The <c>backup</c> command.</summary>
    public static Command Create(Session session)
    {
        var output = new Option<string>("--out", "-o") { Description = "The file to write the backup (.db) to", Required = true };
        var backup = new Command("backup", "Take a backup on the node and download it") { output };
        session.Handle(backup, async run =>
        {
            var target = Path.GetFullPath(run.Value(output)!);
            var (_, json) = await run.Api.SendAsync(HttpMethod.Post, "admin/backup", null, run.Cancellation).ConfigureAwait(false);
            var path = json?["path"]?.ToString();
            if (string.IsNullOrEmpty(path)) throw new CliException(ExitCodes.Unavailable, "the node answered the backup without a path");
            var name = path[(path.LastIndexOfAny(['/', '\\']) + 1)..];

            // Written beside the target and moved into place once complete, so a failed download leaves no partial file.
            var partial = target + ".partial";
            long bytes;
            try
            {
                var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
                await using (file.ConfigureAwait(false))
                {
                    bytes = await run.Api.DownloadAsync($"admin/backups/{Paths.Segment(name)}", file, run.Cancellation).ConfigureAwait(false);
                }
                File.Move(partial, target, overwrite: true);
            }
            catch (IOException e)
            {
                throw new CliException(ExitCodes.Usage, $"cannot write the backup to '{target}': {e.Message}");
            }
            finally
            {
                if (File.Exists(partial)) File.Delete(partial);
            }

            if (run.Json)
            {
                var result = json!.DeepClone().AsObject();
                result["out"] = target;
                result["downloadedBytes"] = bytes;
                Output.Json(run.Out, result);
                return;
            }
            run.Out.WriteLine($"backup {name}: {bytes} bytes written to {target}");
            if (json?["lastSequenceNumbers"] is JsonObject sequences && sequences.Count > 0)
                run.Out.WriteLine($"last sequence numbers: {string.Join(", ", sequences.Select(s => $"{s.Key} {Output.Cell(s.Value)}"))}");
        });
        return backup;
    }
}

using System.Text;

namespace Actors.Cli.Tests;

/// <summary><c>actors backup</c> against the node's backup routes (<c>POST /admin/backup</c>, <c>GET /admin/backups/{name}</c>).</summary>
public sealed class CliBackupTests(CliNode node) : IClassFixture<CliNode>
{
    [Fact]
    public async Task Backup_downloads_the_database_the_node_wrote()
    {
        (await node.Run("enqueue", "default", "echo", "{\"kept\":true}")).Ok();
        var target = Path.Combine(node.DataDirectory, "downloaded", "backup.db");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);

        var json = (await node.Run("backup", "--out", target, "--json")).Json();

        Assert.True(File.Exists(target));
        Assert.Equal(json["bytes"]!.GetValue<long>(), new FileInfo(target).Length);
        Assert.Equal(json["downloadedBytes"]!.GetValue<long>(), new FileInfo(target).Length);
        Assert.NotNull(json["lastSequenceNumbers"]);
        var header = new byte[16];
        await using (var file = File.OpenRead(target)) await file.ReadExactlyAsync(header);
        Assert.Equal("SQLite format 3\0", Encoding.ASCII.GetString(header));
        Assert.False(File.Exists(target + ".partial"));
    }
}

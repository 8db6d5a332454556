using Actors.Configuration;
using Actors.Journal;
using Microsoft.Data.Sqlite;

namespace Actors.Core.Tests;

/// <summary>Backups of the SQLite journal: names, what a copy holds, and the files the list shows.</summary>
public sealed class SqliteBackupTests
{
    [Theory]
    [InlineData("actors-20261202T161500Z.db", true)]
    [InlineData("actors-20261202T161500Z-2.db", true)]
    [InlineData("actors-20261202T161500Z-123456.db", true)]
    [InlineData("actors.db", false)]
    [InlineData("actors-20261202T161500Z.db.partial", false)]
    [InlineData("actors-20261202T161500Z.db\n", false)]
    [InlineData("../actors-20261202T161500Z.db", false)]
    [InlineData("..\\actors-20261202T161500Z.db", false)]
    [InlineData("actors-20261202T161500Z-.db", false)]
    [InlineData("actors-2026120T161500Z.db", false)]
    [InlineData("ACTORS-20261202T161500Z.DB", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Only_backup_file_names_are_valid(string? name, bool valid) => Assert.Equal(valid, SqliteBackup.IsValidName(name));

    [Fact]
    public async Task A_backup_holds_the_journal_as_of_its_start_as_one_file_and_the_list_shows_only_finished_backups()
    {
        var options = TestQueues.NewOptions();
        options.AddQueue("jobs", q => q.Workers = 1);
        options.Handlers.Add<ReadOnlyMemory<byte>>("job", async (_, _, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return null;
        });
        var (system, queues) = TestQueues.StartNode(options, "backup");
        try
        {
            for (var i = 0; i < 20; i++) await queues.Client.EnqueueAsync("jobs", "job", new byte[] { (byte)i });
            var backup = new SqliteBackup(options);
            Directory.CreateDirectory(backup.Folder);
            await File.WriteAllBytesAsync(Path.Combine(backup.Folder, "actors-20200101T000000Z.db.partial"), [1, 2, 3]);
            await File.WriteAllBytesAsync(Path.Combine(backup.Folder, "notes.db"), [1, 2, 3]);

            var result = await backup.CreateAsync();

            Assert.Equal(backup.Folder, Path.GetDirectoryName(result.File.Path));
            Assert.Equal(new FileInfo(result.File.Path).Length, result.File.Bytes);
            Assert.False(File.Exists(result.File.Path + "-wal"));
            // The copy has every persistence id of the live file, none ahead of it (the live file may have gone on).
            var live = SqliteBackup.LastSequenceNumbers(options.DatabasePath);
            Assert.Equal(live.Keys, result.LastSequenceNumbers.Keys);
            Assert.All(result.LastSequenceNumbers, p => Assert.True(p.Value <= live[p.Key], $"{p.Key}: {p.Value} > {live[p.Key]}"));
            Assert.True(result.LastSequenceNumbers["queue-jobs-0"] >= 20, string.Join(", ", result.LastSequenceNumbers));
            using (var copy = new SqliteConnection($"Data Source={result.File.Path};Mode=ReadOnly;Pooling=False"))
            {
                copy.Open();
                using var command = copy.CreateCommand();
                command.CommandText = "PRAGMA journal_mode;";
                Assert.Equal("delete", command.ExecuteScalar() as string);
            }
            Assert.Equal([result.File.Name], backup.List().Select(f => f.Name));
            Assert.Equal(result.File.Path, backup.Find(result.File.Name)?.Path);
            Assert.Null(backup.Find("actors-20200101T000000Z.db"));
            Assert.Null(backup.Find("../" + options.DatabaseFile));
        }
        finally
        {
            await system.Terminate();
            TestQueues.DeleteDirectory(options.DataDirectory);
        }
    }

    [Fact]
    public async Task A_PostgreSQL_node_has_no_file_backup()
    {
        var backup = new SqliteBackup(new DurableQueuesOptions { Journal = JournalKind.PostgreSql, ConnectionString = "Host=127.0.0.1" });
        Assert.False(backup.IsSupported);
        await Assert.ThrowsAsync<InvalidOperationException>(() => backup.CreateAsync());
    }
}

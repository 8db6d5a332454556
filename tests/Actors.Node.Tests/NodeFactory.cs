using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Actors.Node.Tests;

/// <summary>An in-memory node over a fresh SQLite file, with extra settings layered over the standalone profile.</summary>
public sealed class NodeFactory(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Program>
{
    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "actors-node-tests", Guid.NewGuid().ToString("N"));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Actors:DataDirectory", DataDirectory);
        builder.UseSetting("Actors:DrainTimeout", "00:00:02");
        // The AMQP listener is tested on its own (tests/Actors.Amqp.Tests); nodes here would all ask for port 5672.
        builder.UseSetting("Actors:Amqp:Enabled", "false");
        foreach (var (key, value) in settings) builder.UseSetting(key, value);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
    }
}

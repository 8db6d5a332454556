using Actors.Configuration;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.Core.Tests;

/// <summary>Fresh data directories and actor-system configuration for tests over real SQLite files.</summary>
internal static class TestQueues
{
    public static DurableQueuesOptions NewOptions(string? dataDirectory = null)
    {
        var options = new DurableQueuesOptions
        {
            DataDirectory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "actors-tests", Guid.NewGuid().ToString("N")),
            DrainTimeout = TimeSpan.FromSeconds(5),
            RequestTimeout = TimeSpan.FromSeconds(20),
        };
        DurableQueues.PrepareStorage(options);
        return options;
    }

    public static Config Config(DurableQueuesOptions options) =>
        ConfigurationFactory.ParseString("""
            akka.loglevel = INFO
            akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
            """).WithFallback(DurableQueues.Configuration(options));

    /// <summary>Starts a separate actor system (a "node") with queues over the options' SQLite file.</summary>
    public static (ActorSystem System, DurableQueuesHandle Queues) StartNode(DurableQueuesOptions options, string name = "node")
    {
        var system = ActorSystem.Create(name, Config(options));
        return (system, DurableQueues.Start(system, options));
    }

    /// <summary>Polls <paramref name="condition"/> until it holds (a probe for conditions no actor reports), failing after a deadline.</summary>
    public static Task Until(Func<Task<bool>> condition, string what, int seconds = 60) => Poll.Until(condition, what, TimeSpan.FromSeconds(seconds));

    public static void DeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // A pooled SQLite connection may still hold the file for a moment; the temp folder is cleaned by the OS.
        }
    }
}

/// <summary>
/// A test over one throwaway data directory that several nodes (actor systems, one after the other) share, as a
/// restart would: <see cref="Options"/> gives each node its options there, with no drain wait; the directory is removed after.
/// </summary>
public abstract class DataDirectoryTest : IDisposable
{
    /// <summary>The directory the test's nodes share.</summary>
    protected string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "actors-tests", Guid.NewGuid().ToString("N"));

    /// <inheritdoc />
    public void Dispose()
    {
        TestQueues.DeleteDirectory(DataDirectory);
        GC.SuppressFinalize(this);
    }

    /// <summary>Options over the shared directory, shaped by <paramref name="configure"/>.</summary>
    protected DurableQueuesOptions Options(Action<DurableQueuesOptions> configure)
    {
        var options = TestQueues.NewOptions(DataDirectory);
        options.DrainTimeout = TimeSpan.Zero;
        configure(options);
        return options;
    }
}

using System.Text;
using Actors.Client;
using Actors.Configuration;
using Akka.Actor;
using Xunit.Abstractions;

namespace Actors.Core.Tests;

/// <summary>
/// A TestKit spec over queues started in its own actor system on a fresh SQLite file: <see cref="Start"/> declares
/// them, <see cref="Client"/> and <see cref="Manager"/> reach them, and the file is removed after.
/// </summary>
public abstract class QueueSpec : Akka.TestKit.Xunit2.TestKit
{
    private readonly DurableQueuesOptions _options;
    private DurableQueuesHandle? _queues;

    /// <summary>A spec over fresh options.</summary>
    protected QueueSpec(ITestOutputHelper output) : this(TestQueues.NewOptions(), output) { }

    private QueueSpec(DurableQueuesOptions options, ITestOutputHelper output) : base(TestQueues.Config(options), output: output) => _options = options;

    /// <summary>The client of the started queues.</summary>
    protected IQueueClient Client => _queues!.Client;

    /// <summary>The schedule client of the started queues.</summary>
    protected IScheduleClient Schedules => _queues!.Schedules;

    /// <summary>The manager of the started queues.</summary>
    protected IActorRef Manager => _queues!.Manager;

    /// <summary>Declares the queues and handlers with <paramref name="configure"/> and starts them, resolving handlers from <paramref name="services"/> (none: an empty provider).</summary>
    protected void Start(Action<DurableQueuesOptions> configure, IServiceProvider? services = null)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(_options);
        _queues = DurableQueues.Start(Sys, _options, services);
    }

    /// <inheritdoc />
    protected override void AfterAll()
    {
        base.AfterAll();
        TestQueues.DeleteDirectory(_options.DataDirectory);
    }

    /// <summary>UTF-8 bytes of <paramref name="s"/>.</summary>
    protected static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);
}

using Actors.Client;
using Actors.Configuration;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Hosting;

/// <summary>The key of the queue manager in the <see cref="ActorRegistry"/>: Tell it <c>Enqueue</c> to produce the native Akka way.</summary>
public sealed class DurableQueueManager
{
    private DurableQueueManager() { }
}

/// <summary>The key of the schedule manager in the <see cref="ActorRegistry"/>: Tell it schedule commands (<c>Actors.Schedules.ScheduleCommands</c>).</summary>
public sealed class DurableScheduleManager
{
    private DurableScheduleManager() { }
}

/// <summary>Akka.Hosting and dependency-injection entry points for Actors' durable queues.</summary>
public static class DurableQueuesHostingExtensions
{
    /// <summary>
    /// Adds durable queues to the actor system: the SQLite journal under <see cref="DurableQueuesOptions.DataDirectory"/>
    /// (created if missing, write-ahead logging on), our serializer, in cluster mode TLS between the nodes when
    /// <see cref="RemoteTlsOptions.Enabled"/> (see <see cref="RemoteTls"/>), and the queue manager, registered in the
    /// <see cref="ActorRegistry"/> as <see cref="DurableQueueManager"/>. Handlers are resolved from the host's services.
    /// </summary>
    /// <param name="builder">The Akka configuration builder.</param>
    /// <param name="options">The queues and limits; default: no queues, data under <c>./data</c>.</param>
    public static AkkaConfigurationBuilder WithDurableQueues(this AkkaConfigurationBuilder builder, DurableQueuesOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        options ??= new DurableQueuesOptions();
        options.Validate();
        DurableQueues.PrepareStorage(options);
        builder.AddHocon(DurableQueues.Configuration(options), HoconAddMode.Prepend);
        if (RemoteTls.Setup(options.Cluster) is { } tls) builder.AddSetup(tls);
        return builder.WithActors((system, registry, resolver) =>
        {
            var services = resolver.GetService<IServiceProvider>();
            var handle = DurableQueues.Start(system, options, services);
            registry.Register<DurableQueueManager>(handle.Manager);
            registry.Register<DurableScheduleManager>(handle.ScheduleManager);
        });
    }

    /// <summary>
    /// Registers <see cref="IQueueClient"/> (and <see cref="IScheduleClient"/>) as singletons over the managers that
    /// <see cref="WithDurableQueues"/> starts. They may be resolved before the host starts (a hosted service's
    /// constructor, say): each finds its manager in the <see cref="ActorRegistry"/> on first use, and a call made
    /// before the queues started waits for them, at most <paramref name="timeout"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="timeout">How long a call waits for the queue's answer; default 30 s.</param>
    public static IServiceCollection AddQueueClient(this IServiceCollection services, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var wait = timeout ?? TimeSpan.FromSeconds(30);
        services.AddSingleton<IQueueClient>(sp => new RegistryQueueClient(sp, wait));
        services.AddSingleton<IScheduleClient>(sp => new RegistryScheduleClient(sp, wait));
        return services;
    }

    /// <summary>Binds <see cref="DurableQueuesOptions"/> from the <c>Actors</c> section of <paramref name="configuration"/>.</summary>
    public static DurableQueuesOptions GetDurableQueuesOptions(this IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new DurableQueuesOptions();
        configuration.GetSection(DurableQueuesOptions.SectionName).Bind(options);
        Actors.Schedules.ScheduleOptions.Bind(configuration.GetSection(DurableQueuesOptions.SectionName).GetSection(nameof(options.Schedules)), options.Schedules);
        return options;
    }
}

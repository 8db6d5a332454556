using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Actors.Amqp;

/// <summary>Registers the AMQP 0-9-1 listener.</summary>
public static class AmqpServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="AmqpOptions"/> from <c>Actors:Amqp</c> and, when <see cref="AmqpOptions.Enabled"/>, starts the
    /// listener with the host. Needs the queue client and the node's auth options (<c>AddQueueClient</c>, <c>AddActorsAuth</c>).
    /// </summary>
    public static IServiceCollection AddAmqp(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(AmqpOptions.Section);
        services.AddOptions<AmqpOptions>().Bind(section);
        services.TryAddSingleton<AmqpExchanges>();
        services.TryAddSingleton<AmqpAuthenticator>();
        services.TryAddSingleton<AmqpConnectionHandler>();
        services.TryAddSingleton<IConsumerAttachments, QueueClientConsumerAttachments>();
        if (section.GetValue<bool>(nameof(AmqpOptions.Enabled)))
        {
            services.TryAddSingleton<AmqpServer>();
            services.AddHostedService(sp => sp.GetRequiredService<AmqpServer>());
        }
        return services;
    }
}

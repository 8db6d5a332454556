using Actors.Hosting;
using Actors.Samples.Cluster;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// A user's own cluster application: the same Akka.Hosting call as on one node, with cluster options from
// configuration (Actors:Cluster:*, Actors:Journal=PostgreSql, Actors:ConnectionString). Every node registers the
// handler; the roles decide what each node does (queue hosts queues, worker runs handlers, a producer produces).
var builder = Host.CreateApplicationBuilder(args);
var sample = SampleOptions.Bind(builder.Configuration);

var queues = builder.Configuration.GetDurableQueuesOptions();
for (var i = 0; i < sample.Queues; i++)
{
    queues.AddQueue(SampleOptions.QueueName(i), q =>
    {
        q.Workers = sample.WorkersPerNode;
        q.Prefetch = sample.Prefetch;
        q.Lease = TimeSpan.FromSeconds(30);
        q.AllowedTypes = [RecordTask.Type];
    });
}
queues.Handlers.Add<RecordTask, RecordHandler>(RecordTask.Type);

builder.Services.AddSingleton(sample);
builder.Services.AddSingleton<CompletionLog>();
builder.Services.AddQueueClient(queues.RequestTimeout);
builder.Services.AddAkka(queues.Cluster.Enabled ? "actors" : "actors-sample", akka => akka
    .ConfigureLoggers(loggers => loggers.AddLoggerFactory())
    .WithDurableQueues(queues)
    .WithActors((system, _) => SampleEvents.WatchMembership(system)));
if (sample.Produce > 0) builder.Services.AddHostedService<Producer>();
if (sample.WatchSchedule is not null && queues.Cluster.Enabled && queues.Cluster.HasRole(Actors.Configuration.ClusterRoles.Queue)) builder.Services.AddHostedService<ScheduleWatcher>();

await builder.Build().RunAsync();

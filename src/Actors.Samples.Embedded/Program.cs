using Actors.Client;
using Actors.Handlers;
using Actors.Hosting;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Actors.Protocol.QueueCommands;

var builder = Host.CreateApplicationBuilder(args);            // or WebApplication.CreateBuilder, to serve the HTTP API too
var queues = builder.Configuration.GetDurableQueuesOptions(); // binds the "Actors" section (appsettings.json below)
queues.AddQueue("emails", q => q.AllowedTypes = ["send_email"]); // or declare it under Actors:Queues in configuration
queues.Handlers.Add<SendEmail, SendEmailHandler>("send_email");
builder.Services.AddSingleton<ISmtp, ConsoleSmtp>();
builder.Services.AddQueueClient();
builder.Services.AddAkka("my-system", akka => akka.WithDurableQueues(queues));
builder.Services.AddHostedService<Reminders>();
// with the HTTP API: builder.Services.AddActorsAuth(builder.Configuration); builder.Services.AddActorsHealthChecks(queues);
//                    then app.UseActorsAuth(); app.MapQueueEndpoints();
await builder.Build().RunAsync();

internal sealed record SendEmail(string To, string Subject);

internal sealed class SendEmailHandler(ISmtp smtp) : IMessageHandler<SendEmail>   // resolved from DI per message
{
    public async ValueTask<object?> HandleAsync(SendEmail email, MessageContext context, CancellationToken cancellationToken)
    {
        await smtp.SendAsync(email.To, email.Subject, cancellationToken); // fires on lease expiry, cancel, shutdown
        return new { sentAt = DateTime.UtcNow };                          // stored with the message
    }
}

// Any service may inject IQueueClient, a BackgroundService too: calls made before the queues started wait for them.
internal sealed class Reminders(IQueueClient client) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        long id = await client.EnqueueJsonAsync("emails", "send_email", new SendEmail("ops@example.com", "hi"), cancellationToken: stoppingToken);
        var status = await client.GetMessageAsync("emails", id, stoppingToken); // Queued, Scheduled, InFlight, Succeeded, …
        Console.WriteLine($"Email {id} is {status?.Status}");

        // With an idempotency key, a delivery time and an expiry: retried with the same key, it is stored once.
        var (reminder, replayed) = await client.EnqueueAsync("emails", new NewMessage("send_email", "{\"to\":\"ops@example.com\"}"u8.ToArray(),
            IdempotencyKey: "reminder-order-17", Timing: new MessageTiming(Delay: TimeSpan.FromHours(24), Ttl: TimeSpan.FromHours(25))), stoppingToken);
        var cancelled = await client.CancelAsync("emails", reminder, stoppingToken); // Cancelled, NotFound or AlreadyFinished
        Console.WriteLine($"Reminder {reminder} (replayed: {replayed}): {cancelled.Outcome}");
    }
}

internal interface ISmtp
{
    Task SendAsync(string to, string subject, CancellationToken cancellationToken);
}

internal sealed class ConsoleSmtp : ISmtp
{
    public Task SendAsync(string to, string subject, CancellationToken cancellationToken)
    {
        Console.WriteLine($"Mail to {to}: {subject}");
        return Task.CompletedTask;
    }
}

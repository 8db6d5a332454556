using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

// The yardstick of tests/rabbitmq-compare.sh: the load test's work (N messages of S bytes, P producers, C consumers)
// on a RabbitMQ quorum queue through the official .NET client. Each producer has its own connection and channel
// with publisher confirms, tracked by the client, and keeps at most --outstanding publishes unconfirmed; each
// consumer has its own connection and channel, with manual acks and a prefetch. Every message carries its number,
// so a message never delivered (lost) or delivered twice (duplicates) is counted. Prints one JSON line as its last
// line: e2e_per_s from the first publish to the last ack, publish_per_s from the first publish to the last confirm.
// With --queue it uses that existing queue of the server instead of a new quorum queue (an Actors node's AMQP
// listener: tests/amqp-bench.sh), and with --consumers 0 it only publishes. With --warmup N it first runs rounds of N
// messages, unmeasured.
var settings = Settings.Parse(args);
// --warmup N: rounds of N messages, the same work through a queue of their own (the --queue one when given), until the
// JIT is idle (JitWarmUp), as the load test warms an Actors node: the client is then measured warm, like the broker,
// which is already running.
var warmupSent = 0;
if (settings.Warmup > 0)
{
    await JitWarmUp.RunAsync(async () =>
    {
        var warm = await RunAsync(settings, settings.Warmup);
        warmupSent += settings.Warmup;
        return warm.Finished && warm.Lost == 0 && warm.Nacked == 0;
    });
}
var jitMethodsAtStart = System.Runtime.JitInfo.GetCompiledMethodCount();
var jitTimeAtStart = System.Runtime.JitInfo.GetCompilationTime();
var run = await RunAsync(settings, settings.Messages);
Console.WriteLine(JsonSerializer.Serialize(new
{
    system = settings.System,
    queue_type = settings.Queue is null ? "quorum" : "existing",
    messages = settings.Messages,
    payload = settings.PayloadBytes,
    producers = settings.Producers,
    consumers = settings.Consumers,
    outstanding_per_producer = settings.Outstanding,
    prefetch = settings.Prefetch,
    warmup_messages = warmupSent,
    nacked = run.Nacked,
    acked = run.Acked,
    lost = run.Lost,
    duplicates = run.Duplicates,
    publish_per_s = Math.Round(settings.Messages / run.PublishSeconds),
    e2e_per_s = settings.Consumers == 0 ? (double?)null : Math.Round(run.Acked / run.E2eSeconds),
    seconds = Math.Round(run.E2eSeconds, 3),
    jit_methods_in_run = System.Runtime.JitInfo.GetCompiledMethodCount() - jitMethodsAtStart,
    jit_ms_in_run = Math.Round((System.Runtime.JitInfo.GetCompilationTime() - jitTimeAtStart).TotalMilliseconds),
}));
return run.Finished && run.Lost == 0 && run.Nacked == 0 ? 0 : 1;

// One run: a new quorum queue (or the --queue one), consumers attached, then every message published; it ends when
// every message was acknowledged (or after --timeout-min).
static async Task<RunResult> RunAsync(Settings settings, int messages)
{
    var factory = new ConnectionFactory
    {
        HostName = settings.Host,
        Port = settings.Port,
        UserName = settings.User,
        Password = settings.Password,
        AutomaticRecoveryEnabled = false,
    };
    var queue = settings.Queue ?? $"bench-{Guid.NewGuid():N}";
    var arguments = settings.Queue is null ? new Dictionary<string, object?> { ["x-queue-type"] = "quorum" } : null;

    await using (var setup = await factory.CreateConnectionAsync("bench-setup"))
    await using (var channel = await setup.CreateChannelAsync())
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments);

    // Message n (1-based) is delivered deliveries[n] times.
    var deliveries = new int[messages + 1];
    var acked = 0L;
    var allAcked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    if (settings.Consumers == 0) allAcked.TrySetResult();
    var stopwatch = new Stopwatch();

    var consumerConnections = new List<IConnection>();
    for (var c = 0; c < settings.Consumers; c++)
    {
        var connection = await factory.CreateConnectionAsync($"bench-consumer-{c}");
        consumerConnections.Add(connection);
        var channel = await connection.CreateChannelAsync();
        await channel.BasicQosAsync(0, (ushort)settings.Prefetch, global: false);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            var n = BinaryPrimitives.ReadInt32LittleEndian(delivery.Body.Span);
            if (n > 0 && n < deliveries.Length) Interlocked.Increment(ref deliveries[n]);
            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
            if (Interlocked.Increment(ref acked) == messages) allAcked.TrySetResult();
        };
        await channel.BasicConsumeAsync(queue, autoAck: false, consumer);
    }

    var publisherConnections = new List<IConnection>();
    var publisherChannels = new List<IChannel>();
    for (var p = 0; p < settings.Producers; p++)
    {
        var connection = await factory.CreateConnectionAsync($"bench-publisher-{p}");
        publisherConnections.Add(connection);
        // The window below bounds outstanding confirms; the client's own throttle would add delays of its own.
        publisherChannels.Add(await connection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true, outstandingPublisherConfirmationsRateLimiter: null)));
    }

    var nacked = 0L;
    var properties = new BasicProperties { Persistent = true };
    stopwatch.Start();
    var publishers = Enumerable.Range(0, settings.Producers).Select(p => Task.Run(async () =>
    {
        var channel = publisherChannels[p];
        var window = new SemaphoreSlim(settings.Outstanding);
        var inFlight = new List<Task>();
        // Producer p sends messages p + 1, p + 1 + P, ...: every number once over all producers.
        for (var n = p + 1; n <= messages; n += settings.Producers)
        {
            await window.WaitAsync();
            var body = new byte[settings.PayloadBytes];
            BinaryPrimitives.WriteInt32LittleEndian(body, n);
            inFlight.Add(PublishAsync(channel, body, window));
        }
        await Task.WhenAll(inFlight);
    })).ToArray();

    async Task PublishAsync(IChannel channel, byte[] body, SemaphoreSlim window)
    {
        try
        {
            // Returns once the broker confirmed the message (tracking is on); a nack or return throws.
            await channel.BasicPublishAsync(string.Empty, queue, mandatory: true, properties, body);
        }
        catch (RabbitMQ.Client.Exceptions.PublishException)
        {
            Interlocked.Increment(ref nacked);
        }
        finally
        {
            window.Release();
        }
    }

    await Task.WhenAll(publishers);
    var publishSeconds = stopwatch.Elapsed.TotalSeconds;
    var finished = await Task.WhenAny(allAcked.Task, Task.Delay(TimeSpan.FromMinutes(settings.TimeoutMinutes))) == allAcked.Task;
    var e2eSeconds = stopwatch.Elapsed.TotalSeconds;

    foreach (var channel in publisherChannels) await channel.DisposeAsync();
    foreach (var connection in publisherConnections.Concat(consumerConnections)) await connection.CloseAsync();
    if (settings.Queue is null)
    {
        await using var cleanup = await factory.CreateConnectionAsync("bench-cleanup");
        await using var channel = await cleanup.CreateChannelAsync();
        await channel.QueueDeleteAsync(queue);
    }

    var lost = settings.Consumers == 0 ? 0 : deliveries.Skip(1).Count(d => d == 0);
    var duplicates = deliveries.Skip(1).Sum(d => Math.Max(0, d - 1));
    return new RunResult(finished, Interlocked.Read(ref nacked), Interlocked.Read(ref acked), lost, duplicates, publishSeconds, e2eSeconds);
}

/// <summary>What one run measured.</summary>
internal sealed record RunResult(bool Finished, long Nacked, long Acked, int Lost, int Duplicates, double PublishSeconds, double E2eSeconds);

/// <summary>Command-line flags, as --name value pairs.</summary>
internal sealed record Settings(string Host, int Port, string User, string Password, int Messages, int PayloadBytes, int Producers,
    int Consumers, int Outstanding, int Prefetch, int TimeoutMinutes, string? Queue, string System, int Warmup)
{
    public static Settings Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"Expected --name value pairs, got '{args[i]}'. Flags: --host --port --user --password --messages --payload --producers --consumers --outstanding --prefetch --timeout-min --queue --system --warmup");
            values[args[i][2..]] = args[i + 1];
        }
        int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        return new Settings(values.GetValueOrDefault("host", "127.0.0.1"), Int("port", 5672), values.GetValueOrDefault("user", "guest"),
            values.GetValueOrDefault("password", "guest"), Int("messages", 100_000), Math.Max(4, Int("payload", 512)), Math.Max(1, Int("producers", 4)),
            Math.Max(0, Int("consumers", 4)), Math.Max(1, Int("outstanding", 64)), Math.Clamp(Int("prefetch", 100), 1, ushort.MaxValue), Int("timeout-min", 10),
            values.GetValueOrDefault("queue"), values.GetValueOrDefault("system", "rabbitmq"), Math.Max(0, Int("warmup", 0)));
    }
}

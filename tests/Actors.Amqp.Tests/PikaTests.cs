using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Actors.Core.Tests;
using Actors.Node.Tests;
using Xunit.Abstractions;

namespace Actors.Amqp.Tests;

/// <summary>
/// RabbitMQ's own Python tutorial programs (pika, in <c>pika/</c>) against a node: tutorial one and two as written,
/// a worker SIGKILLed in the middle of its tasks, and a publisher with confirms whose node is SIGKILLed and restarted.
/// </summary>
public sealed class PikaTests(AmqpNode node, ITestOutputHelper output) : IClassFixture<AmqpNode>
{
    [Fact]
    public async Task Tutorial_one_hello_world_arrives()
    {
        Assert.Contains("Sent 'Hello World!'", (await Pika.RunAsync(node.Port, "send.py")).Output);
        // Without confirms the script may end before the commit: wait for it.
        await Poll.Until(async () => (await node.Queues.GetStatsAsync("hello")).TotalEnqueued == 1, "hello stored", TimeSpan.FromSeconds(30));
        await node.Queues.ResumeAsync("hello");

        var received = await Pika.RunAsync(node.Port, "receive.py", env: new() { ["EXPECT"] = "1" });
        Assert.Contains("Received Hello World!", received.Output);
        await Poll.Until(async () => (await node.Queues.GetStatsAsync("hello")).TotalSucceeded == 1, "hello succeeded", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Tutorial_two_work_queue_does_every_task_once_and_a_killed_worker_loses_none()
    {
        const int tasks = 40;
        var before = await node.Queues.GetStatsAsync("task_queue");
        Assert.Contains($"Sent task {tasks - 1}.", (await Pika.RunAsync(node.Port, "new_task.py", [tasks.ToString(CultureInfo.InvariantCulture)])).Output);
        await Poll.Until(async () => (await node.Queues.GetStatsAsync("task_queue")).TotalEnqueued == before.TotalEnqueued + tasks, "the tasks stored", TimeSpan.FromSeconds(30));
        await node.Queues.ResumeAsync("task_queue");

        // A slow worker (prefetch_count=1, manual ack) is SIGKILLed after a few tasks: the one it holds unacknowledged
        // goes back to the queue, and a second worker finishes everything.
        var first = Pika.Start(node.Port, "worker.py", env: new() { ["WORK_S"] = "0.2" });
        await Poll.Until(() => Task.FromResult(first.Lines.Count(l => l.Contains("Done", StringComparison.Ordinal)) >= 3), "the first worker's first tasks", TimeSpan.FromSeconds(60));
        first.Process.Kill();
        await first.Process.WaitForExitAsync();
        output.WriteLine($"the first worker did {first.Lines.Count(l => l.Contains("Done", StringComparison.Ordinal))} tasks before it was killed");

        var second = await Pika.RunAsync(node.Port, "worker.py", env: new() { ["IDLE_S"] = "5" });
        await Poll.Until(async () => (await node.Queues.GetStatsAsync("task_queue")).TotalSucceeded == before.TotalSucceeded + tasks, "every task succeeded", TimeSpan.FromSeconds(60));
        var done = first.Lines.Concat(second.Lines).Where(l => l.Contains("Done", StringComparison.Ordinal)).Select(l => l.Trim()).ToHashSet();
        Assert.Equal(tasks, done.Count);
        var after = await node.Queues.GetStatsAsync("task_queue");
        Assert.Equal(before.TotalDeadLettered, after.TotalDeadLettered);
        Assert.Equal(0, after.Depth + after.InFlight);
    }

    [Fact]
    public async Task A_publisher_with_confirms_finds_every_confirmed_message_after_its_node_is_killed_and_restarted()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "actors-amqp-tests", Guid.NewGuid().ToString("N"));
        var httpPort = NodeProcess.FreePort();
        var amqpPort = NodeProcess.FreePort();
        string[] settings =
        [
            $"--Actors:DataDirectory={dataDirectory}", $"--Actors:Amqp:Port={amqpPort}", "--Actors:Queues:jobs:Workers=0",
        ];
        using var http = new HttpClient();
        var nodeProcess = NodeProcess.Start(output, httpPort, settings);
        try
        {
            await NodeProcess.WaitReadyAsync(http, httpPort, nodeProcess);
            var publisher = Pika.Start(amqpPort, "confirm_publish.py", ["jobs", "0", "100000"]);
            await Poll.Until(() => Task.FromResult(publisher.Lines.Count(l => l.StartsWith("confirmed", StringComparison.Ordinal)) >= 200),
                "200 confirmed publishes", TimeSpan.FromSeconds(60));
            nodeProcess.Kill();
            await nodeProcess.WaitForExitAsync();
            await publisher.Process.WaitForExitAsync();
            var confirmed = publisher.Lines.Where(l => l.StartsWith("confirmed ", StringComparison.Ordinal))
                .Select(l => l["confirmed ".Length..]).ToHashSet();
            Assert.Contains(publisher.Lines, l => l.StartsWith("stopped", StringComparison.Ordinal));
            output.WriteLine($"{confirmed.Count} confirmed before the kill");

            nodeProcess = NodeProcess.Start(output, httpPort, settings);
            await NodeProcess.WaitReadyAsync(http, httpPort, nodeProcess);
            // A consumer drains the restarted queue: every confirmed message is there (others may be too: a publish
            // whose confirm the kill cut off may or may not have been committed).
            var consumed = await Pika.RunAsync(amqpPort, "receive_all.py", ["jobs"], new() { ["IDLE_S"] = "5" });
            var bodies = consumed.Lines.Where(l => l.StartsWith("message ", StringComparison.Ordinal)).Select(l => l["message ".Length..]).ToHashSet();
            output.WriteLine($"{bodies.Count} consumed after the restart; the queue: {await http.GetStringAsync($"http://127.0.0.1:{httpPort}/queues/jobs")}");
            Assert.Empty(confirmed.Except(bodies).Order());
        }
        finally
        {
            if (!nodeProcess.HasExited) nodeProcess.Kill();
            await nodeProcess.WaitForExitAsync();
            try { Directory.Delete(dataDirectory, recursive: true); } catch (IOException) { }
        }
    }
}

/// <summary>The pika programs in <c>pika/</c>, run by Debian's python3 with python3-pika.</summary>
internal static class Pika
{
    private const string Python = "/usr/bin/python3";

    /// <summary>A running program and the lines it printed so far.</summary>
    internal sealed record Run(Process Process, ConcurrentQueue<string> Lines)
    {
        public string Output => string.Join('\n', Lines);
    }

    /// <summary>Starts <paramref name="script"/> against the AMQP port <paramref name="port"/>.</summary>
    public static Run Start(int port, string script, string[]? args = null, Dictionary<string, string>? env = null)
    {
        EnsureInstalled();
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pika", script));
        foreach (var arg in args ?? []) start.ArgumentList.Add(arg);
        start.Environment["AMQP_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        start.Environment["AMQP_HOST"] = "127.0.0.1";
        foreach (var (key, value) in env ?? []) start.Environment[key] = value;
        var lines = new ConcurrentQueue<string>();
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line) lines.Enqueue(line); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) lines.Enqueue("stderr: " + line); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new Run(process, lines);
    }

    /// <summary>Runs <paramref name="script"/> to its end (at most two minutes) and fails the test if it fails.</summary>
    public static async Task<Run> RunAsync(int port, string script, string[]? args = null, Dictionary<string, string>? env = null)
    {
        var run = Start(port, script, args, env);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await run.Process.WaitForExitAsync(timeout.Token);
        run.Process.WaitForExit(); // the last lines of output
        Assert.True(run.Process.ExitCode == 0, $"{script} exited {run.Process.ExitCode}:\n{run.Output}");
        return run;
    }

    private static readonly Lazy<bool> Installed = new(() =>
    {
        if (!File.Exists(Python)) return false;
        // Not from the test's directory: its pika/ folder of scripts would import as an empty namespace package.
        var start = new ProcessStartInfo(Python) { ArgumentList = { "-c", "import pika.connection" }, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        using var check = Process.Start(start)!;
        check.WaitForExit();
        return check.ExitCode == 0;
    });

    private static void EnsureInstalled()
    {
        if (!Installed.Value) Assert.Fail("The pika tests need Debian's python3-pika: apt-get update && apt-get install -y python3-pika");
    }
}

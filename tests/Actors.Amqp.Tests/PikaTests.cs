using System.Diagnostics;

namespace Actors.Amqp.Tests;

/// <summary>Python's pika (Debian's python3-pika, which CI installs) runs the RabbitMQ tutorials' programs against a node.</summary>
public sealed class PikaTests(AmqpNode node) : IClassFixture<AmqpNode>
{
    [Fact]
    public async Task Tutorial_one_and_two_run_against_the_node_and_every_task_is_done_once()
    {
        Assert.Contains("Sent 'Hello World!'", await RunAsync("send.py", node.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        // Without confirms the script may end before the commit: wait for it.
        await Actors.Core.Tests.Poll.Until(async () => (await node.Queues.GetStatsAsync("hello")).TotalEnqueued == 1, "hello stored", TimeSpan.FromSeconds(30));

        Assert.Contains("Sent 50", await RunAsync("new_task.py", node.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "50"));
        // Each publish was confirmed after its commit, so every one is stored by the time the script ends.
        Assert.Equal(50, (await node.Queues.GetStatsAsync("task_queue")).TotalEnqueued);
        Assert.Equal("task 2..", System.Text.Encoding.UTF8.GetString((await node.StoredAsync("task_queue", "task-2")).Payload!.Value.Span));

        // The worker (prefetch_count=1, manual ack) gets every task once; each ack completes its message.
        await node.Queues.ResumeAsync("task_queue");
        Assert.Contains("Done 50 distinct 50", await RunAsync("worker.py", node.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "50"));
        await Actors.Core.Tests.Poll.Until(async () => (await node.Queues.GetStatsAsync("task_queue")).TotalSucceeded == 50, "50 succeeded", TimeSpan.FromSeconds(30));
    }

    private static async Task<string> RunAsync(string script, params string[] args)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pika", script));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"{script} exited {process.ExitCode}: {await error}");
        return await output;
    }
}

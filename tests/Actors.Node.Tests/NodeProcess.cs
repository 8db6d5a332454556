using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Actors.Core.Tests;
using Xunit.Abstractions;

namespace Actors.Node.Tests;

/// <summary>The node as a real process for the multi-process tests: a free port, the process with its output in the test log, and its readiness.</summary>
internal static class NodeProcess
{
    /// <summary>A loopback port nothing listens on now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts the built node (<c>Actors.Node.dll</c> beside the tests) on <paramref name="port"/> with <paramref name="settings"/>; its log lines go to <paramref name="output"/>.</summary>
    public static Process Start(ITestOutputHelper output, int port, IEnumerable<string> settings)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Actors.Node.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{port}");
        foreach (var setting in settings) start.ArgumentList.Add(setting);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line && line.Contains("Actors", StringComparison.Ordinal)) output.WriteLine($"[node {process.Id}] {line}"); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) output.WriteLine($"[node {process.Id} err] {line}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Waits until the node on <paramref name="port"/> answers ready; fails at once if it exits.</summary>
    public static Task WaitReadyAsync(HttpClient http, int port, Process node) => Poll.Until(async () =>
    {
        Assert.False(node.HasExited, "the node exited during startup");
        try
        {
            return (await http.GetAsync($"http://127.0.0.1:{port}/health/ready")).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false; // not listening yet
        }
    }, "the node to become ready", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace Actors.Cluster.Tests;

/// <summary>
/// One process of the cluster sample (<c>Actors.Samples.Cluster</c>) on a loopback port: its <c>SAMPLE</c> lines
/// are collected, the rest goes to the test output when it looks like trouble.
/// </summary>
internal sealed class SampleNode : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _sampleLines = new();
    private volatile bool _listening;

    public SampleNode(string name, int port, string roles, IEnumerable<string> settings, ITestOutputHelper output)
    {
        Name = name;
        Port = port;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Actors.Samples.Cluster.dll"));
        start.ArgumentList.Add($"--Actors:Cluster:Port={port}");
        start.ArgumentList.Add($"--Actors:Cluster:Roles={roles}");
        foreach (var setting in settings) start.ArgumentList.Add(setting);
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { } line) return;
            if (line.StartsWith("SAMPLE ", StringComparison.Ordinal))
            {
                _sampleLines.Enqueue(line);
                Log(output, line);
            }
            else if (line.Contains("listening on address", StringComparison.OrdinalIgnoreCase) || line.Contains("Remoting now listens", StringComparison.Ordinal)) _listening = true;
            else if (line.Contains("[ERROR]", StringComparison.Ordinal) || line.Contains("SBR", StringComparison.Ordinal) || line.Contains("Unhandled", StringComparison.Ordinal)) Log(output, line.Trim());
        };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) Log(output, "err " + line); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }

    public int Port { get; }

    public string Address => $"akka.tcp://actors@127.0.0.1:{Port}";

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public bool Listening => _listening;

    /// <summary>The value after <c>SAMPLE {key} </c> on the first such line, if it was printed.</summary>
    public string? Value(string key) =>
        _sampleLines.FirstOrDefault(l => l.StartsWith($"SAMPLE {key} ", StringComparison.Ordinal))?[($"SAMPLE {key} ").Length..];

    /// <summary>Every <c>SAMPLE {key} …</c> line's value.</summary>
    public IEnumerable<string> Values(string key) =>
        _sampleLines.Where(l => l.StartsWith($"SAMPLE {key} ", StringComparison.Ordinal)).Select(l => l[($"SAMPLE {key} ").Length..]);

    public long? Time(string key) => Value(key) is { } v ? long.Parse(v, CultureInfo.InvariantCulture) : null;

    public void Kill() => _process.Kill(entireProcessTree: true);

    public void Terminate() => Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>The complete lines of a file sample processes append to, split at spaces (a line still being written is skipped).</summary>
    public static IEnumerable<string[]> ReadLines(string path)
    {
        if (!File.Exists(path)) return [];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var text = new StreamReader(stream).ReadToEnd();
        var end = text.LastIndexOf('\n');
        return end < 0 ? [] : text[..end].Split('\n').Select(l => l.Split(' ')).Where(p => p.Length >= 3).ToList();
    }

    private void Log(ITestOutputHelper output, string line)
    {
        try
        {
            output.WriteLine($"[{Name}] {line}");
        }
        catch (InvalidOperationException)
        {
            // The test has finished; nobody reads its output any more.
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}

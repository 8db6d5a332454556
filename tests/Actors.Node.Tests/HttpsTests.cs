using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Authentication;
using System.Text;
using System.Text.Json.Nodes;
using Actors.Core.Tests;
using Actors.Http.Security;
using Microsoft.Extensions.Configuration;
using Xunit.Abstractions;

namespace Actors.Node.Tests;

/// <summary>The node process serving HTTPS from a Kestrel endpoint in configuration, with a self-signed certificate.</summary>
public sealed class HttpsTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "actors-node-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>A client that trusts exactly <paramref name="certificate"/>, whoever issued it.</summary>
    private static HttpClient TrustingOnly(TestCertificate certificate) => new(new HttpClientHandler
    {
        ServerCertificateCustomValidationCallback = (_, presented, _, _) => string.Equals(presented?.Thumbprint, certificate.Thumbprint, StringComparison.OrdinalIgnoreCase),
    }) { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task The_node_serves_HTTPS_from_a_Kestrel_endpoint_in_configuration_and_not_plain_HTTP_on_that_port()
    {
        var certificate = TestCertificate.Create(_directory, "node-https");
        var port = NodeProcess.FreePort();
        var url = $"https://127.0.0.1:{port}";
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        foreach (var arg in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "Actors.Node.dll"),
            $"--Kestrel:Endpoints:Https:Url={url}",
            $"--Kestrel:Endpoints:Https:Certificate:Path={certificate.Path}",
            $"--Kestrel:Endpoints:Https:Certificate:Password={certificate.Password}",
            $"--Actors:DataDirectory={Path.Combine(_directory, "data")}",
            "--Actors:DrainTimeout=00:00:02",
        }) start.ArgumentList.Add(arg);
        var lines = new ConcurrentQueue<string>();
        using var node = Process.Start(start)!;
        node.OutputDataReceived += (_, e) => { if (e.Data is { } line) { lines.Enqueue(line); output.WriteLine($"[node] {line}"); } };
        node.ErrorDataReceived += (_, e) => { if (e.Data is { } line) output.WriteLine($"[node err] {line}"); };
        node.BeginOutputReadLine();
        node.BeginErrorReadLine();
        try
        {
            using var https = TrustingOnly(certificate);
            await Poll.Until(async () =>
            {
                Assert.False(node.HasExited, "the node exited during startup");
                try { return (await https.GetAsync($"{url}/health/ready")).IsSuccessStatusCode; }
                catch (HttpRequestException) { return false; } // not listening yet
            }, "the node to answer over HTTPS", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200));

            // A message goes in and comes back out over TLS.
            var posted = await https.PostAsync($"{url}/queues/default/messages", new StringContent("""{"type":"noop","payload":{"n":1}}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
            var id = JsonNode.Parse(await posted.Content.ReadAsStringAsync())!["id"]!.GetValue<long>();
            Assert.Equal(HttpStatusCode.OK, (await https.GetAsync($"{url}/queues/default/messages/{id}")).StatusCode);

            // The ready line names the HTTPS endpoint.
            await Poll.Until(() => lines.Any(l => l.Contains("Actors node ready", StringComparison.Ordinal)), "the ready log line", TimeSpan.FromSeconds(30));
            Assert.Contains(url, lines.Single(l => l.Contains("Actors node ready", StringComparison.Ordinal)), StringComparison.Ordinal);

            // Plain HTTP to the same port gets no answer, and a client that does not trust the certificate gets no connection.
            using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetAsync($"http://127.0.0.1:{port}/health/ready"));
            var untrusted = await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetAsync($"{url}/health/ready"));
            Assert.IsType<AuthenticationException>(untrusted.InnerException);
        }
        finally
        {
            if (!node.HasExited) node.Kill(entireProcessTree: true);
            await node.WaitForExitAsync();
        }
    }

    [Theory]
    [InlineData("Kestrel:Endpoints:Https:Url", "https://0.0.0.0:5443", false)]
    [InlineData("Kestrel:Endpoints:Https:Url", "https://[::]:5443", false)]
    [InlineData("Kestrel:Endpoints:Https:Url", "https://localhost:5443", true)]
    [InlineData("ASPNETCORE_URLS", "https://+:5443", false)]
    [InlineData("https_ports", "5443", false)]
    public void HTTPS_endpoints_count_as_exposure_like_plain_ones(string key, string value, bool loopback)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
        var refusal = Exposure.Refusal(new ActorsAuthOptions(), configuration);
        if (loopback) Assert.Null(refusal);
        else Assert.Contains("Refusing to start", refusal, StringComparison.Ordinal);
    }
}

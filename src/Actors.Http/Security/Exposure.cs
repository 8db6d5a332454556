using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Actors.Http.Security;

/// <summary>Thrown at startup when the node would serve anonymous requests on an address other machines can reach.</summary>
public sealed class UnsafeExposureException : Exception
{
    /// <summary>Creates the exception.</summary>
    public UnsafeExposureException() { }

    /// <summary>Creates the exception with its message.</summary>
    public UnsafeExposureException(string message) : base(message) { }

    /// <summary>Creates the exception with its message and cause.</summary>
    public UnsafeExposureException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>Which addresses the HTTP server is configured to listen on, and whether they are all loopback.</summary>
public static class Exposure
{
    /// <summary>
    /// The URLs the server will bind, from configuration: <c>urls</c> (<c>--urls</c>, <c>ASPNETCORE_URLS</c>,
    /// a profile's <c>Urls</c>), <c>http_ports</c>/<c>https_ports</c> (every interface) and
    /// <c>Kestrel:Endpoints:*:Url</c>. None configured: Kestrel's default, <c>http://localhost:5000</c>.
    /// </summary>
    public static IReadOnlyList<string> ConfiguredUrls(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var urls = new List<string>();
        foreach (var key in new[] { "urls", "ASPNETCORE_URLS", "DOTNET_URLS" })
            if (configuration[key] is { Length: > 0 } list) urls.AddRange(list.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        foreach (var (key, scheme) in new[] { ("http_ports", "http"), ("https_ports", "https"), ("ASPNETCORE_HTTP_PORTS", "http"), ("ASPNETCORE_HTTPS_PORTS", "https") })
            if (configuration[key] is { Length: > 0 } ports)
                urls.AddRange(ports.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => $"{scheme}://*:{p}"));
        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
            if (endpoint["Url"] is { Length: > 0 } url) urls.Add(url);
        return urls.Count == 0 ? ["http://localhost:5000"] : urls;
    }

    /// <summary>True when the URL's host is <c>localhost</c>, in 127.0.0.0/8, or <c>::1</c>; false for <c>*</c>, <c>+</c>, <c>0.0.0.0</c>, <c>[::]</c> and any other name or address.</summary>
    public static bool IsLoopback(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var rest = url.Contains("://", StringComparison.Ordinal) ? url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..] : url;
        if (rest.StartsWith("unix:", StringComparison.OrdinalIgnoreCase) || rest.StartsWith("pipe:", StringComparison.OrdinalIgnoreCase)) return true;
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash < 0 ? rest : rest[..slash];
        string host;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            host = close < 0 ? authority : authority[1..close];
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
        }
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
    }

    /// <summary>The startup refusal's message, or null when the configuration is safe.</summary>
    public static string? Refusal(ActorsAuthOptions options, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.HasCredentials || options.AllowAnonymous) return null;
        var exposed = ConfiguredUrls(configuration).Where(u => !IsLoopback(u)).ToArray();
        if (exposed.Length == 0) return null;
        return $"Refusing to start: the HTTP API would listen on {string.Join(", ", exposed)} with no API key configured, so anyone who can reach it could use it. "
            + "Create a key with `Actors.Node keygen ops admin` (or `dotnet run --project src/Actors.Node -- keygen ops admin`) and set its hash as "
            + "Actors:Auth:Keys:ops:Hash (environment: Actors__Auth__Keys__ops__Hash=<hash>, Actors__Auth__Keys__ops__Permissions__0=admin); "
            + "or listen on localhost only; or, behind a proxy that authenticates, set Actors:Auth:AllowAnonymous=true.";
    }
}

/// <summary>Fails the host's start, before anything listens, when <see cref="Exposure.Refusal"/> says the node would be exposed.</summary>
internal sealed class ExposureCheck(IOptions<ActorsAuthOptions> options, IConfiguration configuration) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) =>
        Exposure.Refusal(options.Value, configuration) is { } refusal ? throw new UnsafeExposureException(refusal) : Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

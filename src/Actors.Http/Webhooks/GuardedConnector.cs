using System.Net;
using System.Net.Sockets;

namespace Actors.Http.Webhooks;

/// <summary>
/// Connects a webhook's sockets itself: resolves the host, drops every address the <see cref="AddressPolicy"/>
/// refuses and connects to a checked address, so the address checked is the address used (a DNS answer that changes
/// between a check and the connect, "DNS rebinding", cannot slip a private address in).
/// </summary>
internal static class GuardedConnector
{
    /// <summary>
    /// The primary handler of a webhook type's <see cref="HttpClient"/>: no redirects, no proxy (a proxy would make
    /// the connection the proxy's, unchecked), no cookies, no automatic decompression, the guarded connect.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(AddressPolicy policy) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectCallback = (context, cancellationToken) => ConnectAsync(policy, context.DnsEndPoint, cancellationToken),
    };

    /// <summary>Resolves <paramref name="endpoint"/>, keeps the addresses <paramref name="policy"/> permits and connects to the first that answers.</summary>
    public static async ValueTask<Stream> ConnectAsync(AddressPolicy policy, DnsEndPoint endpoint, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken).ConfigureAwait(false);
        var refusals = new List<string>();
        var permitted = new List<IPAddress>();
        foreach (var address in addresses)
        {
            if (policy.Permits(address, out var refusal)) permitted.Add(AddressPolicy.Normalize(address));
            else refusals.Add(refusal!);
        }
        if (permitted.Count == 0)
            throw new AddressRefusedException($"The webhook host '{endpoint.Host}' is refused: {(refusals.Count == 0 ? "it resolved to no address" : string.Join("; ", refusals))}.");

        SocketException? last = null;
        foreach (var address in permitted)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last!;
    }
}

/// <summary>A webhook's host resolved only to addresses its policy refuses: no retry can help.</summary>
internal sealed class AddressRefusedException : Exception
{
    public AddressRefusedException() { }

    public AddressRefusedException(string message) : base(message) { }

    public AddressRefusedException(string message, Exception innerException) : base(message, innerException) { }
}

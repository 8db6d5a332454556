using System.Net;
using System.Net.Sockets;

namespace Actors.Http.Webhooks;

/// <summary>
/// Which resolved addresses a webhook may connect to: anything public, and a restricted address (loopback,
/// private, link-local, unique-local, …) only inside one of the explicitly allowed networks. IPv4-mapped IPv6
/// addresses are judged as the IPv4 address they carry.
/// </summary>
internal sealed class AddressPolicy
{
    private static readonly (IPNetwork Network, string Name)[] Restricted =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "this-network"),
        (IPNetwork.Parse("10.0.0.0/8"), "private"),
        (IPNetwork.Parse("100.64.0.0/10"), "shared (carrier-grade NAT)"),
        (IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        (IPNetwork.Parse("169.254.0.0/16"), "link-local (cloud metadata)"),
        (IPNetwork.Parse("172.16.0.0/12"), "private"),
        (IPNetwork.Parse("192.0.0.0/24"), "IETF protocol assignments"),
        (IPNetwork.Parse("192.168.0.0/16"), "private"),
        (IPNetwork.Parse("198.18.0.0/15"), "benchmarking"),
        (IPNetwork.Parse("224.0.0.0/4"), "multicast"),
        (IPNetwork.Parse("240.0.0.0/4"), "reserved"),
        (IPNetwork.Parse("::/128"), "unspecified"),
        (IPNetwork.Parse("::1/128"), "loopback"),
        (IPNetwork.Parse("64:ff9b::/96"), "NAT64"),
        (IPNetwork.Parse("fc00::/7"), "unique-local"),
        (IPNetwork.Parse("fe80::/10"), "link-local"),
        (IPNetwork.Parse("fec0::/10"), "site-local"),
        (IPNetwork.Parse("ff00::/8"), "multicast"),
    ];

    private readonly IPNetwork[] _allowed;

    public AddressPolicy(IEnumerable<IPNetwork> allowed) => _allowed = [.. allowed.Select(Normalize)];

    /// <summary>Parses CIDR strings (<c>127.0.0.0/8</c>, <c>fd00::/8</c>); a bare address is its own /32 or /128.</summary>
    public static AddressPolicy Parse(IEnumerable<string> networks, string owner)
    {
        var parsed = new List<IPNetwork>();
        foreach (var text in networks)
        {
            var candidate = text.Trim();
            if (IPAddress.TryParse(candidate, out var single)) candidate += single.AddressFamily == AddressFamily.InterNetwork ? "/32" : "/128";
            var slash = candidate.IndexOf('/', StringComparison.Ordinal);
            if (!IPNetwork.TryParse(candidate, out var network) || slash < 0
                || !IPAddress.TryParse(candidate.AsSpan(0, slash), out var written) || !written.Equals(network.BaseAddress))
                throw new ArgumentException($"{owner}: AllowedNetworks entry '{text}' is not a CIDR network such as 127.0.0.0/8 or fd00::/8 (the host bits must be zero).");
            parsed.Add(network);
        }
        return new AddressPolicy(parsed);
    }

    /// <summary>The range a restricted address is in (<c>loopback</c>, <c>private</c>, …), or null for a public address.</summary>
    public static string? RestrictedRange(IPAddress address)
    {
        address = Normalize(address);
        foreach (var (network, name) in Restricted)
            if (network.Contains(address)) return name;
        return null;
    }

    /// <summary>True when a connection to <paramref name="address"/> is allowed; otherwise why not.</summary>
    public bool Permits(IPAddress address, out string? refusal)
    {
        address = Normalize(address);
        var range = RestrictedRange(address);
        if (range is null || _allowed.Any(n => n.Contains(address)))
        {
            refusal = null;
            return true;
        }
        refusal = $"{address} is a {range} address, outside the webhook's AllowedNetworks";
        return false;
    }

    /// <summary>An IPv4-mapped IPv6 address (<c>::ffff:127.0.0.1</c>) as the IPv4 address it carries.</summary>
    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static IPNetwork Normalize(IPNetwork network) =>
        network.BaseAddress.IsIPv4MappedToIPv6 && network.PrefixLength >= 96
            ? new IPNetwork(network.BaseAddress.MapToIPv4(), network.PrefixLength - 96)
            : network;
}

namespace Actors.Http.Webhooks;

/// <summary>
/// The URL prefixes a per-message webhook URL must fall under: same scheme, host and port, and a path under the
/// prefix's path at a segment boundary (<c>https://hooks.example.com/in</c> admits <c>/in</c> and <c>/in/x</c>, not
/// <c>/inbox</c>; a host never matches a longer host such as <c>hooks.example.com.evil.net</c>).
/// </summary>
internal sealed class UrlPrefixes
{
    private readonly Uri[] _prefixes;

    private UrlPrefixes(Uri[] prefixes) => _prefixes = prefixes;

    /// <summary>Parses absolute http(s) prefixes; throws <see cref="ArgumentException"/> naming the bad entry.</summary>
    public static UrlPrefixes Parse(IEnumerable<string> prefixes, string owner)
    {
        var parsed = new List<Uri>();
        foreach (var text in prefixes)
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
                || !string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
                throw new ArgumentException($"{owner}: AllowedUrlPrefixes entry '{text}' is not an absolute http(s) URL without user info, query or fragment.");
            parsed.Add(uri);
        }
        return new UrlPrefixes([.. parsed]);
    }

    /// <summary>True when no prefix is configured.</summary>
    public bool IsEmpty => _prefixes.Length == 0;

    /// <summary>True when <paramref name="url"/> falls under one of the prefixes.</summary>
    public bool Admits(Uri url) => _prefixes.Any(prefix => Admits(prefix, url));

    private static bool Admits(Uri prefix, Uri url)
    {
        if (!string.IsNullOrEmpty(url.UserInfo)) return false;
        if (!string.Equals(prefix.Scheme, url.Scheme, StringComparison.OrdinalIgnoreCase)) return false;
        if (!string.Equals(prefix.IdnHost, url.IdnHost, StringComparison.OrdinalIgnoreCase)) return false;
        if (prefix.Port != url.Port) return false;
        var root = prefix.AbsolutePath;
        var path = url.AbsolutePath;
        if (root.EndsWith('/')) return path.StartsWith(root, StringComparison.Ordinal);
        return path == root || path.StartsWith(root + "/", StringComparison.Ordinal);
    }
}

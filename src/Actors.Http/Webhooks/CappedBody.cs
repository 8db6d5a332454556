using System.Text.Json;

namespace Actors.Http.Webhooks;

/// <summary>
/// Reads a response body without trusting its length: at most <c>limit + 1</c> bytes are read. A body within the
/// limit is returned as is; a longer one becomes <c>{"truncated":true,"bytes":limit,"body":"&lt;base64 of the first
/// limit bytes&gt;"}</c> and the rest is never read.
/// </summary>
internal static class CappedBody
{
    /// <summary>Reads the body, capped at <paramref name="limit"/> bytes; null when it is empty.</summary>
    public static async Task<ReadOnlyMemory<byte>?> ReadAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        var (kept, truncated) = await ReadPrefixAsync(body, limit, cancellationToken).ConfigureAwait(false);
        if (kept.IsEmpty) return null;
        return truncated ? Truncated(kept.Span) : kept;
    }

    /// <summary>Reads at most <paramref name="limit"/> bytes of the body (and one more, to know it is longer): what was kept, and whether there was more.</summary>
    public static async Task<(ReadOnlyMemory<byte> Kept, bool Truncated)> ReadPrefixAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        var buffer = new byte[Math.Min(limit + 1, 16 * 1024)];
        var filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                if (buffer.Length == limit + 1) break;
                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, limit + 1L));
            }
            var read = await body.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (read == 0) break;
            filled += read;
        }
        return filled <= limit ? (new ReadOnlyMemory<byte>(buffer, 0, filled), false) : (new ReadOnlyMemory<byte>(buffer, 0, limit), true);
    }

    /// <summary>The stored form of a body cut at <paramref name="kept"/>.</summary>
    public static ReadOnlyMemory<byte> Truncated(ReadOnlySpan<byte> kept)
    {
        using var stream = new MemoryStream(kept.Length * 4 / 3 + 64);
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteBoolean("truncated", true);
            json.WriteNumber("bytes", kept.Length);
            json.WriteBase64String("body", kept);
            json.WriteEndObject();
        }
        return stream.ToArray();
    }
}

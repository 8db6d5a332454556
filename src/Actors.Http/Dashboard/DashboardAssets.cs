using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Actors.Http.Dashboard;

/// <summary>
/// The dashboard's scripts and styles, embedded in this assembly (the vendored htmx and uPlot files and our own
/// script and stylesheet), served from memory with an ETag; no CDN and no build step.
/// </summary>
internal static class DashboardAssets
{
    /// <summary>The URL prefix the assets are served under.</summary>
    public const string Prefix = "/dashboard/assets/";

    private static readonly FrozenDictionary<string, (byte[] Bytes, string ContentType, string ETag)> Files = Load();

    /// <summary>Serves one asset by its path under <see cref="Prefix"/>; 404 for anything else.</summary>
    public static IResult Serve(string path, HttpContext context)
    {
        if (!Files.TryGetValue(path, out var file)) return Results.NotFound();
        context.Response.Headers.CacheControl = "public, max-age=3600";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        if (context.Request.Headers.IfNoneMatch == file.ETag) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(file.Bytes, file.ContentType, entityTag: new EntityTagHeaderValue(file.ETag));
    }

    private static FrozenDictionary<string, (byte[], string, string)> Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        const string root = "dashboard/";
        var files = new Dictionary<string, (byte[], string, string)>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(root, StringComparison.Ordinal)) continue;
            var type = Path.GetExtension(name) switch
            {
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                _ => null,
            };
            if (type is null) continue;
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var bytes = buffer.ToArray();
            files[name[root.Length..]] = (bytes, type, "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] + "\"");
        }
        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

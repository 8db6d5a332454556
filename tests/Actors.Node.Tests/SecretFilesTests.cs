using System.Net;
using System.Net.Http.Headers;
using Actors.Http.Security;

namespace Actors.Node.Tests;

/// <summary>Settings from a secrets directory, one file per key, as Docker, Compose and Kubernetes mount secrets.</summary>
public sealed class SecretFilesTests : IDisposable
{
    private readonly string _secrets = Path.Combine(Path.GetTempPath(), "actors-node-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_secrets, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task An_API_key_hash_from_a_secret_file_is_the_nodes_key()
    {
        var (key, hash) = ApiKeys.Generate();
        Directory.CreateDirectory(_secrets);
        // Written as `echo hash > file` would: a trailing newline is not part of the value.
        await File.WriteAllTextAsync(Path.Combine(_secrets, "Actors__Auth__Keys__ops__Hash"), hash + "\n");
        await File.WriteAllTextAsync(Path.Combine(_secrets, "Actors__Auth__Keys__ops__Permissions__0"), "admin\n");
        await using var node = new NodeFactory(new Dictionary<string, string?> { ["secrets-directory"] = _secrets });
        using var http = node.CreateClient();

        // A key is configured, so even loopback is no longer anonymous.
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/cluster")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/cluster")).StatusCode);
    }
}

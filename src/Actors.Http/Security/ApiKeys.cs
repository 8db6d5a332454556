using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Actors.Http.Security;

/// <summary>API key secrets: generation and the hash configuration stores instead of the key.</summary>
public static class ApiKeys
{
    /// <summary>Bytes of randomness in a generated key (256 bits).</summary>
    public const int KeyBytes = 32;

    /// <summary>Lowercase hex SHA-256 of the key's UTF-8 bytes: what <see cref="ApiKeyEntry.Hash"/> holds.</summary>
    public static string Hash(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    /// <summary>A new random key (32 bytes, base64url without padding: 43 characters) and its hash.</summary>
    public static (string Key, string Hash) Generate()
    {
        var key = Base64Url(RandomNumberGenerator.GetBytes(KeyBytes));
        return (key, Hash(key));
    }

    /// <summary>True when <paramref name="hash"/> has the form of a stored hash: 64 lowercase hex digits.</summary>
    public static bool IsHash(string? hash) =>
        hash is { Length: 64 } && hash.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    /// <summary>
    /// The text of <c>Actors.Node keygen [name] [permissions...]</c>: the key (shown once), its hash, and the
    /// configuration that declares it as JSON and as environment variables.
    /// </summary>
    public static string KeygenText(string name, IReadOnlyList<string> permissions, string key, string hash)
    {
        ArgumentNullException.ThrowIfNull(permissions);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"key:  {key}");
        text.AppendLine(CultureInfo.InvariantCulture, $"hash: {hash}");
        text.AppendLine();
        text.AppendLine("Give the key to the client (Authorization: Bearer <key>, or X-Api-Key: <key>); it is not stored anywhere.");
        text.AppendLine("Configure the node with the hash, in JSON:");
        text.AppendLine();
        var list = string.Join(", ", permissions.Select(p => "\"" + p + "\""));
        text.AppendLine(CultureInfo.InvariantCulture, $"  \"Actors\": {{ \"Auth\": {{ \"Keys\": {{ \"{name}\": {{ \"Hash\": \"{hash}\", \"Permissions\": [ {list} ] }} }} }} }}");
        text.AppendLine();
        text.AppendLine("or as environment variables:");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"  Actors__Auth__Keys__{name}__Hash={hash}");
        for (var i = 0; i < permissions.Count; i++) text.AppendLine(CultureInfo.InvariantCulture, $"  Actors__Auth__Keys__{name}__Permissions__{i}={permissions[i]}");
        return text.ToString();
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Actors.Core.Tests;

/// <summary>A self-signed certificate for tests, written to a password-protected PKCS#12 file.</summary>
/// <param name="Path">The <c>.pfx</c> file.</param>
/// <param name="Password">Its password.</param>
/// <param name="Thumbprint">The certificate's SHA-1 thumbprint (upper-case hex).</param>
public sealed record TestCertificate(string Path, string Password, string Thumbprint)
{
    /// <summary>
    /// Creates a self-signed RSA certificate for <c>localhost</c> and <c>127.0.0.1</c>, usable by a server and a client
    /// (mutual TLS), valid from two days ago until <paramref name="notAfter"/> (default: a week from now), and writes
    /// it to a new file under <paramref name="directory"/>.
    /// </summary>
    public static TestCertificate Create(string directory, string subject = "actors-test", DateTimeOffset? notAfter = null)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false)); // server and client authentication
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, 0, critical: true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-2), notAfter ?? DateTimeOffset.UtcNow.AddDays(7));
        var password = Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(directory);
        var path = System.IO.Path.Combine(directory, $"{subject}-{Guid.NewGuid():N}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, password));
        return new TestCertificate(path, password, certificate.Thumbprint);
    }
}

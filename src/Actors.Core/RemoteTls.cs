using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Actors.Configuration;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;

namespace Actors;

/// <summary>
/// Turns <see cref="RemoteTlsOptions"/> into the setup Akka.Remote's DotNetty transport reads its TLS settings from.
/// The HOCON of <see cref="DurableQueues.ClusterConfig"/> only switches TLS on (<c>enable-ssl</c>); the certificate,
/// its password and the trust rule travel in this setup, so they never appear in a printed configuration.
/// </summary>
public static class RemoteTls
{
    /// <summary>
    /// The TLS setup for the actor system of a cluster node with <see cref="RemoteTlsOptions.Enabled"/>, or null when
    /// the node is standalone or runs plain TCP. Add it to the system's <see cref="Akka.Actor.Setup.ActorSystemSetup"/>
    /// (Akka.Hosting: <c>AddSetup</c>, which <c>WithDurableQueues</c> does).
    /// </summary>
    /// <exception cref="System.Security.Cryptography.CryptographicException">The file is not PKCS#12 or the password is wrong.</exception>
    public static DotNettySslSetup? Setup(QueueClusterOptions cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var tls = cluster.Tls;
        if (!cluster.Enabled || !tls.Enabled) return null;
        var certificate = X509CertificateLoader.LoadPkcs12FromFile(tls.CertificatePath!, tls.CertificatePassword);
        if (!certificate.HasPrivateKey) throw new ArgumentException($"Actors:Cluster:Tls:CertificatePath: '{tls.CertificatePath}' holds no private key.");
        var pinned = tls.TrustedThumbprintList;
        // Pinning replaces the chain check (a self-signed certificate has no authority to chain to), not the validity period.
        var validator = pinned.Count > 0 ? CertificateValidation.Combine(CertificateValidation.PinnedCertificate([.. pinned]), WithinValidityPeriod) : null;
        return new DotNettySslSetup(certificate, suppressValidation: false, tls.RequireMutualAuthentication, tls.ValidateCertificateHostname, validator);
    }

    private static bool WithinValidityPeriod(X509Certificate2? certificate, X509Chain? chain, string peer, SslPolicyErrors errors, ILoggingAdapter log)
    {
        if (certificate is null) return false;
        var now = DateTime.Now; // NotBefore and NotAfter are local times
        if (now >= certificate.NotBefore && now <= certificate.NotAfter) return true;
        log.Error("TLS: the certificate of {0} ({1}) is valid from {2:u} to {3:u} only", peer, certificate.Thumbprint, certificate.NotBefore.ToUniversalTime(), certificate.NotAfter.ToUniversalTime());
        return false;
    }

    /// <summary>
    /// The system setup for <see cref="Akka.Actor.ActorSystem.Create(string, ActorSystemSetup)"/> without
    /// Akka.Hosting: <paramref name="config"/> plus the TLS setup when <paramref name="cluster"/> asks for one.
    /// </summary>
    public static ActorSystemSetup SystemSetup(Akka.Configuration.Config config, QueueClusterOptions cluster)
    {
        var bootstrap = BootstrapSetup.Create().WithConfig(config);
        return Setup(cluster) is { } tls ? bootstrap.And(tls) : ActorSystemSetup.Create(bootstrap);
    }
}

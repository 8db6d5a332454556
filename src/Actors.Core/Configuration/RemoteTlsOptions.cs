namespace Actors.Configuration;

/// <summary>
/// TLS between cluster nodes (Akka.Remote over DotNetty). Every node presents a certificate from a PKCS#12 file and
/// checks the certificate of the node at the other end, in both directions (mutual TLS). A node without TLS, or with
/// a certificate the others do not trust, cannot join. Bind from <c>Actors:Cluster:Tls</c>; every node of a cluster
/// must agree on <see cref="Enabled"/>.
/// </summary>
/// <remarks>
/// The certificate and its password are handed to the transport as objects, never written into the HOCON
/// configuration, so neither appears where the configuration is printed.
/// </remarks>
public sealed class RemoteTlsOptions
{
    /// <summary>Whether Akka.Remote runs over TLS. Default false (plain TCP: keep port 4053 on a private network).</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// The PKCS#12 (<c>.pfx</c>/<c>.p12</c>) file holding this node's certificate and its private key. Required when
    /// <see cref="Enabled"/>. Default: none.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The password of <see cref="CertificatePath"/>; take it from a secret. Default: none (an unencrypted file).</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>
    /// Comma-separated SHA-1 thumbprints (hex, any case) of the certificates a peer may present. When set, a peer is
    /// trusted exactly when its certificate is one of these and within its validity period, whoever issued it: the
    /// way to run a cluster on self-signed certificates (one shared certificate, or one per node). Default: none, so a peer's certificate
    /// must chain to a certificate authority this machine trusts.
    /// </summary>
    public string TrustedThumbprints { get; set; } = "";

    /// <summary>
    /// Whether the connecting node must present a certificate too (mutual TLS). Default true; turn off only where
    /// a client certificate cannot be provided, since without it any client that speaks TLS may connect.
    /// </summary>
    public bool RequireMutualAuthentication { get; set; } = true;

    /// <summary>
    /// Whether the certificate a node presents must name the host it was reached at (its <c>PublicHostname</c>).
    /// Default false: nodes are usually reached by addresses certificates do not list; use
    /// <see cref="TrustedThumbprints"/> or a private certificate authority instead.
    /// </summary>
    public bool ValidateCertificateHostname { get; set; }

    /// <summary>The trusted thumbprints as a list, upper case.</summary>
    public IReadOnlyList<string> TrustedThumbprintList =>
        TrustedThumbprints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => t.Replace(":", "", StringComparison.Ordinal).ToUpperInvariant()).ToList();

    /// <summary>Throws <see cref="ArgumentException"/> when TLS is on without a readable certificate file or with a malformed thumbprint.</summary>
    public void Validate()
    {
        if (!Enabled) return;
        if (string.IsNullOrWhiteSpace(CertificatePath)) throw new ArgumentException("Actors:Cluster:Tls:CertificatePath must be set when Actors:Cluster:Tls:Enabled is true.");
        if (!File.Exists(CertificatePath)) throw new ArgumentException($"Actors:Cluster:Tls:CertificatePath: no file at '{CertificatePath}'.");
        foreach (var thumbprint in TrustedThumbprintList)
        {
            if (thumbprint.Length != 40 || !thumbprint.All(char.IsAsciiHexDigit))
                throw new ArgumentException($"Actors:Cluster:Tls:TrustedThumbprints: '{thumbprint}' is not a SHA-1 thumbprint (40 hex digits).");
        }
    }
}

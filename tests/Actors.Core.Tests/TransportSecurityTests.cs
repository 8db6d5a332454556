using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Actors.Configuration;

namespace Actors.Core.Tests;

/// <summary>The TLS options of the cluster transport, and the masking of secrets in what is logged.</summary>
public sealed class TransportSecurityTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "actors-tls-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private static DurableQueuesOptions ClusterOptions(Action<RemoteTlsOptions> tls)
    {
        var options = new DurableQueuesOptions { Journal = JournalKind.PostgreSql, ConnectionString = "Host=db;Username=actors;Password=s3cret;Database=actors" };
        options.Cluster.Enabled = true;
        options.Cluster.SeedNodes = "akka.tcp://actors@10.0.0.1:4053";
        tls(options.Cluster.Tls);
        return options;
    }

    [Fact]
    public void TLS_is_off_by_default_and_the_HOCON_only_switches_it_on_without_the_certificate_or_its_password()
    {
        var plain = ClusterOptions(_ => { });
        plain.Validate();
        Assert.False(DurableQueues.Configuration(plain).GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.Null(RemoteTls.Setup(plain.Cluster));

        var certificate = TestCertificate.Create(_directory);
        var options = ClusterOptions(tls =>
        {
            tls.Enabled = true;
            tls.CertificatePath = certificate.Path;
            tls.CertificatePassword = certificate.Password;
            tls.TrustedThumbprints = certificate.Thumbprint;
        });
        options.Validate();
        var config = DurableQueues.Configuration(options);
        Assert.True(config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.False(config.GetBoolean("akka.log-config-on-start"));
        var hocon = config.ToString(includeFallback: true);
        Assert.DoesNotContain(certificate.Password, hocon, StringComparison.Ordinal);
        Assert.DoesNotContain(certificate.Path, hocon, StringComparison.Ordinal);

        var setup = RemoteTls.Setup(options.Cluster)!;
        Assert.Equal(certificate.Thumbprint, setup.Certificate.Thumbprint);
        Assert.True(setup.Certificate.HasPrivateKey);
        Assert.True(setup.RequireMutualAuthentication);
        Assert.False(setup.SuppressValidation);
        Assert.NotNull(setup.CustomValidator);
    }

    [Fact]
    public void With_TLS_the_seed_nodes_are_akka_ssl_tcp_addresses_whichever_scheme_was_written()
    {
        var certificate = TestCertificate.Create(_directory);
        var options = ClusterOptions(tls => { tls.Enabled = true; tls.CertificatePath = certificate.Path; });
        options.Cluster.SeedNodes = "akka.tcp://actors@10.0.0.1:4053, akka.ssl.tcp://actors@10.0.0.2:4053";
        options.Validate();
        Assert.Equal(["akka.ssl.tcp://actors@10.0.0.1:4053", "akka.ssl.tcp://actors@10.0.0.2:4053"], DurableQueues.Configuration(options).GetStringList("akka.cluster.seed-nodes"));
        options.Cluster.Tls.Enabled = false;
        Assert.Equal(["akka.tcp://actors@10.0.0.1:4053", "akka.tcp://actors@10.0.0.2:4053"], options.Cluster.SeedNodeList);
        options.Cluster.SeedNodes = "tcp://actors@10.0.0.1:4053";
        Assert.Contains("akka.ssl.tcp://", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pinned_certificate_is_trusted_within_its_validity_period_and_no_other_certificate_is()
    {
        var current = TestCertificate.Create(_directory, "current");
        var expired = TestCertificate.Create(_directory, "expired", notAfter: DateTimeOffset.UtcNow.AddDays(-1));
        var other = TestCertificate.Create(_directory, "other");
        var options = ClusterOptions(tls =>
        {
            tls.Enabled = true;
            tls.CertificatePath = current.Path;
            tls.CertificatePassword = current.Password;
            tls.TrustedThumbprints = $"{current.Thumbprint},{expired.Thumbprint}";
        });
        var validate = RemoteTls.Setup(options.Cluster)!.CustomValidator!;
        bool Accepts(TestCertificate certificate)
        {
            using var presented = X509CertificateLoader.LoadPkcs12FromFile(certificate.Path, certificate.Password);
            // A self-signed certificate never chains to a trusted root: the errors a pinned peer always comes with.
            return validate(presented, null, "akka.ssl.tcp://actors@10.0.0.2:4053", SslPolicyErrors.RemoteCertificateChainErrors, Akka.Event.NoLogger.Instance);
        }
        Assert.True(Accepts(current));
        Assert.False(Accepts(expired));
        Assert.False(Accepts(other));
    }

    [Fact]
    public void Without_trusted_thumbprints_a_peer_must_chain_to_an_authority_the_machine_trusts()
    {
        var certificate = TestCertificate.Create(_directory);
        var options = ClusterOptions(tls => { tls.Enabled = true; tls.CertificatePath = certificate.Path; tls.CertificatePassword = certificate.Password; });
        var setup = RemoteTls.Setup(options.Cluster)!;
        Assert.Null(setup.CustomValidator);
        Assert.False(setup.SuppressValidation);
    }

    [Fact]
    public void TLS_without_a_certificate_file_or_with_a_malformed_thumbprint_is_refused()
    {
        Assert.Contains("CertificatePath must be set", Assert.Throws<ArgumentException>(() => ClusterOptions(tls => tls.Enabled = true).Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("no file at", Assert.Throws<ArgumentException>(() => ClusterOptions(tls => { tls.Enabled = true; tls.CertificatePath = Path.Combine(_directory, "missing.pfx"); }).Validate()).Message, StringComparison.Ordinal);
        var certificate = TestCertificate.Create(_directory);
        var bad = ClusterOptions(tls => { tls.Enabled = true; tls.CertificatePath = certificate.Path; tls.TrustedThumbprints = "not-a-thumbprint"; });
        Assert.Contains("not a SHA-1 thumbprint", Assert.Throws<ArgumentException>(bad.Validate).Message, StringComparison.Ordinal);
        // Colons as some tools print them are accepted.
        var colons = ClusterOptions(tls => { tls.Enabled = true; tls.CertificatePath = certificate.Path; tls.TrustedThumbprints = string.Join(":", certificate.Thumbprint.Chunk(2).Select(c => new string(c))); });
        colons.Validate();
        Assert.Equal([certificate.Thumbprint], colons.Cluster.Tls.TrustedThumbprintList);
    }

    [Fact]
    public void A_wrong_certificate_password_fails_at_start()
    {
        var certificate = TestCertificate.Create(_directory);
        var options = ClusterOptions(tls => { tls.Enabled = true; tls.CertificatePath = certificate.Path; tls.CertificatePassword = "wrong"; });
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => RemoteTls.Setup(options.Cluster));
    }

    [Theory]
    [InlineData("Host=db;Port=5432;Username=actors;Password=s3cret;Database=actors", "Host=db;Port=5432;Username=actors;Password=***;Database=actors")]
    [InlineData("Host=db;Database=actors;Password=s3cret", "Host=db;Database=actors;Password=***")]
    [InlineData("host=db;PWD='a;b';database=x", "host=db;PWD=***;database=x")]
    [InlineData("Host=db; password = s3cret ;Database=x", "Host=db; password = ***;Database=x")]
    [InlineData("connection-string = \"Host=db;Password=s3cret\"", "connection-string = \"Host=db;Password=***\"")]
    [InlineData("ssl { certificate { path = \"/etc/actors/node.pfx\", password = \"p@ss\\\"word\" } }", "ssl { certificate { path = \"/etc/actors/node.pfx\", password = *** } }")]
    [InlineData("{ \"CertificatePassword\": \"p,w\", \"Secret\": \"hmac-key\" }", "{ \"CertificatePassword\": ***, \"Secret\": *** }")]
    [InlineData("Host=db;Username=actors;Database=actors", "Host=db;Username=actors;Database=actors")]
    [InlineData("", "")]
    public void Secrets_are_masked_and_everything_else_is_kept(string text, string expected) => Assert.Equal(expected, Secrets.Redact(text));
}

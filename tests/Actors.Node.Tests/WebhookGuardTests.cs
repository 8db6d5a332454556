using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Actors.Configuration;
using Actors.Http;
using Actors.Http.Webhooks;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Node.Tests;

/// <summary>The pure parts of the webhook guard: address ranges, URL prefixes, signatures, the body cap, the Retry-After cap.</summary>
public sealed class WebhookGuardTests
{
    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.255.0.9", "loopback")]
    [InlineData("10.1.2.3", "private")]
    [InlineData("172.16.0.1", "private")]
    [InlineData("172.31.255.255", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("169.254.169.254", "link-local (cloud metadata)")]
    [InlineData("100.64.0.1", "shared (carrier-grade NAT)")]
    [InlineData("0.0.0.0", "this-network")]
    [InlineData("::1", "loopback")]
    [InlineData("::", "unspecified")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("fd12:3456::1", "unique-local")]
    [InlineData("fc00::1", "unique-local")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("::ffff:169.254.169.254", "link-local (cloud metadata)")]
    [InlineData("::ffff:10.0.0.1", "private")]
    public void Restricted_addresses_are_classified(string address, string range) =>
        Assert.Equal(range, AddressPolicy.RestrictedRange(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("172.15.255.255")]
    [InlineData("192.169.0.1")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    public void Public_addresses_are_not_restricted(string address)
    {
        Assert.Null(AddressPolicy.RestrictedRange(IPAddress.Parse(address)));
        Assert.True(new AddressPolicy([]).Permits(IPAddress.Parse(address), out _));
    }

    [Fact]
    public void An_allowed_network_admits_only_its_own_restricted_addresses()
    {
        var policy = AddressPolicy.Parse(["127.0.0.0/8", "fd00::/8"], "test");
        Assert.True(policy.Permits(IPAddress.Parse("127.0.0.1"), out _));
        Assert.True(policy.Permits(IPAddress.Parse("::ffff:127.0.0.1"), out _));
        Assert.True(policy.Permits(IPAddress.Parse("fd00::5"), out _));
        Assert.False(policy.Permits(IPAddress.Parse("::1"), out var loopback6));
        Assert.Contains("::1 is a loopback address", loopback6, StringComparison.Ordinal);
        Assert.False(policy.Permits(IPAddress.Parse("169.254.169.254"), out var metadata));
        Assert.Contains("169.254.169.254 is a link-local", metadata, StringComparison.Ordinal);
        Assert.False(policy.Permits(IPAddress.Parse("10.0.0.1"), out _));
    }

    [Fact]
    public void A_single_address_is_its_own_network_and_a_bad_network_is_named()
    {
        Assert.True(AddressPolicy.Parse(["10.0.0.7"], "test").Permits(IPAddress.Parse("10.0.0.7"), out _));
        Assert.False(AddressPolicy.Parse(["10.0.0.7"], "test").Permits(IPAddress.Parse("10.0.0.8"), out _));
        var error = Assert.Throws<ArgumentException>(() => AddressPolicy.Parse(["127.0.0.1/8"], "Webhook 'x'"));
        Assert.Contains("'127.0.0.1/8'", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => AddressPolicy.Parse(["localhost"], "Webhook 'x'"));
    }

    [Fact]
    public async Task The_connector_refuses_a_host_name_that_resolves_to_loopback()
    {
        var error = await Assert.ThrowsAsync<AddressRefusedException>(() =>
            GuardedConnector.ConnectAsync(new AddressPolicy([]), new DnsEndPoint("localhost", 9), CancellationToken.None).AsTask());
        Assert.Contains("'localhost' is refused", error.Message, StringComparison.Ordinal);
        Assert.Contains("loopback", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://hooks.example.com/in", "https://hooks.example.com/in", true)]
    [InlineData("https://hooks.example.com/in", "https://HOOKS.example.com/in/orders?x=1", true)]
    [InlineData("https://hooks.example.com/in", "https://hooks.example.com/inbox", false)]
    [InlineData("https://hooks.example.com/in/", "https://hooks.example.com/in/a", true)]
    [InlineData("https://hooks.example.com/", "https://hooks.example.com/anything", true)]
    [InlineData("https://hooks.example.com/", "https://hooks.example.com.evil.net/", false)]
    [InlineData("https://hooks.example.com/", "https://hooks.example.com@evil.net/", false)]
    [InlineData("https://hooks.example.com/", "https://user@hooks.example.com/", false)]
    [InlineData("https://hooks.example.com/", "http://hooks.example.com/", false)]
    [InlineData("https://hooks.example.com/", "https://hooks.example.com:8443/", false)]
    [InlineData("https://hooks.example.com/in", "https://hooks.example.com/in/../admin", false)]
    public void Per_message_URLs_must_fall_under_a_prefix(string prefix, string url, bool admitted) =>
        Assert.Equal(admitted, UrlPrefixes.Parse([prefix], "test").Admits(new Uri(url)));

    [Fact]
    public void A_prefix_must_be_an_absolute_http_URL() =>
        Assert.Throws<ArgumentException>(() => UrlPrefixes.Parse(["hooks.example.com"], "Webhook 'x'"));

    [Fact]
    public void The_signature_is_hex_HMAC_SHA256_of_timestamp_dot_body()
    {
        var body = Encoding.UTF8.GetBytes("{\"x\":1}");
        var expected = "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes("whsec_0123456789abcdef"), Encoding.UTF8.GetBytes("1700000000.{\"x\":1}")));
        Assert.Equal(expected, WebhookSignature.Compute("whsec_0123456789abcdef", 1700000000, body));
    }

    [Fact]
    public void Verification_rejects_a_changed_body_a_wrong_secret_and_an_old_timestamp()
    {
        var body = Encoding.UTF8.GetBytes("{\"x\":1}");
        var now = DateTimeOffset.FromUnixTimeSeconds(1700000000);
        var signature = WebhookSignature.Compute("whsec_0123456789abcdef", 1700000000, body);
        var window = TimeSpan.FromMinutes(5);
        Assert.True(WebhookSignature.Verify("whsec_0123456789abcdef", "1700000000", signature, body, now, window));
        Assert.False(WebhookSignature.Verify("whsec_0123456789abcdef", "1700000000", signature, Encoding.UTF8.GetBytes("{\"x\":2}"), now, window));
        Assert.False(WebhookSignature.Verify("whsec_another_secret_", "1700000000", signature, body, now, window));
        Assert.False(WebhookSignature.Verify("whsec_0123456789abcdef", "1700000000", signature, body, now.AddMinutes(6), window));
        Assert.False(WebhookSignature.Verify("whsec_0123456789abcdef", null, signature, body, now, window));
    }

    [Fact]
    public async Task A_body_within_the_cap_is_kept_as_is_and_an_empty_one_is_no_result()
    {
        var kept = await CappedBody.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes("{\"ok\":true}")), 1024, CancellationToken.None);
        Assert.Equal("{\"ok\":true}", Encoding.UTF8.GetString(kept!.Value.Span));
        Assert.Null(await CappedBody.ReadAsync(new MemoryStream(), 1024, CancellationToken.None));
        var exact = await CappedBody.ReadAsync(new MemoryStream(new byte[1024]), 1024, CancellationToken.None);
        Assert.Equal(1024, exact!.Value.Length);
    }

    [Fact]
    public async Task A_longer_body_is_cut_flagged_and_read_no_further_than_the_cap()
    {
        var endless = new EndlessStream();
        var stored = await CappedBody.ReadAsync(endless, 1024, CancellationToken.None);
        var json = JsonNode.Parse(stored!.Value.Span)!.AsObject();
        Assert.True(json["truncated"]!.GetValue<bool>());
        Assert.Equal(1024, json["bytes"]!.GetValue<int>());
        Assert.Equal(1024, Convert.FromBase64String(json["body"]!.GetValue<string>()).Length);
        Assert.Equal(1025, endless.BytesRead);
    }

    [Fact]
    public void Retry_After_is_capped_and_defaults_to_one_second()
    {
        var cap = TimeSpan.FromMinutes(5);
        Assert.Equal(cap, WebhookHandler.RetryAfter(new RetryConditionHeaderValue(TimeSpan.FromHours(10)), cap));
        Assert.Equal(TimeSpan.FromSeconds(30), WebhookHandler.RetryAfter(new RetryConditionHeaderValue(TimeSpan.FromSeconds(30)), cap));
        Assert.Equal(TimeSpan.FromSeconds(1), WebhookHandler.RetryAfter(null, cap));
        Assert.Equal(TimeSpan.Zero, WebhookHandler.RetryAfter(new RetryConditionHeaderValue(DateTimeOffset.UtcNow.AddHours(-1)), cap));
        Assert.Equal(cap, WebhookHandler.RetryAfter(new RetryConditionHeaderValue(DateTimeOffset.UtcNow.AddDays(1)), cap));
    }

    [Theory]
    [InlineData("AllowUrlPerMessage needs AllowedUrlPrefixes", null, true, null, null, 65536)]
    [InlineData("AllowedNetworks entry 'internal'", "https://hooks.example.com/", false, "internal", null, 65536)]
    [InlineData("Secret must be at least 16 characters", "https://hooks.example.com/", false, null, "short", 65536)]
    [InlineData("MaxResponseBytes must be 1024", "https://hooks.example.com/", false, null, null, 10)]
    public void A_webhook_type_with_an_unsafe_or_invalid_option_stops_the_start(string error, string? url, bool perMessage, string? network, string? secret, int maxResponseBytes)
    {
        var options = new WebhookOptions { Url = url, AllowUrlPerMessage = perMessage, Secret = secret, MaxResponseBytes = maxResponseBytes };
        if (network is not null) options.AllowedNetworks.Add(network);
        var thrown = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddWebhooks(new DurableQueuesOptions(), new Dictionary<string, WebhookOptions> { ["hook"] = options }));
        Assert.Contains("Webhook 'hook'", thrown.Message, StringComparison.Ordinal);
        Assert.Contains(error, thrown.Message, StringComparison.Ordinal);
    }

    /// <summary>A stream that never ends and counts what was read from it.</summary>
    private sealed class EndlessStream : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            Array.Fill(buffer, (byte)'y', offset, count);
            BytesRead += count;
            return count;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

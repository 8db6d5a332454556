using Actors.Core.Tests;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Actors.Http.Security;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Actors.Node.Tests;

/// <summary>A node with API keys (one per permission), JWT with a locally signed token, and an audit log to read.</summary>
public sealed class AuthNode : IAsyncLifetime
{
    public const string JwtIssuer = "actors-tests";
    public const string JwtAudience = "actors-api";
    public static readonly SymmetricSecurityKey JwtKey = new(RandomNumberGenerator.GetBytes(32));

    /// <summary>Key secret by credential name; the node is configured with their hashes only.</summary>
    public static readonly IReadOnlyDictionary<string, (string Key, string[] Permissions)> Keys = new Dictionary<string, (string, string[])>
    {
        ["produce"] = (ApiKeys.Generate().Key, ["produce:q"]),
        ["read"] = (ApiKeys.Generate().Key, ["read:q"]),
        ["manage"] = (ApiKeys.Generate().Key, ["manage:q"]),
        ["reader"] = (ApiKeys.Generate().Key, ["read:*"]),
        ["admin"] = (ApiKeys.Generate().Key, ["admin"]),
        ["other"] = (ApiKeys.Generate().Key, ["produce:other", "read:other", "manage:other", "read:q.*"]),
        ["operator"] = (ApiKeys.Generate().Key, ["read:q", "manage:q"]),
    };

    private readonly NodeFactory _node = new(Settings());
    public WebApplicationFactory<Program> Factory { get; private set; } = null!;
    public ConcurrentQueue<(EventId Id, string Message, IReadOnlyList<KeyValuePair<string, object?>> State)> Log { get; } = new();

    private static Dictionary<string, string?> Settings()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Actors:Queues:q:Workers"] = "1",
            ["Actors:Queues:other:Workers"] = "1",
            ["Actors:Auth:Jwt:Audience"] = JwtAudience,
            // A webhook nobody listens on: its attempts fail with an exception, which a message's errors keep with its stack trace.
            ["Actors:Webhooks:boom:Url"] = "http://127.0.0.1:9/",
            ["Actors:Webhooks:boom:Timeout"] = "00:00:02",
        };
        foreach (var (name, (key, permissions)) in Keys)
        {
            settings[$"Actors:Auth:Keys:{name}:Hash"] = ApiKeys.Hash(key);
            for (var i = 0; i < permissions.Length; i++) settings[$"Actors:Auth:Keys:{name}:Permissions:{i}"] = permissions[i];
        }
        return settings;
    }

    public Task InitializeAsync()
    {
        Factory = _node.WithWebHostBuilder(web =>
        {
            web.ConfigureTestServices(services => services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, jwt =>
            {
                jwt.TokenValidationParameters.ValidIssuer = JwtIssuer;
                jwt.TokenValidationParameters.IssuerSigningKey = JwtKey;
            }));
            web.ConfigureLogging(logging => logging.AddProvider(new CollectingProvider(Log)));
        });
        Factory.CreateClient().Dispose();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    public static string Token(SecurityKey key, params (string Type, object Value)[] claims) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = JwtIssuer,
        Audience = JwtAudience,
        Expires = DateTime.UtcNow.AddMinutes(5),
        Claims = claims.ToDictionary(c => c.Type, c => c.Value),
        SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
    });

    /// <summary>A client sending <paramref name="credential"/>: a key name, <c>anonymous</c>, <c>bad-key</c>, <c>bad-jwt</c>, <c>jwt-read</c>, <c>jwt-manage</c>.</summary>
    public HttpClient Client(string credential)
    {
        var http = Factory.CreateClient();
        var auth = credential switch
        {
            "anonymous" => null,
            "bad-key" => ApiKeys.Generate().Key,
            "bad-jwt" => Token(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)), ("sub", "intruder"), ("permissions", new[] { "admin" })),
            "jwt-read" => Token(JwtKey, ("sub", "ci-reader"), ("scope", "openid read:q")),
            "jwt-manage" => Token(JwtKey, ("sub", "ci-operator"), ("permissions", new[] { "manage:q", "not-a-permission" })),
            _ => Keys[credential].Key,
        };
        if (auth is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", auth);
        return http;
    }

    private sealed class CollectingProvider(ConcurrentQueue<(EventId, string, IReadOnlyList<KeyValuePair<string, object?>>)> log) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => categoryName == Audit.Category ? new Collector(log) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        public void Dispose() { }
    }

    private sealed class Collector(ConcurrentQueue<(EventId, string, IReadOnlyList<KeyValuePair<string, object?>>)> log) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            log.Enqueue((eventId, formatter(state, exception), state as IReadOnlyList<KeyValuePair<string, object?>> ?? []));
    }
}

/// <summary>Every route × every kind of caller, with the status each must get; JWT; the audit log; the safe default.</summary>
public sealed class AuthTests(AuthNode node) : IClassFixture<AuthNode>
{
    private const string Message = """{"type":"echo","payload":1}""";
    private static readonly string TooLongPause = $$"""{"reason":"{{new string('x', 501)}}"}""";
    private const string Schedule = """{"every":"PT1H","queue":"q","type":"echo","payload":1}""";
    private const string Anyone = "anonymous bad-key bad-jwt produce read manage reader admin other jwt-read jwt-manage";
    private const string ProduceQ = "produce admin";
    private const string ReadQ = "read reader admin jwt-read";
    private const string ManageQ = "manage admin jwt-manage";
    private const string ReadAll = "reader admin";
    private const string AdminOnly = "admin";

    /// <summary>(method, path, body, who may: credential names; <c>{s}</c> is a schedule on queue q made for the case).</summary>
    public static readonly (string Method, string Path, string? Body, string Allowed)[] Routes =
    [
        ("POST", "/queues/q/messages", Message, ProduceQ),
        ("POST", "/queues/q/messages/batch", $"[{Message}]", ProduceQ),
        ("GET", "/queues/q/messages/1", null, ReadQ),
        ("DELETE", "/queues/q/messages/999999", null, ManageQ),
        ("GET", "/queues/q/messages?idempotencyKey=unknown", null, ReadQ),
        // A reason over the limit is refused after authorization (400), so the shared queue is never paused.
        ("POST", "/queues/q/pause", TooLongPause, ManageQ),
        ("POST", "/queues/q/resume", null, ManageQ),
        ("GET", "/queues", null, ReadAll),
        ("GET", "/queues/q", null, ReadQ),
        // q is configured: a declaration answers 200 and changes nothing.
        ("PUT", "/queues/q", null, ManageQ),
        // q is configured: a delete is refused (409) and changes nothing.
        ("DELETE", "/queues/q", null, ManageQ),
        ("POST", "/queues/q/purge", null, ManageQ),
        ("GET", "/queues/q/dead-letters", null, ReadQ),
        ("GET", "/queues/q/dead-letters/groups", null, ReadQ),
        ("POST", "/queues/q/dead-letters/redrive", "{}", ManageQ),
        ("GET", "/queues/q/dead-letters/redrives", null, ReadQ),
        ("GET", "/queues/q/dead-letters/redrives/0123456789ab", null, ReadQ),
        ("GET", "/dashboard/queues/q/history", null, ReadQ),
        ("DELETE", "/queues/q/dead-letters/redrives/0123456789ab", null, ManageQ),
        ("DELETE", "/queues/q/dead-letters/999999", null, ManageQ),
        ("DELETE", "/queues/q/dead-letters", null, ManageQ),
        ("GET", "/schedules", null, ReadAll),
        ("GET", "/schedules/{s}", null, ReadQ),
        ("PUT", "/schedules/{s}", Schedule, ManageQ),
        ("DELETE", "/schedules/{s}", null, ManageQ),
        ("POST", "/schedules/{s}/pause", null, ManageQ),
        ("POST", "/schedules/{s}/resume", null, ManageQ),
        ("POST", "/schedules/{s}/trigger", null, ManageQ),
        ("GET", "/cluster", null, AdminOnly),
        ("POST", "/admin/backup", null, AdminOnly),
        ("GET", "/admin/backups", null, AdminOnly),
        ("GET", "/admin/backups/actors-20260101T000000Z.db", null, AdminOnly),
        ("GET", "/metrics", null, ReadAll),
        ("GET", "/health/live", null, Anyone),
        ("GET", "/health/ready", null, Anyone),
        ("GET", "/openapi/v1.json", null, Anyone),
    ];

    public static TheoryData<string, string, string?, string, string> Cases()
    {
        var data = new TheoryData<string, string, string?, string, string>();
        foreach (var (method, path, body, allowed) in Routes)
            foreach (var credential in Anyone.Split(' '))
                data.Add(method, path, body, credential, allowed);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Route_answers_each_caller_as_its_permissions_say(string method, string path, string? body, string credential, string allowed)
    {
        if (path.Contains("{s}", StringComparison.Ordinal))
        {
            var id = "s-" + Guid.NewGuid().ToString("N")[..12];
            using var admin = node.Client("admin");
            Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync($"/schedules/{id}", new StringContent(Schedule, Encoding.UTF8, "application/json"))).StatusCode);
            path = path.Replace("{s}", id, StringComparison.Ordinal);
        }
        using var http = node.Client(credential);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);

        var text = await response.Content.ReadAsStringAsync();
        if (allowed.Split(' ').Contains(credential))
        {
            Assert.True(response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden) && (int)response.StatusCode < 500,
                $"{credential} {method} {path}: {(int)response.StatusCode} {text}");
            return;
        }
        var authenticated = credential is not ("anonymous" or "bad-key" or "bad-jwt");
        var (status, slug) = authenticated ? (HttpStatusCode.Forbidden, "forbidden") : (HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.True(status == response.StatusCode, $"{credential} {method} {path}: expected {(int)status}, got {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("urn:actors:problem:" + slug, JsonNode.Parse(text)!["type"]!.GetValue<string>());
        if (!authenticated) Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
    }

    [Fact]
    public async Task Forbidden_names_the_missing_permission_and_X_Api_Key_works_like_Bearer()
    {
        using var http = node.Factory.CreateClient();
        http.DefaultRequestHeaders.Add("X-Api-Key", AuthNode.Keys["read"].Key);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/queues/q")).StatusCode);
        var refused = await http.PostAsync("/queues/q/messages", new StringContent(Message, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("produce:q", (await refused.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_shows_its_errors_stack_traces_only_to_who_may_manage_the_queue()
    {
        using var admin = node.Client("admin");
        var enqueued = await admin.PostAsync("/queues/q/messages", new StringContent("""{"type":"boom","payload":1}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, enqueued.StatusCode);
        var id = (await enqueued.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<long>();
        var path = $"/queues/q/messages/{id}";
        // Poll until the first attempt has failed (no event announces it).
        JsonObject Error(JsonObject m) => m["errors"]!.AsArray()[0]!.AsObject();
        await Poll.Until(async () => (await admin.GetFromJsonAsync<JsonObject>(path))!["errors"]!.AsArray().Count > 0, $"message {id} to have an error", TimeSpan.FromSeconds(30));

        foreach (var credential in new[] { "admin", "operator" })
        {
            using var http = node.Client(credential);
            var error = Error((await http.GetFromJsonAsync<JsonObject>(path))!);
            Assert.False(string.IsNullOrEmpty(error["stackTrace"]?.GetValue<string>()), $"{credential} holds manage:q and should see the stack trace");
        }
        foreach (var credential in new[] { "read", "reader", "jwt-read" })
        {
            using var http = node.Client(credential);
            var error = Error((await http.GetFromJsonAsync<JsonObject>(path))!);
            Assert.Null(error["stackTrace"]);
            Assert.False(string.IsNullOrEmpty(error["type"]?.GetValue<string>()));
            Assert.False(string.IsNullOrEmpty(error["message"]?.GetValue<string>()));
        }
    }

    [Fact]
    public async Task Patterns_match_a_prefix_but_not_the_bare_name()
    {
        using var other = node.Client("other");   // read:q.* — not read:q
        Assert.Equal(HttpStatusCode.Forbidden, (await other.GetAsync("/queues/q")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync("/queues/q.eu")).StatusCode);   // allowed; no such queue
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/queues/other")).StatusCode);
    }

    [Fact]
    public async Task A_schedule_write_needs_manage_on_both_its_old_and_its_new_queue()
    {
        using var admin = node.Client("admin");
        using var manage = node.Client("manage");
        // manage:q may not point a schedule at another queue...
        var toOther = await manage.PutAsync("/schedules/moved-1", new StringContent(Schedule.Replace("\"q\"", "\"other\"", StringComparison.Ordinal), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Forbidden, toOther.StatusCode);
        // ...nor take over a schedule that targets another queue.
        Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync("/schedules/theirs", new StringContent(Schedule.Replace("\"q\"", "\"other\"", StringComparison.Ordinal), Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await manage.PutAsync("/schedules/theirs", new StringContent(Schedule, Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await manage.DeleteAsync("/schedules/theirs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/schedules/theirs")).StatusCode);
    }

    [Fact]
    public async Task Manage_and_admin_actions_leave_an_audit_record_with_who_what_where_and_how_many()
    {
        using var manage = node.Client("manage");
        Assert.Equal(HttpStatusCode.OK, (await manage.PostAsync("/queues/q/dead-letters/redrive", new StringContent("{}", Encoding.UTF8, "application/json"))).StatusCode);
        using var admin = node.Client("admin");
        Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync("/schedules/audited", new StringContent(Schedule, Encoding.UTF8, "application/json"))).StatusCode);
        using var jwt = node.Client("jwt-manage");
        Assert.Equal(HttpStatusCode.OK, (await jwt.PutAsync("/schedules/audited", new StringContent(Schedule.Replace("PT1H", "PT2H", StringComparison.Ordinal), Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/cluster")).StatusCode);

        var records = node.Log.Where(e => e.Id.Name == "Audit").Select(e => e.State.ToDictionary(p => p.Key, p => p.Value)).ToArray();
        Assert.Contains(records, r => (string?)r["Principal"] == "manage" && (string?)r["Action"] == "RedriveDeadLetters" && (string?)r["Queue"] == "q" && (long?)r["Count"] == 0);
        Assert.Contains(records, r => (string?)r["Principal"] == "ci-operator" && (string?)r["Action"] == "PutSchedule" && (string?)r["Queue"] == "q" && (string?)r["Target"] == "audited" && (int?)r["Status"] == 200);
        Assert.Contains(records, r => (string?)r["Principal"] == "admin" && (string?)r["Action"] == "PutSchedule" && (string?)r["Queue"] == "q" && (int?)r["Status"] == 201);
        Assert.Contains(records, r => (string?)r["Principal"] == "admin" && (string?)r["Action"] == "ClusterStatus");
    }
}

/// <summary>The safe default, the key format and the pure permission rules.</summary>
public sealed class AuthDefaultsTests
{
    [Theory]
    [InlineData("http://localhost:5080", true)]
    [InlineData("http://127.0.0.1:5080", true)]
    [InlineData("http://127.5.6.7:80", true)]
    [InlineData("https://[::1]:443", true)]
    [InlineData("http://0.0.0.0:5080", false)]
    [InlineData("http://*:5080", false)]
    [InlineData("http://+:5080", false)]
    [InlineData("http://[::]:5080", false)]
    [InlineData("http://10.0.0.5:5080", false)]
    [InlineData("http://node-1.example.internal:5080", false)]
    public void Loopback_is_localhost_127_0_0_0_8_and_ipv6_1(string url, bool loopback) => Assert.Equal(loopback, Exposure.IsLoopback(url));

    [Theory]
    [InlineData("orders", "orders", true)]
    [InlineData("orders", "orders2", false)]
    [InlineData("billing.*", "billing.eu", true)]
    [InlineData("billing.*", "billing.eu.north", true)]
    [InlineData("billing.*", "billing", false)]
    [InlineData("billing.*", "billingx", false)]
    [InlineData("*", "anything", true)]
    [InlineData("orders", null, false)]
    [InlineData("*", null, true)]
    public void Queue_patterns_are_exact_prefix_dot_star_or_star(string pattern, string? queue, bool matches) =>
        Assert.Equal(matches, Permissions.Matches(pattern, queue));

    [Fact]
    public void Admin_implies_every_kind_and_the_others_only_themselves()
    {
        Assert.True(Permissions.Allows(["admin"], PermissionKind.Manage, "q"));
        Assert.True(Permissions.Allows(["admin"], PermissionKind.Admin, null));
        Assert.False(Permissions.Allows(["manage:*"], PermissionKind.Read, "q"));
        Assert.False(Permissions.Allows(["manage:*", "read:*", "produce:*"], PermissionKind.Admin, null));
        Assert.False(Permissions.TryParse("write:q", out _, out _, out _));
        Assert.False(Permissions.TryParse("read:bad name", out _, out _, out _));
    }

    [Fact]
    public void Keygen_prints_a_256_bit_base64url_key_and_the_lowercase_hex_SHA_256_of_its_UTF_8_bytes()
    {
        using var output = new StringWriter();
        Assert.Equal(0, KeyCommand.Run(["shop", "produce:orders", "read:orders"], output));
        var lines = output.ToString().Split('\n').Select(l => l.Trim()).ToArray();
        var key = lines.Single(l => l.StartsWith("key:", StringComparison.Ordinal))[4..].Trim();
        var hash = lines.Single(l => l.StartsWith("hash:", StringComparison.Ordinal))[5..].Trim();
        Assert.Matches("^[A-Za-z0-9_-]{43}$", key);
        Assert.Matches("^[0-9a-f]{64}$", hash);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))), hash);
        Assert.Contains($"Actors__Auth__Keys__shop__Hash={hash}", lines);
        Assert.Contains("Actors__Auth__Keys__shop__Permissions__1=read:orders", lines);
        Assert.Equal(2, KeyCommand.Run(["x", "write:orders"], TextWriter.Null));
    }

    [Fact]
    public async Task Without_keys_the_node_serves_anonymous_on_loopback_and_refuses_keys_it_was_not_given()
    {
        await using var node = new NodeFactory(new Dictionary<string, string?>());
        using var http = node.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/cluster")).StatusCode);
    }

    [Fact]
    public async Task The_node_process_refuses_to_start_on_0_0_0_0_without_keys_and_says_how_to_add_one()
    {
        var data = Path.Combine(Path.GetTempPath(), "actors-node-tests", Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Actors.Node.dll"), "--urls", "http://0.0.0.0:0", $"--Actors:DataDirectory={data}" })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(78, process.ExitCode);
        var message = await stderr;
        Assert.Contains("http://0.0.0.0:0", message, StringComparison.Ordinal);
        Assert.Contains("keygen", message, StringComparison.Ordinal);
        Assert.Contains("Actors__Auth__Keys__ops__Hash", message, StringComparison.Ordinal);
        Assert.Contains("Actors:Auth:AllowAnonymous=true", message, StringComparison.Ordinal);
        try { Directory.Delete(data, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

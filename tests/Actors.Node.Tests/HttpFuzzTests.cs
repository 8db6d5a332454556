using Actors.Core.Tests;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;

namespace Actors.Node.Tests;

/// <summary>One generated request: what the fuzz sends, printed whole when it fails.</summary>
public sealed record FuzzRequest(string Method, string Path, string? Body, string? ContentType, (string Name, string Value)[] Headers)
{
    public override string ToString()
    {
        var body = Body is null ? "" : Body.Length > 2000 ? $" body({Body.Length} chars)={Body[..2000]}…" : " body=" + Body;
        var headers = Headers.Length == 0 ? "" : " headers=" + string.Join(", ", Headers.Select(h => $"{h.Name}: {h.Value}"));
        return $"{Method} {Path} content-type={ContentType ?? "(none)"}{headers}{body}";
    }
}

/// <summary>
/// Property-based fuzzing of the HTTP API with CsCheck: generated names, bodies, headers, query strings and methods over
/// every route. No request may answer 5xx, every problem is <c>application/problem+json</c> with a <c>type</c>, the node
/// stays ready, and every message the API accepted reaches a final state.
/// </summary>
public sealed class HttpFuzzTests() : NodeHttpTest(new Dictionary<string, string?>
{
    // Whatever timing the fuzz gets accepted is due within seconds; a failing message dead-letters at once.
    ["Actors:Queues:default:MaxDelay"] = "00:00:03",
    ["Actors:Queues:default:Retry:MaxAttempts"] = "1",
    // Purges and dead-letter deletes go here, so they never remove a message the test waits for.
    ["Actors:Queues:purge:Workers"] = "1",
})
{
    private static readonly string[] FinalStatuses = ["succeeded", "dead-lettered", "discarded", "expired", "cancelled"];

    // ---- generators -------------------------------------------------------------------------------------------

    private static readonly Gen<string?> NoValue = Gen.Const((string?)null);

    private static Gen<string> Text(string alphabet, int min, int max) => Gen.Char[alphabet].Array[min, max].Select(c => new string(c));

    private const string NameChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.";

    /// <summary>
    /// Queue names and ids as they appear in a path (already escaped where a real client would escape); no <c>%00</c>,
    /// which the test host refuses before sending and Kestrel answers 400 before any endpoint.
    /// </summary>
    private static readonly Gen<string> PathName = Gen.Frequency(
        (8, Gen.Const("default")),
        (2, Text(NameChars, 1, 64)),
        (1, Text(NameChars, 65, 300)),
        (2, Gen.OneOfConst("bad%20name", "%2F", "a%2Fb", "%E2%82%AC", "%FF%FE", "%ZZ", "%", "..", ".", "q%3Fx", "%C3%A4rger", "队列", "ärger", "a+b", "~", "%F0%9F%98%80", "%ED%A0%80")),
        (1, Gen.Char['\u00a0', '\u2fff'].Array[1, 20].Select(c => Uri.EscapeDataString(new string(c)))));

    /// <summary>Path segments where a message or dead-letter id goes: numbers of every size and things that are not numbers.</summary>
    private static readonly Gen<string> IdSegment = Gen.Frequency(
        (4, Gen.Long[0, 200].Select(l => l.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.OneOfConst("-1", "0", "9223372036854775807", "9223372036854775808", "99999999999999999999", "1e3", "abc", "1.5", "%20", "0x10", "+1", "١٢")));

    /// <summary>A JSON string literal from text, with an optional lone surrogate escape or odd escapes.</summary>
    private static readonly Gen<string> JsonString = Gen.Frequency(
        (6, Text("abcxyz019 -_.:/äö€😀", 0, 12).Select(s => JsonSerializer.Serialize(s))),
        (1, Gen.OneOfConst("\"\\ud800\"", "\"a\\udc00b\"", "\"\\ud83d\\ude00\"", "\"\\u0000\"", "\"\\\\\"", "\"\\/\"", "\"\\uFFFF\"", "\"\\ud800\\ud800\"")),
        (1, Gen.Int[200, 400].Select(n => JsonSerializer.Serialize(new string('k', n)))));

    private static readonly Gen<string> JsonNumber = Gen.OneOf(
        Gen.Int.Select(i => i.ToString(CultureInfo.InvariantCulture)),
        Gen.Double.Select(d => double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : "0"),
        Gen.OneOfConst("1e400", "-1e400", "123456789012345678901234567890", "-0", "0.0000000000000000000000001", "1E+308", "4.9e-324", "9223372036854775808"));

    private static readonly Gen<string> JsonScalar = Gen.OneOf(Gen.OneOfConst("null", "true", "false"), JsonNumber, JsonString);

    private static Gen<string> JsonValue(int depth) => depth == 0
        ? JsonScalar
        : Gen.Frequency(
            (4, JsonScalar),
            (1, JsonValue(depth - 1).Array[0, 4].Select(items => "[" + string.Join(",", items) + "]")),
            (1, Gen.Select(JsonString, JsonValue(depth - 1)).Array[0, 4].Select(ps => "{" + string.Join(",", ps.Select(p => p.Item1 + ":" + p.Item2)) + "}")));

    /// <summary>Nesting past the parser's depth limit (and just under it).</summary>
    private static readonly Gen<string> DeepValue = Gen.Int[30, 300].Select(n => new string('[', n) + "1" + new string(']', n));

    private static readonly Gen<string> Payload = Gen.Frequency((8, JsonValue(3)), (1, DeepValue));

    /// <summary>A value of the wrong type for whichever field it lands in.</summary>
    private static readonly Gen<string> WrongType = Gen.OneOf(Gen.OneOfConst("null", "true", "[]", "{}", "[\"x\"]", "{\"a\":1}"), JsonNumber);

    private static string Rfc3339(DateTimeOffset t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);

    /// <summary>Delivery and expiry times: near (so a message accepted with them completes soon) or not times at all.</summary>
    private static readonly Gen<string> Time = Gen.Frequency(
        (3, Gen.Int[-3600, 2].Select(s => JsonSerializer.Serialize(Rfc3339(DateTimeOffset.UtcNow.AddSeconds(s).ToOffset(TimeSpan.FromHours(2)))))),
        (2, Gen.OneOfConst("\"2026-13-01T00:00:00Z\"", "\"yesterday\"", "\"2026-01-01\"", "\"2026-01-01T00:00:00\"", "\"0001-01-01T00:00:00+14:00\"",
            "\"9999-12-31T23:59:59-14:00\"", "\"9999-12-31T23:59:59Z\"", "\"2026-02-30T00:00:00Z\"", "\"\"", "\"2026-01-01T00:00:00+99:99\"", "\"\\ud800\"")),
        (1, WrongType));

    /// <summary>Delays and times to live: small numbers and ISO durations, and every way to get one wrong.</summary>
    private static readonly Gen<string> Duration = Gen.Frequency(
        (3, Gen.Double[-2, 2].Select(d => d.ToString("R", CultureInfo.InvariantCulture))),
        (2, Gen.OneOfConst("\"PT1S\"", "\"PT0S\"", "\"-PT1S\"", "\"P\"", "\"PT\"", "\"P1Y\"", "\"P99999999999Y\"", "\"PT1e3S\"", "\"-P\"", "\"1\"", "\"\"",
            "1e400", "1E+308", "-1E+308", "1e15", "-9223372036854775808", "\"P10675199DT2H48M5.4775808S\"", "\"-P10675199DT2H48M5.4775808S\"", "NaN")),
        (1, WrongType));

    private static readonly Gen<string> MessageType = Gen.Frequency(
        (8, Gen.OneOfConst("\"echo\"", "\"noop\"")),
        (2, JsonString),
        (1, WrongType));

    private static readonly Gen<string> IdempotencyKey = Gen.Frequency(
        (3, Gen.OneOfConst("\"k1\"", "\"k2\"", "\"k3\"")),
        (2, JsonString),
        (1, Gen.OneOfConst("\"\"", "\" \"", JsonSerializer.Serialize(new string('i', 255)), JsonSerializer.Serialize(new string('i', 256)))),
        (1, WrongType));

    private static readonly Gen<string> HeadersField = Gen.Frequency(
        (3, Gen.Select(JsonString, JsonString).Array[0, 4].Select(ps => "{" + string.Join(",", ps.Select(p => p.Item1 + ":" + p.Item2)) + "}")),
        (1, Gen.Select(JsonString, WrongType).Array[1, 3].Select(ps => "{" + string.Join(",", ps.Select(p => p.Item1 + ":" + p.Item2)) + "}")),
        (1, WrongType));

    /// <summary>A message object: each optional field present or not, each field's value right or wrong.</summary>
    private static readonly Gen<string> MessageObject =
        Gen.Select(
            Gen.Select(Gen.Frequency((9, MessageType.Select(t => (string?)t)), (1, NoValue)), Gen.Frequency((4, Payload.Select(p => (string?)p)), (1, NoValue))),
            Gen.Select(Optional(JsonString, WrongType), Optional(HeadersField), Optional(IdempotencyKey)),
            Gen.Select(Optional(Time), Optional(Duration), Optional(Time), Optional(Duration)),
            Gen.Frequency((9, NoValue), (1, Gen.Select(JsonString, JsonValue(1)).Select(p => (string?)(p.Item1 + ":" + p.Item2)))))
        .Select((core, ids, timing, extra) =>
        {
            var fields = new List<string>();
            void Add(string name, string? value)
            {
                if (value is not null) fields.Add($"\"{name}\":{value}");
            }
            Add("type", core.Item1);
            Add("payload", core.Item2);
            Add("key", ids.Item1);
            Add("headers", ids.Item2);
            Add("idempotencyKey", ids.Item3);
            Add("deliverAt", timing.Item1);
            Add("delay", timing.Item2);
            Add("expiresAt", timing.Item3);
            Add("ttl", timing.Item4);
            if (extra is not null) fields.Add(extra);
            return "{" + string.Join(",", fields) + "}";
        });

    /// <summary>A message every field of which is right, so the happy path (and completion) is exercised as often as the refusals.</summary>
    private static readonly Gen<string> ValidMessage =
        Gen.Select(Gen.OneOfConst("echo", "noop"), Gen.OneOf(JsonValue(3).Where(IsUnicode), DeepValue.Where(v => v.Length < 120)), Gen.Int[0, 7],
                Text("abcxyz019 -_.:/äö€😀", 1, 12), Gen.Int[0, 15], Gen.Double[0, 1.5])
            .Select((type, payload, fields, text, key, seconds) =>
            {
                var json = new StringBuilder($"{{\"type\":\"{type}\",\"payload\":{payload}");
                if ((fields & 1) != 0) json.Append(",\"key\":").Append(JsonSerializer.Serialize(text));
                if ((fields & 2) != 0) json.Append(",\"headers\":{\"h\":").Append(JsonSerializer.Serialize(text)).Append('}');
                if ((fields & 4) != 0) json.Append(",\"delay\":").Append(seconds.ToString("R", CultureInfo.InvariantCulture));
                if (key > 12) json.Append(",\"idempotencyKey\":\"valid-").Append(key).Append('"');
                return json.Append('}').ToString();
            });

    private static bool IsUnicode(string json) => !json.Contains("\\ud8", StringComparison.Ordinal) && !json.Contains("\\udc", StringComparison.Ordinal);

    private static Gen<string?> Optional(Gen<string> value, Gen<string>? wrong = null) =>
        Gen.Frequency((3, NoValue), (2, value.Select(v => (string?)v)), (1, (wrong ?? WrongType).Select(v => (string?)v)));

    /// <summary>Bodies that are not a message: broken JSON, the wrong shape, nothing.</summary>
    private static readonly Gen<string> BrokenBody = Gen.OneOf(
        Gen.OneOfConst("", " ", "{", "}", "[", "{\"type\":", "{\"type\":\"echo\",}", "{'type':'echo'}", "nul", "\"echo\"", "42", "null", "[]", "[[]]",
            "{\"type\":\"echo\"}{\"type\":\"echo\"}", "\ufeff{\"type\":\"echo\"}", "{\"type\":\"echo\",\"type\":\"noop\"}", "/* c */{\"type\":\"echo\"}",
            "{\"type\":\"echo\",\"payload\":NaN}", "{\"type\":\"echo\",\"payload\":Infinity}", "{\"type\":\"echo\",\"payload\":01}", "{\"\\ud800\":1,\"type\":\"echo\"}"),
        DeepValue,
        JsonValue(2),
        Gen.Byte.Array[1, 40].Select(b => Encoding.Latin1.GetString(b)));

    private static readonly Gen<string> MessageBody = Gen.Frequency((4, ValidMessage), (4, MessageObject), (1, BrokenBody));

    private static readonly Gen<string> BatchBody = Gen.Frequency(
        (5, Gen.Frequency((4, ValidMessage), (4, MessageObject), (1, BrokenBody.Where(b => b.Length > 0 && b.Trim().Length > 0 && IsJson(b))), (1, WrongType)).Array[0, 12]
            .Select(items => "[" + string.Join(",", items) + "]")),
        (1, BrokenBody),
        (1, MessageObject));

    private static bool IsJson(string text)
    {
        try
        {
            using var _ = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static readonly Gen<string> ScheduleBody = Gen.Select(
            Gen.Select(Optional(Gen.OneOfConst("\"* * * * *\"", "\"0 0 30 2 *\"", "\"*/0 * * * *\"", "\"* * * * * * *\"", "\"60 * * * *\"", "\"\"", "\"@daily\"", "\"L W * * *\"")),
                Optional(Gen.OneOfConst("\"PT1H\"", "\"PT0S\"", "\"PT0.5S\"", "\"-PT1H\"", "\"P99999999Y\"", "\"P10675199DT2H48M5.4775808S\"", "\"P\"", "\"x\""))),
            Gen.Select(Optional(Gen.OneOfConst("\"UTC\"", "\"Europe/Berlin\"", "\"Mars/Olympus\"", "\"../../etc/passwd\"", "\"\"", "\"+14:00\"")),
                Optional(Gen.Frequency((4, Gen.Const("\"default\"")), (1, JsonString))),
                Optional(MessageType)),
            Gen.Select(Optional(Payload), Optional(HeadersField), Optional(Time), Optional(Time)),
            Gen.Select(Optional(Gen.OneOfConst("true", "false")), Optional(Gen.OneOfConst("\"fireOnce\"", "\"fireAll\"", "\"skip\"", "\"1\"", "\"FIREALL\"", "\"nope\"")),
                Optional(Gen.OneOfConst("0", "-1", "100", "2147483648", "1e3", "1.5")),
                Optional(Gen.OneOfConst("\"PT24H\"", "\"-PT1H\"", "\"P99999999Y\"", "\"PT0S\"", "\"x\"")),
                Optional(Gen.OneOfConst("\"skip\"", "\"bufferOne\"", "\"allow\"", "\"2\"", "\"x\""))))
        .Select((when, target, content, policy) =>
        {
            var fields = new List<string>();
            void Add(string name, string? value)
            {
                if (value is not null) fields.Add($"\"{name}\":{value}");
            }
            Add("cron", when.Item1);
            Add("every", when.Item2);
            Add("timeZone", target.Item1);
            Add("queue", target.Item2);
            Add("type", target.Item3);
            Add("payload", content.Item1);
            Add("headers", content.Item2);
            Add("startAt", content.Item3);
            Add("endAt", content.Item4);
            Add("paused", policy.Item1);
            Add("misfire", policy.Item2);
            Add("maxCatchup", policy.Item3);
            Add("catchupWindow", policy.Item4);
            Add("overlap", policy.Item5);
            return "{" + string.Join(",", fields) + "}";
        });

    private static readonly Gen<string> QueryValue = Gen.Frequency(
        (3, Gen.OneOfConst("", "0", "1", "-1", "10", "1000", "1001", "2147483648", "99999999999999999999", "ten", "1e3", "%201", "1.5", "0x10", "%00", "١")),
        (2, Gen.OneOfConst("2026-01-01", "2026-01-01T00:00:00Z", "0001-01-01", "0001-01-01T00:00:00%2B14:00", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-14:00",
            "2026-13-45", "yesterday", "-1", "2026-01-01T00:00:00%2B99:00")),
        (1, Text("abcXYZ019-_.%~+", 0, 10)),
        (1, Gen.Char['\u00a0', '\u2fff'].Array[1, 10].Select(c => Uri.EscapeDataString(new string(c)))));

    private static readonly Gen<string> DeadLetterQuery = Gen.Select(Gen.OneOfConst("limit", "after", "since", "until", "type", "errorType", "fingerprint", "x", ""), QueryValue)
        .Array[0, 5].Select(ps => ps.Length == 0 ? "" : "?" + string.Join("&", ps.Select(p => p.Item1 + "=" + p.Item2)));

    private static readonly Gen<string?> ContentType = Gen.Frequency(
        (12, Gen.Const<string?>("application/json")),
        (4, Gen.OneOfConst<string?>("application/json; charset=utf-8", "application/JSON", "application/json; charset=latin1", "application/json; charset=utf-16",
            "application/problem+json", "application/vnd.actors+json", "text/json", "text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded",
            "application/json; charset=\"", "/", ";;", "application/", "application/json;;;", "*/*", null)));

    private static readonly Gen<(string, string)[]> ExtraHeaders = Gen.Frequency(
        (5, Gen.Const(Array.Empty<(string, string)>())),
        (2, Gen.OneOfConst("k1", "k2", "", " ", "ä", "\u0001", new string('h', 256), new string('h', 5000), "k1, k2", "😀")
            .Select(v => new[] { ("Idempotency-Key", v) })),
        (1, Gen.OneOfConst(("Idempotency-Key", "k1"), ("Idempotency-Key", "k2")).Array[2, 2]),
        (1, Gen.OneOfConst(("Content-Length", "5"), ("Transfer-Encoding", "chunked"), ("Accept", "text/html"), ("X-Api-Key", "nope"), ("Authorization", "Bearer x.y.z"),
            ("Authorization", "Basic Zm9vOmJhcg=="), ("Content-Encoding", "gzip")).Select(h => new[] { h })));

    private static readonly Gen<string> AnyMethod = Gen.OneOfConst("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS");

    /// <summary>Every route with generated parts, plus any method over any of their paths.</summary>
    private static readonly Gen<FuzzRequest> Request = Gen.Frequency(
        (10, Gen.Select(PathName, MessageBody, ContentType, ExtraHeaders).Select((q, b, c, h) => new FuzzRequest("POST", $"/queues/{q}/messages", b, c, h))),
        (5, Gen.Select(PathName, BatchBody, ContentType, ExtraHeaders).Select((q, b, c, h) => new FuzzRequest("POST", $"/queues/{q}/messages/batch", b, c, h))),
        (3, Gen.Select(PathName, IdSegment, Gen.OneOfConst("GET", "DELETE", "PUT", "POST")).Select((q, id, m) => new FuzzRequest(m, $"/queues/{q}/messages/{id}", null, null, []))),
        (1, PathName.Select(q => new FuzzRequest("GET", $"/queues/{q}", null, null, []))),
        (2, Gen.Select(PathName, DeadLetterQuery).Select((q, query) => new FuzzRequest("GET", $"/queues/{q}/dead-letters{query}", null, null, []))),
        (1, DeadLetterQuery.Select(query => new FuzzRequest("DELETE", $"/queues/purge/dead-letters{query}", null, null, []))),
        (1, IdSegment.Select(id => new FuzzRequest("DELETE", $"/queues/purge/dead-letters/{id}", null, null, []))),
        (1, PathName.Select(q => new FuzzRequest("GET", $"/queues/{q}/dead-letters/groups", null, null, []))),
        (2, Gen.Select(PathName, Gen.Frequency((2, Gen.OneOfConst("{}", "{\"ids\":[1,2]}", "{\"ids\":[-1]}", "{\"ids\":\"x\"}", "{\"since\":\"yesterday\"}",
                "{\"since\":\"0001-01-01T00:00:00+14:00\"}", "{\"until\":\"9999-12-31T23:59:59-14:00\"}", "{\"type\":1}", "{\"ids\":[99999999999999999999]}")), (1, BrokenBody)), ContentType)
            .Select((q, b, c) => new FuzzRequest("POST", $"/queues/{q}/dead-letters/redrive", b, c, []))),
        (4, Gen.Select(PathName, ScheduleBody, ContentType).Select((id, b, c) => new FuzzRequest("PUT", $"/schedules/{id}", b, c, []))),
        (2, Gen.Select(PathName, Gen.OneOfConst("\"every\":\"PT1H\"", "\"cron\":\"0 3 * * *\"", "\"cron\":\"0 0 29 2 *\",\"timeZone\":\"Europe/Berlin\""), Gen.OneOfConst("echo", "noop"), JsonValue(2).Where(IsUnicode))
            .Select((id, when, type, payload) => new FuzzRequest("PUT", $"/schedules/{id}", $"{{{when},\"queue\":\"default\",\"type\":\"{type}\",\"payload\":{payload}}}", "application/json", []))),
        (1, Gen.Select(PathName, BrokenBody).Select((id, b) => new FuzzRequest("PUT", $"/schedules/{id}", b, "application/json", []))),
        (2, Gen.Select(PathName, Gen.OneOfConst("GET /", "DELETE /", "POST /pause", "POST /resume", "POST /trigger", "GET /x"))
            .Select((id, op) => new FuzzRequest(op.Split(' ')[0], $"/schedules/{id}{op.Split(' ')[1].TrimEnd('/')}", null, null, []))),
        (2, Gen.Select(AnyMethod, Gen.OneOfConst("/queues", "/queues/{q}", "/queues/{q}/messages", "/queues/{q}/messages/batch", "/queues/{q}/messages/{id}",
                "/queues/{q}/dead-letters", "/queues/{q}/dead-letters/redrive", "/schedules", "/schedules/{q}", "/schedules/{q}/trigger", "/cluster", "/health/ready"),
                PathName, IdSegment, Gen.Frequency((2, NoValue), (1, MessageBody.Select(b => (string?)b))))
            .Select((m, template, q, id, b) => new FuzzRequest(m, template.Replace("{q}", q, StringComparison.Ordinal).Replace("{id}", id, StringComparison.Ordinal), b,
                b is null ? null : "application/json", []))));

    // ---- the property -----------------------------------------------------------------------------------------

    private readonly ConcurrentDictionary<(string Queue, long Id), string> _accepted = new();

    [Fact]
    public async Task No_request_gets_a_5xx_every_problem_has_a_type_the_node_stays_ready_and_everything_accepted_completes()
    {
        await Request.SampleAsync(SendAndCheck, iter: 500, threads: 2, print: r => r.ToString());

        using var ready = await Http.GetAsync("/health/ready");
        Assert.True(ready.StatusCode == HttpStatusCode.OK, $"/health/ready answered {(int)ready.StatusCode}: {await ready.Content.ReadAsStringAsync()}");

        Assert.NotEmpty(_accepted);   // the generators must reach the happy path, or the fuzz only tests refusals
        var deadline = DateTime.UtcNow.AddSeconds(45);
        foreach (var ((queue, id), request) in _accepted)
        {
            var status = "";
            var final = await Poll.WaitFor(async () =>
            {
                using var response = await Http.GetAsync($"/queues/{queue}/messages/{id}");
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"message {id} of '{queue}' answered {(int)response.StatusCode} {text}; accepted from: {request}");
                status = JsonNode.Parse(text)!["status"]!.GetValue<string>();
                return FinalStatuses.Contains(status);
            }, deadline - DateTime.UtcNow, TimeSpan.FromMilliseconds(25));
            Assert.True(final, $"message {id} of '{queue}' is still {status}; accepted from: {request}");
        }
    }

    /// <summary>What the fuzz found, each once a 500 or a request that never got an answer: the exact answer it must get now.</summary>
    [Theory]
    [InlineData("POST", "/queues/default/messages", """{"type":"echo","delay":"-P10675199DT2H48M5.4775808S"}""", 400, "invalid-request")]
    [InlineData("POST", "/queues/default/messages", """{"type":"echo","delay":-1e11}""", 400, "invalid-request")]
    [InlineData("POST", "/queues/default/messages", """{"type":"echo","ttl":"P10675199D"}""", 400, "invalid-request")]
    [InlineData("POST", "/queues/default/messages", """{"type":"echo","delay":"P200Y"}""", 400, "invalid-request")]
    [InlineData("PUT", "/schedules/s1", """{"every":"PT1H","queue":"default","type":"echo","headers":{"\ud800\ud800":"v"}}""", 400, "invalid-schedule")]
    [InlineData("PUT", "/schedules/s2", """{"every":"PT1H","queue":"default","type":"echo","\udc00":1}""", 400, "invalid-schedule")]
    [InlineData("PUT", "/schedules/s3", """{"every":"PT1H","queue":"default","type":"ec\ud800ho"}""", 400, "invalid-schedule")]
    [InlineData("PUT", "/schedules/s4", """{"every":"PT1H","queue":"\ud800","type":"echo"}""", 400, "invalid-schedule")]
    [InlineData("PUT", "/schedules/s5", """{"every":"PT1H","queue":"default","type":"echo","headers":{"h":"1","h":"2"}}""", 201, null)]
    public async Task A_request_the_fuzz_once_broke_gets_its_problem(string method, string path, string body, int status, string? slug)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"{(int)response.StatusCode} {text}");
        if (slug is null) return;
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("urn:actors:problem:" + slug, JsonNode.Parse(text)!["type"]!.GetValue<string>());
    }

    private async Task SendAndCheck(FuzzRequest r)
    {
        using var request = new HttpRequestMessage(new HttpMethod(r.Method), r.Path);
        if (r.Body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(r.Body));
            if (r.ContentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", r.ContentType);
        }
        foreach (var (name, value) in r.Headers)
            if (!request.Headers.TryAddWithoutValidation(name, value)) request.Content?.Headers.TryAddWithoutValidation(name, value);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        HttpResponseMessage response;
        try
        {
            response = await Http.SendAsync(request, timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new InvalidOperationException($"No answer within 30 s: {r}");
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(CancellationToken.None);
            var status = (int)response.StatusCode;
            if (status >= 500) throw new InvalidOperationException($"{status} {text}\nfor {r}");
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (status >= 400 && text.Length > 0)
            {
                if (mediaType != "application/problem+json") throw new InvalidOperationException($"{status} as {mediaType}: {text}\nfor {r}");
                if (JsonNode.Parse(text)?["type"]?.GetValueKind() != JsonValueKind.String) throw new InvalidOperationException($"{status} problem without a type: {text}\nfor {r}");
            }
            if (status is 200 or 201 or 202 && mediaType == "application/json") Track(r, JsonNode.Parse(text));
        }
    }

    /// <summary>Remembers every message id an answer names, with the request that produced it.</summary>
    private void Track(FuzzRequest r, JsonNode? body)
    {
        if (body is not JsonObject json) return;
        var segments = r.Path.Split('?')[0].Split('/');
        if (r.Method == "POST" && segments is ["", "queues", var queue, "messages"] && json["id"] is { } id)
            _accepted.TryAdd((Uri.UnescapeDataString(queue), id.GetValue<long>()), r.ToString());
        else if (r.Method == "POST" && segments is ["", "queues", var batchQueue, "messages", "batch"] && json["results"] is JsonArray results)
        {
            foreach (var result in results)
                if (result?["id"] is { } itemId) _accepted.TryAdd((Uri.UnescapeDataString(batchQueue), itemId.GetValue<long>()), r.ToString());
        }
        else if (r.Method == "POST" && segments is ["", "schedules", _, "trigger"] && json["messageId"] is { } fired && json["queue"] is { } target)
            _accepted.TryAdd((target.GetValue<string>(), fired.GetValue<long>()), r.ToString());
    }
}

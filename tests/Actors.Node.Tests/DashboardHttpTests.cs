using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Actors.Core.Tests;
using Actors.Http.Security;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Actors.Node.Tests;

/// <summary>
/// The dashboard over HTTP, without a browser: the login cookie opens dashboard paths only (never the API), pages need
/// a login, assets are served anonymously with their types, and POSTs without the dashboard's header or from another
/// origin are refused even with a manage key.
/// </summary>
public sealed class DashboardHttpTests() : NodeHttpTest(Settings())
{
    private static readonly string AdminKey = ApiKeys.Generate().Key;
    private static readonly string ProduceKey = ApiKeys.Generate().Key;

    private static Dictionary<string, string?> Settings() => new()
    {
        ["Actors:Queues:q:Workers"] = "1",
        ["Actors:Queues:paged:Workers"] = "1",
        ["Actors:Queues:scaled:Workers"] = "2",
        ["Actors:Queues:scaled:Autoscale:MaxWorkers"] = "3",
        ["Actors:Queues:scaled:Autoscale:ScaleDownAfter"] = "00:10:00",
        ["Actors:Auth:Keys:admin:Hash"] = ApiKeys.Hash(AdminKey),
        ["Actors:Auth:Keys:admin:Permissions:0"] = "admin",
        ["Actors:Auth:Keys:producer:Hash"] = ApiKeys.Hash(ProduceKey),
        ["Actors:Auth:Keys:producer:Permissions:0"] = "produce:q",
    };

    private HttpClient NoRedirects() => Node.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    private static HttpRequestMessage WithCookie(HttpMethod method, string path, string key)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Cookie", $"actors-dashboard-key={key}");
        return request;
    }

    [Fact]
    public async Task The_login_cookie_opens_dashboard_paths_only()
    {
        Assert.Equal(HttpStatusCode.OK, (await Http.SendAsync(WithCookie(HttpMethod.Get, "/dashboard", AdminKey))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Http.SendAsync(WithCookie(HttpMethod.Get, "/dashboard/queues/q", AdminKey))).StatusCode);
        // The same cookie sent to the API authenticates nothing there.
        Assert.Equal(HttpStatusCode.Unauthorized, (await Http.SendAsync(WithCookie(HttpMethod.Get, "/queues/q", AdminKey))).StatusCode);
    }

    [Fact]
    public async Task Pages_need_a_login_and_a_read_permission()
    {
        using var http = NoRedirects();
        var anonymous = await http.GetAsync("/dashboard/queues/q");
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.Equal("/dashboard/login", anonymous.Headers.Location?.OriginalString);

        var stale = await Http.SendAsync(WithCookie(HttpMethod.Get, "/dashboard/login", "not-a-key"));
        Assert.Contains("was not accepted", await stale.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var producer = await Http.SendAsync(WithCookie(HttpMethod.Get, "/dashboard/queues/q", ProduceKey));
        Assert.Equal(HttpStatusCode.Forbidden, producer.StatusCode);
        // The overview lists only what the key may read: nothing, for a producer.
        var overview = await (await Http.SendAsync(WithCookie(HttpMethod.Get, "/dashboard", ProduceKey))).Content.ReadAsStringAsync();
        Assert.DoesNotContain("data-queue=\"q\"", overview, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_sets_an_http_only_strict_cookie_scoped_to_the_dashboard()
    {
        using var http = NoRedirects();
        var response = await http.PostAsync("/dashboard/login", new FormUrlEncodedContent([new("key", AdminKey)]));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("actors-dashboard-key=", cookie, StringComparison.Ordinal);
        Assert.Contains("path=/dashboard", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);

        var crossSite = new HttpRequestMessage(HttpMethod.Post, "/dashboard/login") { Content = new FormUrlEncodedContent([new("key", AdminKey)]) };
        crossSite.Headers.Add("Origin", "https://evil.example");
        Assert.Equal(HttpStatusCode.BadRequest, (await Http.SendAsync(crossSite)).StatusCode);
    }

    [Fact]
    public async Task Posts_without_the_dashboard_header_or_from_another_origin_are_refused()
    {
        var form = () => new FormUrlEncodedContent([new("fingerprint", "f")]);
        var bare = WithCookie(HttpMethod.Post, "/dashboard/queues/q/dead-letters/purge", AdminKey);
        bare.Content = form();
        await Problem(await Http.SendAsync(bare), HttpStatusCode.Forbidden, "cross-site-request");

        var foreign = WithCookie(HttpMethod.Post, "/dashboard/queues/q/dead-letters/purge", AdminKey);
        foreign.Headers.Add("HX-Request", "true");
        foreign.Headers.Add("Origin", "https://evil.example");
        foreign.Content = form();
        await Problem(await Http.SendAsync(foreign), HttpStatusCode.Forbidden, "cross-site-request");

        var own = WithCookie(HttpMethod.Post, "/dashboard/queues/q/dead-letters/purge", AdminKey);
        own.Headers.Add("HX-Request", "true");
        own.Content = form();
        var purged = await Http.SendAsync(own);
        Assert.Equal(HttpStatusCode.OK, purged.StatusCode);
        Assert.Contains("Purged: 0", await purged.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assets_are_served_anonymously_with_their_types_and_pages_with_a_strict_policy()
    {
        foreach (var (path, type) in new[]
        {
            ("/dashboard/assets/vendor/htmx.min.js", "text/javascript"), ("/dashboard/assets/vendor/uPlot.iife.min.js", "text/javascript"),
            ("/dashboard/assets/vendor/uPlot.min.css", "text/css"), ("/dashboard/assets/dashboard.js", "text/javascript"), ("/dashboard/assets/dashboard.css", "text/css"),
        })
        {
            var response = await Http.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(response.Headers.ETag);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync("/dashboard/assets/vendor/README.md")).StatusCode);

        var page = await Http.SendAsync(WithCookie(HttpMethod.Get, "/dashboard", AdminKey));
        var policy = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.Equal(new MediaTypeHeaderValue("text/html") { CharSet = "utf-8" }, page.Content.Headers.ContentType);
    }

    [Fact]
    public async Task Dead_letters_are_keyset_paged_and_filtered_on_the_server()
    {
        using var api = Node.CreateClient();
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        for (var i = 0; i < 55; i++)
            Assert.Equal(HttpStatusCode.Accepted, (await api.PostAsync("/queues/paged/messages", Json($"{{\"type\":\"{(i < 50 ? "alpha" : "beta")}\",\"payload\":{i}}}"))).StatusCode);
        using (var probe = Node.CreateClient())
        {
            probe.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
            await Poll.Until(async () => (await probe.GetFromJsonAsync<JsonObject>("/queues/paged"))!["deadLettered"]!.GetValue<long>() == 55,
                "every message to be dead-lettered", TimeSpan.FromSeconds(30));
        }

        var first = await (await Http.SendAsync(WithCookie(HttpMethod.Get, "/dashboard/queues/paged/dead-letters", AdminKey))).Content.ReadAsStringAsync();
        Assert.Equal(50, Rows(first));
        var next = Regex.Match(first, "href=\"(/dashboard/queues/paged/dead-letters\\?after=\\d+)\"").Groups[1].Value;
        Assert.NotEmpty(next);
        var second = await (await Http.SendAsync(WithCookie(HttpMethod.Get, next, AdminKey))).Content.ReadAsStringAsync();
        Assert.Equal(5, Rows(second));
        Assert.DoesNotContain("Next page", second, StringComparison.Ordinal);

        var beta = await (await Http.SendAsync(WithCookie(HttpMethod.Get, "/dashboard/queues/paged/dead-letters?type=beta", AdminKey))).Content.ReadAsStringAsync();
        Assert.Equal(5, Rows(beta));
        Assert.Contains("value=\"beta\"", beta, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_queue_page_of_an_autoscaled_queue_shows_its_active_target_and_deployed_workers()
    {
        async Task<string> Page(string queue) =>
            await (await Http.SendAsync(WithCookie(HttpMethod.Get, $"/dashboard/queues/{queue}", AdminKey))).Content.ReadAsStringAsync();
        await Poll.Until(async () => (await Page("scaled")).Contains("<td class=\"autoscale\">2 / 2 (3)</td>", StringComparison.Ordinal),
            "two of three workers active on the page", TimeSpan.FromSeconds(30));
        Assert.DoesNotContain("Autoscale", await Page("q"), StringComparison.Ordinal);
    }

    private static int Rows(string html)
    {
        var body = html[html.IndexOf("<table class=\"dead-letters\">", StringComparison.Ordinal)..];
        body = body[..body.IndexOf("</table>", StringComparison.Ordinal)];
        return Regex.Count(body, "<tr><td>");
    }
}

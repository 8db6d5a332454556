using System.Collections.Immutable;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Actors.Client;
using Actors.Http.Dashboard;
using Actors.Http.Security;
using Microsoft.AspNetCore.Mvc.Testing;
using static Actors.Protocol.QueueQueries;

namespace Actors.Node.Tests;

/// <summary>
/// The schedules and cluster pages over HTTP, without a browser: each route answers each kind of caller as the schedules
/// API and <c>GET /cluster</c> would (read on the target queue, manage on it for the buttons, admin for the cluster),
/// manage buttons are absent without manage, and actions come only from the dashboard's own script.
/// </summary>
public sealed class DashboardSchedulesClusterHttpTests() : NodeHttpTest(Settings())
{
    private static readonly Dictionary<string, (string Key, string Permission)> Keys = new()
    {
        ["admin"] = (ApiKeys.Generate().Key, "admin"),
        ["producer"] = (ApiKeys.Generate().Key, "produce:q"),
        ["reader"] = (ApiKeys.Generate().Key, "read:q"),
        ["manager"] = (ApiKeys.Generate().Key, "manage:q"),
        ["other"] = (ApiKeys.Generate().Key, "read:other"),
    };

    private static Dictionary<string, string?> Settings()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Actors:Queues:q:Workers"] = "1",
            ["Actors:Queues:other:Workers"] = "1",
        };
        foreach (var id in new[] { "tick", "pausable", "triggered" })
        {
            settings[$"Actors:Schedules:{id}:Every"] = "PT1H";
            settings[$"Actors:Schedules:{id}:Queue"] = "q";
            settings[$"Actors:Schedules:{id}:Type"] = "echo";
            settings[$"Actors:Schedules:{id}:Payload:n"] = "1";
        }
        settings["Actors:Schedules:nightly:Cron"] = "0 2 * * *";
        settings["Actors:Schedules:nightly:TimeZone"] = "Europe/Berlin";
        settings["Actors:Schedules:nightly:Queue"] = "other";
        settings["Actors:Schedules:nightly:Type"] = "echo";
        foreach (var (name, (key, permission)) in Keys)
        {
            settings[$"Actors:Auth:Keys:{name}:Hash"] = ApiKeys.Hash(key);
            settings[$"Actors:Auth:Keys:{name}:Permissions:0"] = permission;
        }
        return settings;
    }

    /// <summary>(method, path, status by caller: anonymous, producer, reader, manager, other, admin). Actions carry the dashboard's header.</summary>
    public static readonly (string Method, string Path, int[] Status)[] Routes =
    [
        ("GET", "/dashboard/schedules", [302, 200, 200, 200, 200, 200]),
        ("GET", "/dashboard/schedules/tick", [302, 403, 200, 403, 403, 200]),
        ("GET", "/dashboard/schedules/nope", [302, 403, 403, 403, 403, 404]),
        ("POST", "/dashboard/schedules/pausable/pause", [401, 403, 403, 200, 403, 200]),
        ("POST", "/dashboard/schedules/pausable/resume", [401, 403, 403, 200, 403, 200]),
        ("POST", "/dashboard/schedules/tick/trigger", [401, 403, 403, 200, 403, 200]),
        ("GET", "/dashboard/cluster", [302, 403, 403, 403, 403, 200]),
        ("GET", "/dashboard/cluster/status", [401, 403, 403, 403, 403, 200]),
    ];

    private static readonly string[] Callers = ["anonymous", "producer", "reader", "manager", "other", "admin"];

    private HttpClient NoRedirects() => Node.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    private static HttpRequestMessage Request(HttpMethod method, string path, string? caller, bool script = true, string view = SchedulesPage.RowView)
    {
        var request = new HttpRequestMessage(method, path);
        if (caller is not null and not "anonymous") request.Headers.Add("Cookie", $"actors-dashboard-key={Keys[caller].Key}");
        if (method == HttpMethod.Post)
        {
            if (script) request.Headers.Add("HX-Request", "true");
            request.Content = new FormUrlEncodedContent([new(SchedulesPage.ViewField, view)]);
        }
        return request;
    }

    private async Task<string> PageAsync(string path, string caller)
    {
        var response = await Http.SendAsync(Request(HttpMethod.Get, path, caller));
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} as {caller}: {(int)response.StatusCode} {html}");
        return html;
    }

    [Fact]
    public async Task Each_route_answers_each_caller_as_the_api_permissions_say()
    {
        using var http = NoRedirects();
        var failures = new List<string>();
        foreach (var (method, path, statuses) in Routes)
            for (var i = 0; i < Callers.Length; i++)
            {
                using var response = await http.SendAsync(Request(new HttpMethod(method), path, Callers[i]));
                if ((int)response.StatusCode != statuses[i])
                    failures.Add($"{Callers[i]} {method} {path}: expected {statuses[i]}, got {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                if (statuses[i] == 302) Assert.Equal("/dashboard/login", response.Headers.Location?.OriginalString);
            }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public async Task The_list_shows_what_the_key_may_read_and_buttons_only_with_manage()
    {
        var admin = await PageAsync("/dashboard/schedules", "admin");
        Assert.Contains("data-schedule=\"tick\"", admin, StringComparison.Ordinal);
        Assert.Contains("data-schedule=\"nightly\"", admin, StringComparison.Ordinal);
        Assert.Contains("every PT1H", admin, StringComparison.Ordinal);
        Assert.Contains("cron 0 2 * * * (Europe/Berlin)", admin, StringComparison.Ordinal);
        Assert.Contains("hx-post=\"/dashboard/schedules/tick/trigger\"", admin, StringComparison.Ordinal);
        Assert.Contains("href=\"/dashboard/schedules\"", admin, StringComparison.Ordinal); // the nav

        var reader = await PageAsync("/dashboard/schedules", "reader");
        Assert.Contains("data-schedule=\"tick\"", reader, StringComparison.Ordinal);
        Assert.DoesNotContain("data-schedule=\"nightly\"", reader, StringComparison.Ordinal); // its queue is other
        Assert.DoesNotContain("hx-post", reader.Replace("hx-post=\"/dashboard/logout\"", "", StringComparison.Ordinal), StringComparison.Ordinal);

        var producer = await PageAsync("/dashboard/schedules", "producer");
        Assert.DoesNotContain("data-schedule=", producer, StringComparison.Ordinal);
        Assert.Contains("No schedule this key may read", producer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_detail_shows_the_next_five_fires_and_buttons_only_with_manage()
    {
        var admin = await PageAsync("/dashboard/schedules/tick", "admin");
        var next = admin[admin.IndexOf("<ol class=\"next-fires\">", StringComparison.Ordinal)..];
        Assert.Equal(5, System.Text.RegularExpressions.Regex.Count(next[..next.IndexOf("</ol>", StringComparison.Ordinal)], "<li>"));
        Assert.Contains("button type=\"submit\" class=\"pause\"", admin, StringComparison.Ordinal);
        Assert.Contains("button type=\"submit\" class=\"trigger\"", admin, StringComparison.Ordinal);
        Assert.Contains("<pre class=\"payload\">{&quot;n&quot;:1}</pre>", admin, StringComparison.Ordinal);

        var reader = await PageAsync("/dashboard/schedules/tick", "reader");
        Assert.Contains("<ol class=\"next-fires\">", reader, StringComparison.Ordinal);
        Assert.DoesNotContain("class=\"pause\"", reader, StringComparison.Ordinal);
        Assert.DoesNotContain("class=\"trigger\"", reader, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Trigger_enqueues_a_message_that_the_detail_shows_with_its_outcome_and_is_refused_without_the_script_header()
    {
        var bare = await Http.SendAsync(Request(HttpMethod.Post, "/dashboard/schedules/triggered/trigger", "admin", script: false));
        await Problem(bare, HttpStatusCode.Forbidden, "cross-site-request");
        var refused = await Http.SendAsync(Request(HttpMethod.Post, "/dashboard/schedules/triggered/trigger", "reader"));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        using var api = Node.CreateClient();
        api.DefaultRequestHeaders.Authorization = new("Bearer", Keys["admin"].Key);
        Assert.Equal(0, (await api.GetFromJsonAsync<JsonObject>("/schedules/triggered"))!["fired"]!.GetValue<long>());

        var row = await Http.SendAsync(Request(HttpMethod.Post, "/dashboard/schedules/triggered/trigger", "manager"));
        var rowHtml = await row.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, row.StatusCode);
        Assert.StartsWith("<tr data-schedule=\"triggered\">", rowHtml, StringComparison.Ordinal);
        var messageId = long.Parse(System.Text.RegularExpressions.Regex.Match(rowHtml, "Triggered: message (\\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"/dashboard/queues/q/messages/{messageId}\">#{messageId}</a>", rowHtml, StringComparison.Ordinal);
        Assert.Contains("<td class=\"fired\">1</td>", rowHtml, StringComparison.Ordinal);
        await Core.Tests.Poll.Until(async () => (await api.GetFromJsonAsync<JsonObject>($"/queues/q/messages/{messageId}"))!["status"]!.GetValue<string>() == "succeeded",
            "the triggered message to succeed", TimeSpan.FromSeconds(30));

        var detail = await Http.SendAsync(Request(HttpMethod.Post, "/dashboard/schedules/triggered/trigger", "admin", view: SchedulesPage.DetailView));
        var detailHtml = await detail.Content.ReadAsStringAsync();
        Assert.StartsWith("<div id=\"schedule-detail\">", detailHtml, StringComparison.Ordinal);
        Assert.Contains("<td class=\"outcome\">succeeded</td>", detailHtml, StringComparison.Ordinal);
        Assert.Equal(2, (await api.GetFromJsonAsync<JsonObject>("/schedules/triggered"))!["fired"]!.GetValue<long>());
    }

    [Fact]
    public async Task Pause_and_resume_answer_with_the_row_in_its_new_state()
    {
        var paused = await (await Http.SendAsync(Request(HttpMethod.Post, "/dashboard/schedules/pausable/pause", "manager"))).Content.ReadAsStringAsync();
        Assert.Contains("<td class=\"state\"><span class=\"warn\">paused</span></td>", paused, StringComparison.Ordinal);
        Assert.Contains("class=\"resume\"", paused, StringComparison.Ordinal);
        Assert.Contains("<span class=\"warn\">paused</span>", await PageAsync("/dashboard/schedules/pausable", "admin"), StringComparison.Ordinal);

        var resumed = await (await Http.SendAsync(Request(HttpMethod.Post, "/dashboard/schedules/pausable/resume", "admin"))).Content.ReadAsStringAsync();
        Assert.Contains("<td class=\"state\">active</td>", resumed, StringComparison.Ordinal);
        Assert.Contains("class=\"pause\"", resumed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_standalone_node_shows_mode_standalone_with_one_member_and_its_queues()
    {
        var html = await PageAsync("/dashboard/cluster", "admin");
        Assert.Contains("<td class=\"mode\">standalone</td>", html, StringComparison.Ordinal);
        Assert.Contains("hx-get=\"/dashboard/cluster/status\"", html, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(html, "<tr data-member="));
        Assert.Contains("<tr data-queue=\"q\"", html, StringComparison.Ordinal);
        Assert.Contains("<tr data-queue=\"other\"", html, StringComparison.Ordinal);

        var fragment = await PageAsync("/dashboard/cluster/status", "admin");
        Assert.StartsWith("<table class=\"stats cluster-summary\">", fragment, StringComparison.Ordinal);
        Assert.DoesNotContain("<html", fragment, StringComparison.Ordinal);
    }
}

/// <summary>The cluster page rendered from a status (a pure function): several members, partitions, unplaced queues.</summary>
public sealed class ClusterPageTests
{
    [Fact]
    public void A_cluster_status_renders_members_partitions_workers_and_unplaced_queues()
    {
        const string a = "akka.tcp://actors@10.0.0.1:4053", b = "akka.tcp://actors@10.0.0.2:4053", c = "akka.tcp://actors@10.0.0.3:4053";
        var status = new ClusterStatus("cluster", a, b,
            [
                new ClusterMember(a, "Up", ["api", "worker"], true),
                new ClusterMember(b, "Up", ["worker"], true),
                new ClusterMember(c, "Leaving", [], false),
            ],
            [
                new QueuePlacement("orders", a, ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [new KeyValuePair<string, int>(a, 2), new(b, 3)]),
                    ImmutableSortedDictionary.CreateRange([new KeyValuePair<int, string>(0, a), new(1, b)])),
                new QueuePlacement("mail<x>", b, ImmutableSortedDictionary<string, int>.Empty.WithComparers(StringComparer.Ordinal).Add(b, 1)),
            ],
            ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal).Add("reports", "moving between nodes"));

        var html = ClusterPage.Render(status);
        Assert.Contains("<td class=\"mode\">cluster</td>", html, StringComparison.Ordinal);
        Assert.Contains($"<td class=\"leader\">{b}</td>", html, StringComparison.Ordinal);
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Count(html, "<tr data-member="));
        // Each member: its roles, reachability, the partitions it hosts and its workers (summed over queues).
        Assert.Contains($"<tr data-member=\"{a}\"><td>{a} <span class=\"hint\">this node</span></td><td class=\"status\">Up</td><td class=\"roles\">api, worker</td><td class=\"reachable\">yes</td><td>1</td><td>2</td></tr>", html, StringComparison.Ordinal);
        Assert.Contains($"<tr data-member=\"{b}\"><td>{b} <span class=\"hint\">leader</span></td><td class=\"status\">Up</td><td class=\"roles\">worker</td><td class=\"reachable\">yes</td><td>2</td><td>4</td></tr>", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"reachable\"><span class=\"error\">no</span></td>", html, StringComparison.Ordinal);
        // One row per partition; a queue name with markup is encoded.
        Assert.Contains($"<tr data-queue=\"orders\" data-partition=\"1\"><td></td><td>1</td><td class=\"node\">{b}</td>", html, StringComparison.Ordinal);
        Assert.Contains($"<td class=\"workers\">{a}: 2, {b}: 3</td>", html, StringComparison.Ordinal);
        Assert.Contains("mail&lt;x&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("mail<x>", html, StringComparison.Ordinal);
        Assert.Contains("<tr data-queue=\"reports\"><td>reports</td><td class=\"reason\">moving between nodes</td></tr>", html, StringComparison.Ordinal);
        Assert.Contains("2 of 3", html, StringComparison.Ordinal);
    }
}

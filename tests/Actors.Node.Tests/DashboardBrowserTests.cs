using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Actors.Core.Tests;
using Microsoft.Playwright;

namespace Actors.Node.Tests;

/// <summary>
/// The dashboard in a real browser (the machine's Chromium through Playwright): every page loads without console
/// errors, the overview follows a running producer, a fingerprint group redriven from the UI ends in succeeded, and a
/// read-only key neither sees nor can use purge; the overview's sparklines and the queue page's stored history.
/// </summary>
[Collection(DashboardBrowserGroup.Name)]
public sealed class DashboardBrowserTests(DashboardFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Every_page_loads_without_console_errors()
    {
        var ids = await EnqueueAsync("locked", "nohandler", 2);
        foreach (var id in ids) await AwaitStatusAsync("locked", id, "dead-lettered");
        var (context, page, errors) = await fixture.NewPageAsync();
        await using var _ = context;

        // Not logged in: the dashboard sends the browser to the login form.
        await page.GotoAsync("/dashboard");
        Assert.EndsWith("/dashboard/login", page.Url, StringComparison.Ordinal);
        await fixture.LogInAsync(page, "admin");

        await Assertions.Expect(page.Locator("tr[data-queue=locked]")).ToBeVisibleAsync();
        await page.GotoAsync("/dashboard/queues/locked");
        await Assertions.Expect(page.Locator("#queue-stats td.dead")).ToHaveTextAsync("2");
        // The charts draw once the stream's first points arrive.
        await Assertions.Expect(page.Locator(".chart .uplot").First).ToBeVisibleAsync();
        await page.GotoAsync("/dashboard/queues/locked/dead-letters");
        await Assertions.Expect(page.Locator("table.groups td.count").First).ToHaveTextAsync("2");
        await Assertions.Expect(page.Locator("table.dead-letters tbody tr")).ToHaveCountAsync(2);

        // A dead letter's id opens the message: its status and the error of its attempt.
        await page.Locator("table.dead-letters tbody tr").First.Locator("td a").ClickAsync();
        await Assertions.Expect(page.Locator("td.status")).ToHaveTextAsync("dead-lettered");
        await Assertions.Expect(page.Locator("ol.errors li")).ToHaveCountAsync(1);

        // The queue page's lookup finds a message by id; markup in a payload is shown as text, never parsed.
        var marked = await EnqueueAsync("locked", "nohandler", 1, "{\"html\":\"<img src=x onerror=alert(1)>\"}");
        await page.GotoAsync("/dashboard/queues/locked");
        await page.FillAsync("form.lookup input[name=id]", marked[0].ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.ClickAsync("form.lookup button");
        await Assertions.Expect(page.Locator("pre.payload")).ToContainTextAsync("<img src=x onerror=alert(1)>");
        await Assertions.Expect(page.Locator("main img")).ToHaveCountAsync(0);
        lock (errors) Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));

        // An unknown queue is a page that says so, with 404 (which the browser logs as a failed load).
        var missing = await page.GotoAsync("/dashboard/queues/nope");
        Assert.Equal(404, missing!.Status);
        await Assertions.Expect(page.Locator("main .error")).ToContainTextAsync("nope");
    }

    [Fact]
    public async Task The_overview_follows_a_running_producer_and_the_queue_page_is_captured_under_load()
    {
        var (context, page, errors) = await fixture.NewPageAsync();
        await using var _ = context;
        await fixture.LogInAsync(page, "admin");
        var enqueued = page.Locator("tr[data-queue=load] td.enqueued");
        await Assertions.Expect(enqueued).ToBeVisibleAsync();
        var before = await enqueued.TextContentAsync();

        using var stop = new CancellationTokenSource();
        var producer = ProduceAsync("load", "work", stop.Token);
        try
        {
            // The rows are replaced by the stream every second: the count moves without a reload, more than once.
            string? seen = before;
            for (var change = 0; change < 2; change++)
            {
                var previous = seen;
                await Poll.Until(async () => (seen = await enqueued.TextContentAsync()) != previous, "the overview's enqueued count to change", Wait);
            }

            await page.GotoAsync("/dashboard/queues/load", new PageGotoOptions { WaitUntil = WaitUntilState.DOMContentLoaded });
            var depthPoints = page.Locator(".chart[data-chart=depth]");
            await Assertions.Expect(depthPoints.Locator(".uplot")).ToBeVisibleAsync();
            // A few seconds of points, so the screenshot shows lines rather than dots.
            var start = await page.Locator("#queue-stats td.enqueued").TextContentAsync();
            for (var change = 0; change < 5; change++)
            {
                var previous = await page.Locator("#queue-stats td.enqueued").TextContentAsync();
                await Poll.Until(async () => await page.Locator("#queue-stats td.enqueued").TextContentAsync() != previous, "the queue page's statistics to change", Wait);
            }
            Assert.NotEqual(start, await page.Locator("#queue-stats td.enqueued").TextContentAsync());
            var png = await page.ScreenshotAsync(new PageScreenshotOptions { Path = ScreenshotPath(), FullPage = true, Timeout = 60_000 });
            Assert.True(png.Length > 10_000, $"a {png.Length}-byte screenshot");
        }
        finally
        {
            await stop.CancelAsync();
            await producer;
        }
        lock (errors) Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
    }

    [Fact]
    public async Task A_group_redriven_from_the_dead_letter_page_ends_in_succeeded()
    {
        fixture.Failing = true;
        var ids = await EnqueueAsync("dash", "flip", 5);
        foreach (var id in ids) await AwaitStatusAsync("dash", id, "dead-lettered");
        fixture.Failing = false;

        var (context, page, errors) = await fixture.NewPageAsync();
        await using var _ = context;
        await fixture.LogInAsync(page, "admin");
        await page.GotoAsync("/dashboard/queues/dash/dead-letters");
        var group = page.Locator("table.groups tbody tr").First;
        await Assertions.Expect(group.Locator("td.count")).ToHaveTextAsync("5");

        string? confirm = null;
        page.Dialog += async (_, dialog) =>
        {
            confirm = dialog.Message;
            await dialog.AcceptAsync();
        };
        await group.Locator("button.redrive").ClickAsync();
        await Assertions.Expect(page.Locator("#action-result .redrive-result")).ToContainTextAsync("Redriven: 5");
        Assert.Contains("Redrive 5 dead letter(s)", confirm, StringComparison.Ordinal);
        foreach (var id in ids) await AwaitStatusAsync("dash", id, "succeeded");

        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("table.groups")).ToHaveCountAsync(0);
        lock (errors) Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
    }

    [Fact]
    public async Task A_read_only_key_sees_no_manage_actions_and_cannot_purge()
    {
        var ids = await EnqueueAsync("guarded", "nohandler", 1);
        await AwaitStatusAsync("guarded", ids[0], "dead-lettered");
        var fingerprint = (await fixture.Api.GetFromJsonAsync<JsonObject>("/queues/guarded/dead-letters/groups"))!["groups"]!.AsArray()[0]!["fingerprint"]!.GetValue<string>();

        var (context, page, errors) = await fixture.NewPageAsync();
        await using var _ = context;
        await fixture.LogInAsync(page, "reader");
        await page.GotoAsync("/dashboard/queues/guarded/dead-letters");
        await Assertions.Expect(page.Locator("table.groups tbody tr").First).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("button.purge")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("button.redrive")).ToHaveCountAsync(0);

        // The browser's own cookie, the dashboard's header: still refused by the manage policy.
        var purge = await page.APIRequest.PostAsync("/dashboard/queues/guarded/dead-letters/purge", new APIRequestContextOptions
        {
            Headers = new Dictionary<string, string> { ["HX-Request"] = "true" },
            Form = FormWith(page, fingerprint),
        });
        Assert.Equal(403, purge.Status);

        // An admin's cookie without the dashboard's header (a cross-site form) is refused too.
        var (adminContext, adminPage, adminErrors) = await fixture.NewPageAsync();
        await using var __ = adminContext;
        await fixture.LogInAsync(adminPage, "admin");
        var crossSite = await adminPage.APIRequest.PostAsync("/dashboard/queues/guarded/dead-letters/purge", new APIRequestContextOptions { Form = FormWith(adminPage, fingerprint) });
        Assert.Equal(403, crossSite.Status);
        var groups = (await fixture.Api.GetFromJsonAsync<JsonObject>("/queues/guarded/dead-letters/groups"))!["groups"]!.AsArray();
        Assert.Contains(groups, g => g!["fingerprint"]!.GetValue<string>() == fingerprint);

        // The admin's own page shows Purge; confirmed, it deletes the group.
        adminPage.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await adminPage.GotoAsync("/dashboard/queues/guarded/dead-letters");
        await adminPage.Locator("table.groups tbody tr").First.Locator("button.purge").ClickAsync();
        await Assertions.Expect(adminPage.Locator("#action-result .purge-result")).ToContainTextAsync("Purged: 1");
        Assert.Empty((await fixture.Api.GetFromJsonAsync<JsonObject>("/queues/guarded/dead-letters/groups"))!["groups"]!.AsArray());
        lock (errors) Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
        lock (adminErrors) Assert.True(adminErrors.Count == 0, string.Join(Environment.NewLine, adminErrors));
    }

    [Fact]
    public async Task The_overview_draws_sparklines_and_the_queue_page_opens_with_history()
    {
        await EnqueueAsync("load", "work", 1);
        // The sampler records a 10-s point per queue whether or not anybody watches: wait for two of them.
        await Poll.Until(async () => (await fixture.Api.GetFromJsonAsync<JsonObject>("/dashboard/queues/load/history"))!["t"]!.AsArray().Count >= 2,
            "two points in the history of queue load", Wait);

        var (context, page, errors) = await fixture.NewPageAsync();
        await using var _ = context;
        await fixture.LogInAsync(page, "admin");
        var spark = page.Locator("tr[data-queue=load] td.trend svg.spark");
        await Assertions.Expect(spark.Locator("polyline")).ToHaveCountAsync(1);
        Assert.Contains("depth of load", await spark.Locator("title").TextContentAsync(), StringComparison.Ordinal);
        await Assertions.Expect(page.Locator(".overview-pager")).ToContainTextAsync("of");

        await page.GotoAsync("/dashboard/queues/load");
        var depth = page.Locator(".chart[data-chart=depth]");
        await Assertions.Expect(depth.Locator(".uplot")).ToBeVisibleAsync();
        // The chart opens with the embedded history, before the stream's first point.
        var embedded = JsonNode.Parse((await page.Locator("#queue-history").TextContentAsync())!)!["t"]!.AsArray().Count;
        Assert.True(embedded >= 2, $"{embedded} embedded point(s)");
        Assert.True(int.Parse((await depth.GetAttributeAsync("data-points"))!, System.Globalization.CultureInfo.InvariantCulture) >= 2);

        // 24 h comes from the history route; the chart keeps at least the hour it had and goes on live.
        await page.ClickAsync(".range button[data-range='24h']");
        await Assertions.Expect(page.Locator(".range button[data-range='24h']")).ToHaveClassAsync("active");
        await Poll.Until(async () => int.Parse((await depth.GetAttributeAsync("data-points"))!, System.Globalization.CultureInfo.InvariantCulture) > embedded,
            "the chart to take live points after the range changed", Wait);
        Assert.Null(await page.Locator(".range").GetAttributeAsync("data-error"));
        lock (errors) Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
    }

    [Fact]
    public async Task Messages_ticked_in_the_list_are_redriven_or_purged_together_and_an_empty_selection_changes_nothing()
    {
        fixture.Failing = true;
        var ids = await EnqueueAsync("picked", "flip", 3);
        foreach (var id in ids) await AwaitStatusAsync("picked", id, "dead-lettered");
        fixture.Failing = false;

        var (context, page, errors) = await fixture.NewPageAsync();
        await using var _ = context;
        await fixture.LogInAsync(page, "admin");
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await page.GotoAsync("/dashboard/queues/picked/dead-letters");
        await page.Locator($"input.pick[value='{ids[0]}']").CheckAsync();
        await page.Locator($"input.pick[value='{ids[1]}']").CheckAsync();
        await page.Locator("button.redrive-selected").ClickAsync();
        await Assertions.Expect(page.Locator("#action-result .redrive-result")).ToContainTextAsync("Redriven: 2");
        await AwaitStatusAsync("picked", ids[0], "succeeded");
        await AwaitStatusAsync("picked", ids[1], "succeeded");
        await AwaitStatusAsync("picked", ids[2], "dead-lettered");

        // Nothing ticked: a notice, and the last dead letter is still there.
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("input.pick")).ToHaveCountAsync(1);
        await page.Locator("button.purge-selected").ClickAsync();
        await Assertions.Expect(page.Locator("#action-result .error")).ToContainTextAsync("Select a group");
        await AwaitStatusAsync("picked", ids[2], "dead-lettered");

        // "Select every message on this page", then purge.
        await page.Locator("input.pick-all").CheckAsync();
        await Assertions.Expect(page.Locator($"input.pick[value='{ids[2]}']")).ToBeCheckedAsync();
        await page.Locator("button.purge-selected").ClickAsync();
        await Assertions.Expect(page.Locator("#action-result .purge-result")).ToContainTextAsync("Purged: 1");
        Assert.Equal(0, (await fixture.Api.GetFromJsonAsync<JsonObject>("/queues/picked/dead-letters"))!["total"]!.GetValue<int>());
        lock (errors) Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
    }

    private static IFormData FormWith(IPage page, string fingerprint)
    {
        var form = page.APIRequest.CreateFormData();
        form.Set("fingerprint", fingerprint);
        return form;
    }

    private async Task<long[]> EnqueueAsync(string queue, string type, int count, string? payload = null)
    {
        var ids = new long[count];
        for (var i = 0; i < count; i++)
        {
            var response = await fixture.Api.PostAsync($"/queues/{queue}/messages", new StringContent($"{{\"type\":\"{type}\",\"payload\":{payload ?? $"{{\"n\":{i}}}"}}}", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            ids[i] = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<long>();
        }
        return ids;
    }

    private Task AwaitStatusAsync(string queue, long id, string status) => Poll.Until(async () =>
        (await fixture.Api.GetFromJsonAsync<JsonObject>($"/queues/{queue}/messages/{id}"))!["status"]!.GetValue<string>() == status,
        $"message {id} of {queue} to be {status}", Wait);

    /// <summary>
    /// Two producers, each enqueueing one message every few milliseconds until stopped: faster than the queue's two
    /// workers drain it, so a backlog builds, yet light enough to leave a loaded machine room for the browser.
    /// </summary>
    private Task ProduceAsync(string queue, string type, CancellationToken stop) => Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var response = await fixture.Api.PostAsync($"/queues/{queue}/messages", new StringContent($"{{\"type\":\"{type}\",\"payload\":{{}}}}", Encoding.UTF8, "application/json"), stop);
                await Task.Delay(5, stop); // the producer's pace, not a wait for a condition
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }));

    /// <summary>
    /// Where the queue page's screenshot goes: the README's <c>docs/dashboard-queue.png</c> when
    /// <c>ACTORS_UPDATE_SCREENSHOTS=1</c> (so an ordinary test run leaves the checkout clean), else the test's output directory.
    /// </summary>
    private static string ScreenshotPath()
    {
        if (Environment.GetEnvironmentVariable("ACTORS_UPDATE_SCREENSHOTS") == "1")
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Actors.sln"))) return Path.Combine(Directory.CreateDirectory(Path.Combine(dir.FullName, "docs")).FullName, "dashboard-queue.png");
        return Path.Combine(AppContext.BaseDirectory, "dashboard-queue.png");
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Actors.Core.Tests;
using Microsoft.Playwright;

namespace Actors.Node.Tests;

/// <summary>
/// The schedules and cluster pages in a real browser: both load without console errors, a Trigger from the schedules
/// page enqueues a message that the row and the queue show, pause and resume from the detail page change its state,
/// and the cluster page fetches itself again while open.
/// </summary>
[Collection(DashboardBrowserGroup.Name)]
public sealed class DashboardSchedulesClusterBrowserTests(DashboardFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_trigger_from_the_schedules_page_enqueues_a_message_and_the_cluster_page_refreshes()
    {
        var put = await fixture.Api.PutAsync("/schedules/browser-hourly",
            new StringContent("{\"every\":\"PT1H\",\"queue\":\"timed\",\"type\":\"work\",\"payload\":{}}", Encoding.UTF8, "application/json"));
        Assert.True(put.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"PUT answered {(int)put.StatusCode}");

        var (context, page, errors) = await fixture.NewPageAsync();
        await using var _ = context;
        await fixture.LogInAsync(page, "admin");
        string? confirm = null;
        page.Dialog += async (_, dialog) =>
        {
            confirm = dialog.Message;
            await dialog.AcceptAsync();
        };

        await page.ClickAsync("header nav a[href='/dashboard/schedules']");
        var row = page.Locator("tr[data-schedule=browser-hourly]");
        await Assertions.Expect(row.Locator("td.when")).ToHaveTextAsync("every PT1H");
        await Assertions.Expect(row.Locator("td.fired")).ToHaveTextAsync("0");
        await row.Locator("button.trigger").ClickAsync();
        // The row is replaced by the schedule's new state: one fire, the message it became.
        await Assertions.Expect(row.Locator("td.fired")).ToHaveTextAsync("1");
        await Assertions.Expect(row.Locator("td.actions .notice")).ToContainTextAsync("Triggered: message");
        Assert.Contains("Enqueue one work message into timed now?", confirm, StringComparison.Ordinal);
        await Poll.Until(async () => (await fixture.Api.GetFromJsonAsync<JsonObject>("/queues/timed"))!["totals"]!["succeeded"]!.GetValue<long>() == 1,
            "the triggered message to succeed", Wait);

        // The last fire's link opens the message.
        await row.Locator("td.last-fire a").ClickAsync();
        await Assertions.Expect(page.Locator("td.status")).ToHaveTextAsync("succeeded");

        // The detail: next 5 fires, the fire's outcome; pause and resume swap the detail in place.
        await page.GotoAsync("/dashboard/schedules/browser-hourly");
        await Assertions.Expect(page.Locator("ol.next-fires li")).ToHaveCountAsync(5);
        await Assertions.Expect(page.Locator("table.fires td.outcome")).ToHaveTextAsync("succeeded");
        await page.ClickAsync("button.pause");
        await Assertions.Expect(page.Locator("#schedule-detail td.state")).ToHaveTextAsync("paused");
        await page.ClickAsync("button.resume");
        await Assertions.Expect(page.Locator("#schedule-detail td.state")).ToHaveTextAsync("active");
        Assert.False((await fixture.Api.GetFromJsonAsync<JsonObject>("/schedules/browser-hourly"))!["paused"]!.GetValue<bool>());

        // The cluster page: this standalone node, its queues, fetched again while the page is open.
        await page.ClickAsync("header nav a[href='/dashboard/cluster']");
        await Assertions.Expect(page.Locator("td.mode")).ToHaveTextAsync("standalone");
        await Assertions.Expect(page.Locator("tr[data-member]")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("tr[data-queue=timed] td.node")).ToBeVisibleAsync();
        var refreshed = await page.WaitForResponseAsync(r => r.Url.EndsWith("/dashboard/cluster/status", StringComparison.Ordinal), new PageWaitForResponseOptions { Timeout = 30_000 });
        Assert.Equal(200, refreshed.Status);
        await Assertions.Expect(page.Locator("#cluster td.mode")).ToHaveTextAsync("standalone");
        lock (errors) Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
    }
}

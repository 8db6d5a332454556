using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace Actors.Node.Tests;

/// <summary>The queue page's Pause/Resume button and "paused" badge, and its lookup by idempotency key, in a real browser.</summary>
[Collection(DashboardBrowserGroup.Name)]
public sealed class DashboardPauseBrowserTests(DashboardFixture fixture)
{
    private async Task<bool> PausedAsync() => (await fixture.Api.GetFromJsonAsync<JsonObject>("/queues/pausable"))!["paused"]!.GetValue<bool>();

    [Fact]
    public async Task The_button_pauses_and_resumes_the_queue_and_the_badge_follows()
    {
        var (context, page, errors) = await fixture.NewPageAsync();
        await using var _ = context;
        await fixture.LogInAsync(page, "admin");
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await page.GotoAsync("/dashboard/queues/pausable");
        await Assertions.Expect(page.Locator("#pause-control .badge.paused")).ToHaveCountAsync(0);

        await page.Locator("#pause-control button.pause").ClickAsync();
        await Assertions.Expect(page.Locator("#pause-control .badge.paused")).ToBeVisibleAsync();
        Assert.True(await PausedAsync());
        await page.GotoAsync("/dashboard");
        await Assertions.Expect(page.Locator("tr[data-queue=pausable] .badge.paused")).ToBeVisibleAsync();

        // A message enqueued while paused is found by its idempotency key through the lookup form, still queued.
        var enqueued = await fixture.Api.PostAsync("/queues/pausable/messages",
            new StringContent("""{"type":"echo","payload":{},"idempotencyKey":"dash-17"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, enqueued.StatusCode);
        await page.GotoAsync("/dashboard/queues/pausable");
        await page.FillAsync("form.lookup input[name=id]", "dash-17");
        await page.ClickAsync("form.lookup button");
        await Assertions.Expect(page.Locator("td.status")).ToHaveTextAsync("queued");

        await page.GotoAsync("/dashboard/queues/pausable");
        await page.Locator("#pause-control button.resume").ClickAsync();
        await Assertions.Expect(page.Locator("#pause-control button.pause")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#pause-control .badge.paused")).ToHaveCountAsync(0);
        Assert.False(await PausedAsync());
        lock (errors) Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
    }

    [Fact]
    public async Task A_read_only_key_sees_no_pause_button_and_its_post_is_refused()
    {
        var (context, page, errors) = await fixture.NewPageAsync();
        await using var _ = context;
        await fixture.LogInAsync(page, "reader");
        await page.GotoAsync("/dashboard/queues/pausable");
        await Assertions.Expect(page.Locator("#queue-stats td.deliveries")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#pause-control button")).ToHaveCountAsync(0);

        var pause = await page.APIRequest.PostAsync("/dashboard/queues/pausable/pause", new APIRequestContextOptions
        {
            Headers = new Dictionary<string, string> { ["HX-Request"] = "true" },
        });
        Assert.Equal(403, pause.Status);
        Assert.False(await PausedAsync());
        lock (errors) Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
    }
}

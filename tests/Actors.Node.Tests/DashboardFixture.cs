using System.Net;
using System.Net.Http.Headers;
using Actors.Http.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;

namespace Actors.Node.Tests;

/// <summary>
/// One Chromium (the machine's, never a downloaded one), one node on a real loopback port with API keys, and a webhook
/// receiver for the node's handlers, shared by the dashboard's browser tests. The receiver's <c>flip</c> route answers
/// 400 (dead-letter at once) while <see cref="Failing"/> is set and 200 after; <c>work</c> takes a few milliseconds,
/// so a producer builds a visible backlog.
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    /// <summary>Where Debian's chromium package puts the browser.</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>The keys the tests log in with, by name: every permission, and reading only.</summary>
    public IReadOnlyDictionary<string, (string Key, string[] Permissions)> Keys { get; } = new Dictionary<string, (string, string[])>
    {
        ["admin"] = (ApiKeys.Generate().Key, ["admin"]),
        ["reader"] = (ApiKeys.Generate().Key, ["read:*"]),
    };

    private WebApplication _receiver = null!;
    private NodeFactory _node = null!;
    private IPlaywright _playwright = null!;

    /// <summary>While true, <c>flip</c> messages are refused by their webhook (and dead-lettered).</summary>
    public bool Failing
    {
        get => Volatile.Read(ref _failing);
        set => Volatile.Write(ref _failing, value);
    }

    private bool _failing = true;

    /// <summary>The browser.</summary>
    public IBrowser Browser { get; private set; } = null!;

    /// <summary>The node's base address, e.g. <c>http://127.0.0.1:5123</c>.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>An HTTP client of the node's API with the admin key.</summary>
    public HttpClient Api { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"The dashboard's browser tests need Chromium at {ChromiumPath}: apt-get update && apt-get install -y chromium");

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _receiver = builder.Build();
        _receiver.MapPost("/flip", () => Failing ? Results.StatusCode(StatusCodes.Status400BadRequest) : Results.Json(new { handled = true }));
        _receiver.MapPost("/work", async (CancellationToken cancellationToken) =>
        {
            await Task.Delay(15, cancellationToken); // the handler's own work, so the queue builds a backlog
            return Results.Json(new { handled = true });
        });
        await _receiver.StartAsync();
        var receiver = _receiver.Urls.Single();

        var settings = new Dictionary<string, string?>
        {
            ["Actors:Queues:dash:Workers"] = "2",
            ["Actors:Queues:load:Workers"] = "2",
            ["Actors:Queues:locked:Workers"] = "1",
            ["Actors:Queues:guarded:Workers"] = "1",
            ["Actors:Queues:timed:Workers"] = "1",
            ["Actors:Queues:pausable:Workers"] = "1",
            ["Actors:Queues:picked:Workers"] = "1",
            ["Actors:Webhooks:flip:Url"] = receiver + "/flip",
            ["Actors:Webhooks:flip:AllowedNetworks:0"] = "127.0.0.0/8",
            ["Actors:Webhooks:work:Url"] = receiver + "/work",
            ["Actors:Webhooks:work:AllowedNetworks:0"] = "127.0.0.0/8",
        };
        foreach (var (name, (key, permissions)) in Keys)
        {
            settings[$"Actors:Auth:Keys:{name}:Hash"] = ApiKeys.Hash(key);
            for (var i = 0; i < permissions.Length; i++) settings[$"Actors:Auth:Keys:{name}:Permissions:{i}"] = permissions[i];
        }
        var port = NodeProcess.FreePort();
        _node = new NodeFactory(settings);
        _node.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        _node.StartServer();
        BaseUrl = $"http://127.0.0.1:{port}";
        Api = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Keys["admin"].Key);

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
    }

    /// <summary>A fresh browser context (its own cookies) with a page that records console errors and page errors.</summary>
    public async Task<(IBrowserContext Context, IPage Page, List<string> Errors)> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseUrl, ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") lock (errors) errors.Add($"console: {message.Text} ({message.Location})"); };
        page.PageError += (_, error) => { lock (errors) errors.Add("page: " + error); };
        return (context, page, errors);
    }

    /// <summary>Logs the page's browser in with the named key through the login form.</summary>
    public async Task LogInAsync(IPage page, string keyName)
    {
        await page.GotoAsync("/dashboard/login");
        await page.FillAsync("input[name=key]", Keys[keyName].Key);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(BaseUrl + "/dashboard");
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        Api?.Dispose();
        if (_node is not null) await _node.DisposeAsync();
        if (_receiver is not null) await _receiver.DisposeAsync();
    }
}

/// <summary>The collection that shares one <see cref="DashboardFixture"/> (one browser) among the dashboard tests.</summary>
[CollectionDefinition(Name)]
public sealed class DashboardBrowserGroup : ICollectionFixture<DashboardFixture>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "dashboard browser";
}

using System.Globalization;
using Actors.Client;
using Actors.Http.Security;
using Actors.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Actors.Protocol.DeadLetterCommands;

namespace Actors.Http.Dashboard;

/// <summary>
/// The live dashboard under <c>/dashboard</c>: server-rendered pages (overview, queue, dead letters) that server-sent
/// event streams refresh every second, with the node's own <see cref="IQueueClient"/> behind them. Reading needs the
/// <c>read</c> permission on the queue (the overview lists only the queues the key may read); redrive and purge need
/// <c>manage</c>, are hidden without it and refused by the same policy as the HTTP API.
/// </summary>
public static class DashboardEndpoints
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    /// <summary>Maps the dashboard's pages, streams, actions, login and assets.</summary>
    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.ServiceProvider.GetService<QueueSampler>() is null)
            throw new InvalidOperationException("The dashboard needs its statistics sampler: call services.AddDashboard(options) before building the app.");
        var group = app.MapGroup(DashboardLogin.PathPrefix).WithTags("Dashboard").ExcludeFromDescription();
        group.MapGet("/assets/{*path}", (string path, HttpContext context) => DashboardAssets.Serve(path, context)).AllowAnonymous();
        group.MapGet("/login", DashboardLogin.LoginPage).AllowAnonymous();
        group.MapPost("/login", (Delegate)DashboardLogin.LogInAsync).AllowAnonymous();
        group.MapPost("/logout", DashboardLogin.LogOut).AllowAnonymous().AddEndpointFilter(DashboardLogin.CsrfFilter);

        group.MapGet("", OverviewAsync).AllowAnonymous();
        group.MapGet("/stream", OverviewStreamAsync).AllowAnonymous();
        group.MapGet("/queues/{queue}", QueueAsync).AllowAnonymous();
        group.MapGet("/queues/{queue}/stream", QueueStreamAsync).AllowAnonymous();
        group.MapGet("/queues/{queue}/history", History).RequirePermission(ActorsPolicies.Read);
        group.MapGet("/queues/{queue}/messages", FindMessage).AllowAnonymous();
        group.MapGet("/queues/{queue}/messages/{id:long}", MessageAsync).AllowAnonymous();
        group.MapGet("/queues/{queue}/dead-letters", DeadLettersAsync).AllowAnonymous();
        group.MapGet("/queues/{queue}/dead-letters/redrives/{id}", RedriveProgressAsync).RequirePermission(ActorsPolicies.Read);
        group.MapPost("/queues/{queue}/dead-letters/redrive", RedriveAsync).RequirePermission(ActorsPolicies.Manage).AddEndpointFilter(DashboardLogin.CsrfFilter);
        group.MapPost("/queues/{queue}/dead-letters/purge", PurgeAsync).RequirePermission(ActorsPolicies.Manage).AddEndpointFilter(DashboardLogin.CsrfFilter);
        group.MapSchedulePages();
        group.MapClusterPage();
        group.MapPost("/queues/{queue}/pause", (string queue, HttpContext context, IQueueClient client) => PauseControl.ToggleAsync(queue, pause: true, context, client))
            .RequirePermission(ActorsPolicies.Manage).AddEndpointFilter(DashboardLogin.CsrfFilter);
        group.MapPost("/queues/{queue}/resume", (string queue, HttpContext context, IQueueClient client) => PauseControl.ToggleAsync(queue, pause: false, context, client))
            .RequirePermission(ActorsPolicies.Manage).AddEndpointFilter(DashboardLogin.CsrfFilter);
        return app;
    }

    private static async Task<IResult> OverviewAsync(HttpContext context, QueueSampler sampler)
    {
        if (DashboardLogin.Refuse(context, null) is { } refused) return refused;
        // A sample up to two ticks old is what the page's stream would show anyway.
        var sample = await sampler.CurrentAsync(Tick * 2, context.RequestAborted).ConfigureAwait(false);
        var (rows, total, page, filter) = OverviewPage(context, sample);
        return Html.Result(Html.Page(context, "Queues", DashboardPages.Overview(rows, total, page, filter, q => DepthSparkline(sampler, q), sample)));
    }

    private static async Task<IResult> QueueAsync(string queue, HttpContext context, IQueueClient client, QueueSampler sampler)
    {
        if (DashboardLogin.Refuse(context, queue) is { } refused) return refused;
        return await Page(context, queue, async () =>
        {
            var stats = await client.GetStatsAsync(queue, context.RequestAborted).ConfigureAwait(false);
            sampler.Watch(queue);
            return Html.Page(context, queue, DashboardPages.Queue(stats, DashboardLogin.Can(context, PermissionKind.Manage, queue), HistoryJson(sampler, queue, HistoryRanges["1h"])));
        }).ConfigureAwait(false);
    }

    /// <summary>The ranges the queue page's history selector offers.</summary>
    private static readonly Dictionary<string, TimeSpan> HistoryRanges = new(StringComparer.Ordinal)
    {
        ["1h"] = TimeSpan.FromHours(1),
        ["24h"] = HistoryStore.Retention,
    };

    /// <summary>A queue's chart history as uPlot columns (<c>?range=1h</c>, the default, or <c>24h</c>).</summary>
    private static IResult History(string queue, HttpContext context, QueueSampler sampler)
    {
        if (!HistoryRanges.TryGetValue(context.Request.Query["range"].ToString() is { Length: > 0 } r ? r : "1h", out var range))
            return Problems.BadRequest("range must be 1h or 24h.");
        if (!Names.IsValidQueueName(queue)) return Problems.BadRequest(Names.QueueNameRule);
        var points = sampler.History(queue, sampler.Now - (long)range.TotalSeconds);
        if (points.Count == 0 && !sampler.Knows(queue))
            return Problems.Create(StatusCodes.Status404NotFound, "unknown-queue", "Unknown queue", $"This node has no history of queue '{queue}'.");
        context.Response.Headers.CacheControl = "no-store";
        return Results.Text(HistoryJson(points), "application/json");
    }

    private static string HistoryJson(QueueSampler sampler, string queue, TimeSpan range) =>
        HistoryJson(sampler.History(queue, sampler.Now - (long)range.TotalSeconds));

    /// <summary>Chart columns; a gap of three 10-s steps without a point (the node was down) breaks the lines.</summary>
    private static string HistoryJson(List<HistoryPoint> points) => HistoryPoint.ToColumnsJson(points, gap: 3 * QueueSeries.Step);

    private static string DepthSparkline(QueueSampler sampler, string queue)
    {
        var points = sampler.Sparkline(queue, 60);
        return Sparkline.Svg(points.Select(p => p.Depth).ToList(), $"depth of {queue}, last 10 minutes");
    }

    /// <summary>The overview's page of the sample: the queues the person may read whose name contains <c>?q=</c>, page <c>?page=</c>.</summary>
    private static (IReadOnlyList<QueueQueries.QueueStats> Rows, int Total, int Page, string? Filter) OverviewPage(HttpContext context, SamplerSnapshot? sample)
    {
        var query = context.Request.Query;
        var filter = string.IsNullOrWhiteSpace(query["q"]) ? null : query["q"].ToString().Trim();
        var readable = (sample?.Queues ?? []).Where(q => (filter is null || q.QueueId.Contains(filter, StringComparison.OrdinalIgnoreCase))
            && DashboardLogin.Can(context, PermissionKind.Read, q.QueueId)).ToList();
        var pages = Math.Max(1, (readable.Count + DashboardPages.OverviewPageSize - 1) / DashboardPages.OverviewPageSize);
        var page = int.TryParse(query["page"], NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? Math.Clamp(p, 1, pages) : 1;
        return (readable.Skip((page - 1) * DashboardPages.OverviewPageSize).Take(DashboardPages.OverviewPageSize).ToList(), readable.Count, page, filter);
    }

    /// <summary>The lookup form's answer: a message id, else an idempotency key the queue remembers, leads to the message's page.</summary>
    private static async Task<IResult> FindMessage(string queue, HttpContext context, IQueueClient client)
    {
        if (DashboardLogin.Refuse(context, queue) is { } refused) return refused;
        var text = context.Request.Query["id"].ToString().Trim();
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            return Results.Redirect($"/dashboard/queues/{Uri.EscapeDataString(queue)}/messages/{id}");
        if (text.Length == 0) return Results.Redirect($"/dashboard/queues/{Uri.EscapeDataString(queue)}");
        return await Page(context, queue, async () =>
            await client.FindByIdempotencyKeyAsync(queue, text, context.RequestAborted).ConfigureAwait(false) is { } found
                ? Html.Page(context, $"{queue} message {found.MessageId}", found.Message is { } message
                    ? MessagePage.Render(message)
                    : $"<h1>Message {found.MessageId}</h1><p class=\"notice error\">Idempotency key {Html.E(text)} stored message {found.MessageId}, which queue {Html.E(queue)} no longer holds.</p>")
                : Html.Page(context, queue, $"<h1>{Html.E(queue)}</h1><p class=\"notice error\">Queue {Html.E(queue)} holds no message {Html.E(text)} and remembers no such idempotency key.</p>")).ConfigureAwait(false);
    }

    private static async Task<IResult> MessageAsync(string queue, long id, HttpContext context, IQueueClient client)
    {
        if (DashboardLogin.Refuse(context, queue) is { } refused) return refused;
        return await Page(context, queue, async () =>
            await client.GetMessageAsync(queue, id, context.RequestAborted).ConfigureAwait(false) is { } message
                ? Html.Page(context, $"{queue} message {id}", MessagePage.Render(message))
                : Html.Page(context, $"{queue} message {id}", $"<h1>Message {id}</h1><p class=\"notice error\">Queue {Html.E(queue)} does not hold message {id} (never stored, or succeeded longer ago than its retention).</p>")).ConfigureAwait(false);
    }

    private static async Task<IResult> DeadLettersAsync(string queue, HttpContext context, IQueueClient client)
    {
        if (DashboardLogin.Refuse(context, queue) is { } refused) return refused;
        var query = context.Request.Query;
        var after = long.TryParse(query["after"], NumberStyles.None, CultureInfo.InvariantCulture, out var a) ? a : 0;
        string? Text(string name) => string.IsNullOrWhiteSpace(query[name]) ? null : query[name].ToString().Trim();
        var filter = new DeadLetterFilter(Type: Text("type"), ErrorType: Text("errorType"), Fingerprint: Text("fingerprint"));
        return await Page(context, queue, async () =>
        {
            var groups = await client.GroupDeadLettersAsync(queue, context.RequestAborted).ConfigureAwait(false);
            var page = await client.ListDeadLettersAsync(queue, filter, after, 50, context.RequestAborted).ConfigureAwait(false);
            var jobs = DeadLetterEndpoints.JobsJson(queue, await client.ListRedriveJobsAsync(queue, context.RequestAborted).ConfigureAwait(false));
            var canManage = DashboardLogin.Can(context, PermissionKind.Manage, queue);
            return Html.Page(context, queue + " dead letters", DashboardPages.DeadLetters(queue, groups, page, filter, jobs, canManage));
        }).ConfigureAwait(false);
    }

    private static async Task<IResult> RedriveAsync(string queue, HttpContext context, IQueueClient client)
    {
        if (await SelectionAsync(context).ConfigureAwait(false) is not { } selection) return NothingSelected();
        try
        {
            var result = await client.StartRedriveAsync(queue, selection, Audit.Who(context.User), context.RequestAborted).ConfigureAwait(false);
            return Html.Result(DashboardPages.RedriveResult(queue, result.Count, DeadLetterEndpoints.JobsJson(queue, result.Jobs ?? [])));
        }
        catch (QueueException e)
        {
            return Html.Result($"<p class=\"notice error\">{Html.E(e.Message)}</p>");
        }
    }

    private static async Task<IResult> PurgeAsync(string queue, HttpContext context, IQueueClient client)
    {
        if (await SelectionAsync(context).ConfigureAwait(false) is not { } selection) return NothingSelected();
        try
        {
            var purged = await client.PurgeDeadLettersAsync(queue, selection, context.RequestAborted).ConfigureAwait(false);
            return Html.Result($"<p class=\"notice purge-result\">Purged: {Html.N(purged)}.</p><p><a href=\"\">Reload</a></p>");
        }
        catch (QueueException e)
        {
            return Html.Result($"<p class=\"notice error\">{Html.E(e.Message)}</p>");
        }
    }

    private static async Task<IResult> RedriveProgressAsync(string queue, string id, HttpContext context, IQueueClient client)
    {
        try
        {
            var jobs = DeadLetterEndpoints.JobsJson(queue, await client.ListRedriveJobsAsync(queue, context.RequestAborted).ConfigureAwait(false));
            return Html.Result(DashboardPages.RedriveProgress(queue, jobs.FirstOrDefault(j => j.Id == id), id));
        }
        catch (QueueException e)
        {
            return Html.Result($"<p class=\"notice error\">{Html.E(e.Message)}</p>");
        }
    }

    /// <summary>The most messages one selection may name (a page of the list holds 50).</summary>
    private const int MaxSelected = 500;

    /// <summary>
    /// The dead letters a redrive or purge form selects: a fingerprint group (<c>fingerprint</c>) or messages ticked in
    /// the list (<c>id</c>, repeated); null when it selects nothing, so an empty form never means "all".
    /// </summary>
    private static async Task<DeadLetterFilter?> SelectionAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType) return null;
        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        var fingerprint = form["fingerprint"].ToString();
        if (!string.IsNullOrWhiteSpace(fingerprint)) return new DeadLetterFilter(Fingerprint: fingerprint);
        var ids = new SortedSet<long>();
        foreach (var value in form["id"])
            if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0) ids.Add(id);
        return ids.Count is 0 or > MaxSelected ? null : new DeadLetterFilter(Ids: [.. ids]);
    }

    /// <summary>The answer to a form that selects nothing (or too much): a notice in the page, nothing changed.</summary>
    private static IResult NothingSelected() =>
        Html.Result($"<p class=\"notice error\">Select a group, or 1–{MaxSelected} messages in the list.</p>");

    /// <summary>With every sample (each second), the rows of the overview's page (event <c>queues</c>) until the browser goes away.</summary>
    private static async Task OverviewStreamAsync(HttpContext context, QueueSampler sampler)
    {
        if (!DashboardLogin.Authenticated(context))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }
        await SampleStreamAsync(context, sampler, null, sample =>
        {
            var (rows, _, _, _) = OverviewPage(context, sample);
            return [("queues", DashboardPages.OverviewRows(rows, q => DepthSparkline(sampler, q)))];
        }).ConfigureAwait(false);
    }

    /// <summary>With every sample (each second), the queue's statistics table (event <c>stats</c>) and a chart point (event <c>point</c>, JSON).</summary>
    private static async Task QueueStreamAsync(string queue, HttpContext context, QueueSampler sampler)
    {
        if (!DashboardLogin.Can(context, PermissionKind.Read, queue))
        {
            context.Response.StatusCode = DashboardLogin.Authenticated(context) ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized;
            return;
        }
        await SampleStreamAsync(context, sampler, queue, sample => sample.Find(queue) is { } q
            ? [("stats", DashboardPages.QueueStats(q)), ("point", HistoryPoint.From(sample.Time, q).ToJson())]
            : []).ConfigureAwait(false);
    }

    /// <summary>
    /// A server-sent event stream of the sampler's samples: for each new one, the events <paramref name="render"/>
    /// builds. The stream keeps the sampler reading every second (and keeping <paramref name="queue"/>'s 1-s points);
    /// it never asks the queues itself.
    /// </summary>
    private static Task SampleStreamAsync(HttpContext context, QueueSampler sampler, string? queue, Func<SamplerSnapshot, (string Event, string Data)[]> render)
    {
        SamplerSnapshot? sample = null;
        return StreamAsync(context, _ => Task.FromResult(render(sample!)), async ct =>
        {
            sample = await sampler.NextAsync(sample?.Sequence ?? 0, ct).ConfigureAwait(false);
            if (queue is not null) sampler.Watch(queue);
            return true;
        });
    }

    /// <summary>
    /// A server-sent event stream: each tick (every second, or whenever <paramref name="wait"/> returns) sends the
    /// events <paramref name="next"/> builds (single-line data), until the request is aborted. A tick whose queue does
    /// not answer is skipped; the page keeps its last values.
    /// </summary>
    private static async Task StreamAsync(HttpContext context, Func<CancellationToken, Task<(string Event, string Data)[]>> next, Func<CancellationToken, Task<bool>>? wait = null)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-store";
        response.Headers["X-Accel-Buffering"] = "no";
        // Ends when the browser leaves or the node stops, so an open dashboard does not hold up a shutdown.
        var stopping = context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var aborted = linked.Token;
        using var timer = new PeriodicTimer(Tick);
        wait ??= ct => timer.WaitForNextTickAsync(ct).AsTask();
        try
        {
            await response.WriteAsync("retry: 2000\n\n", aborted).ConfigureAwait(false);
            await response.Body.FlushAsync(aborted).ConfigureAwait(false);
            while (await wait(aborted).ConfigureAwait(false))
            {
                (string Event, string Data)[] events;
                try
                {
                    events = await next(aborted).ConfigureAwait(false);
                }
                catch (QueueException)
                {
                    continue;
                }
                foreach (var (name, data) in events)
                    await response.WriteAsync($"event: {name}\ndata: {data.ReplaceLineEndings(" ")}\n\n", aborted).ConfigureAwait(false);
                await response.Body.FlushAsync(aborted).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The browser left the page, or the node is stopping.
        }
    }

    /// <summary>A page of one queue; an unknown or unavailable queue is a page that says so.</summary>
    private static async Task<IResult> Page(HttpContext context, string queue, Func<Task<string>> render)
    {
        try
        {
            return Html.Result(await render().ConfigureAwait(false));
        }
        catch (QueueException e)
        {
            var status = e.Code == RejectionCode.UnknownQueue ? StatusCodes.Status404NotFound : StatusCodes.Status503ServiceUnavailable;
            return Html.Result(Html.Page(context, queue, $"<h1>{Html.E(queue)}</h1><p class=\"notice error\">{Html.E(e.Message)}</p>"), status);
        }
    }
}

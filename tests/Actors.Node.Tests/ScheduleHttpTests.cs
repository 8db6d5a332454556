using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Actors.Node.Tests;

/// <summary>The /schedules routes: config-declared and runtime schedules, every operation, and bad input that changes nothing.</summary>
public sealed class ScheduleHttpTests() : NodeHttpTest(new Dictionary<string, string?>
{
    ["Actors:Queues:reports:Workers"] = "1",
    ["Actors:Schedules:nightly:Cron"] = "0 2 * * *",
    ["Actors:Schedules:nightly:TimeZone"] = "Europe/Berlin",
    ["Actors:Schedules:nightly:Queue"] = "reports",
    ["Actors:Schedules:nightly:Type"] = "echo",
    ["Actors:Schedules:nightly:Payload:report"] = "sales",
    ["Actors:Schedules:nightly:Payload:days"] = "7",
    ["Actors:Schedules:nightly:Headers:tenant"] = "t1",
    ["Actors:Schedules:nightly:Misfire"] = "fireAll",
})
{
    private async Task<JsonObject> Get(string path, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await Http.GetAsync(path);
        Assert.Equal(expected, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    [Fact]
    public async Task A_schedule_declared_in_config_is_there_with_its_payload_and_next_occurrences()
    {
        var nightly = await Get("/schedules/nightly");
        Assert.Equal("0 2 * * *", nightly["cron"]!.GetValue<string>());
        Assert.Equal("Europe/Berlin", nightly["timeZone"]!.GetValue<string>());
        Assert.Equal("sales", nightly["payload"]!["report"]!.GetValue<string>()); // configuration holds strings: numbers are read back as numbers
        Assert.Equal(7, nightly["payload"]!["days"]!.GetValue<int>());
        Assert.Equal("t1", nightly["headers"]!["tenant"]!.GetValue<string>());
        Assert.Equal("fireAll", nightly["misfire"]!.GetValue<string>());
        Assert.Equal("skip", nightly["overlap"]!.GetValue<string>());
        var next = nightly["next"]!.AsArray().Select(n => n!.GetValue<DateTime>().ToUniversalTime()).ToList();
        Assert.Equal(5, next.Count);
        Assert.All(next, n => Assert.Equal(2, TimeZoneInfo.ConvertTimeFromUtc(n, TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin")).Hour));
        Assert.Equal(0, nightly["fired"]!.GetValue<long>());
        Assert.Equal(0, nightly["skipped"]!["total"]!.GetValue<long>());

        var list = await Get("/schedules");
        Assert.Equal(["nightly"], list["schedules"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Put_is_an_idempotent_upsert_and_pause_resume_trigger_and_delete_work()
    {
        const string body = "{\"every\": \"PT1H\", \"queue\": \"reports\", \"type\": \"echo\", \"payload\": {\"hello\": [1, 2]}, \"overlap\": \"allow\"}";
        var created = await Http.PutAsync("/schedules/hourly", Json(body));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/schedules/hourly", created.Headers.Location!.OriginalString);
        var again = await Http.PutAsync("/schedules/hourly", Json(body));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var againBody = (await again.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.False(againBody["changed"]!.GetValue<bool>());
        Assert.Equal("PT1H", againBody["every"]!.GetValue<string>());

        var paused = (await (await Http.PostAsync("/schedules/hourly/pause", null)).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True(paused["paused"]!.GetValue<bool>());
        var resumed = (await (await Http.PostAsync("/schedules/hourly/resume", null)).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.False(resumed["paused"]!.GetValue<bool>());

        var trigger = await Http.PostAsync("/schedules/hourly/trigger", null);
        Assert.Equal(HttpStatusCode.Accepted, trigger.StatusCode);
        var fired = (await trigger.Content.ReadFromJsonAsync<JsonObject>())!;
        var messageId = fired["messageId"]!.GetValue<long>();
        var message = await Get($"/queues/reports/messages/{messageId}");
        Assert.Equal("echo", message["type"]!.GetValue<string>());
        var status = await Get("/schedules/hourly");
        Assert.Equal(messageId, status["lastFires"]![0]!["messageId"]!.GetValue<long>());
        Assert.True(status["lastFires"]![0]!["manual"]!.GetValue<bool>());

        var ids = (await Get("/schedules"))["schedules"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(["hourly", "nightly"], ids);

        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync("/schedules/hourly")).StatusCode);
        await Problem(await Http.GetAsync("/schedules/hourly"), HttpStatusCode.NotFound, "schedule-not-found");
        await Problem(await Http.DeleteAsync("/schedules/hourly"), HttpStatusCode.NotFound, "schedule-not-found");
        await Problem(await Http.PostAsync("/schedules/hourly/trigger", null), HttpStatusCode.NotFound, "schedule-not-found");
    }

    [Fact]
    public async Task Bad_input_is_refused_with_400_or_404_and_what_was_declared_before_is_untouched()
    {
        var before = (await Get("/schedules/nightly")).ToJsonString();

        var cron = await Problem(await Http.PutAsync("/schedules/nightly", Json("{\"cron\": \"0 25 * * *\", \"queue\": \"reports\", \"type\": \"echo\"}")), HttpStatusCode.BadRequest, "invalid-cron");
        var cronosMessage = Assert.Throws<Cronos.CronFormatException>(() => Cronos.CronExpression.Parse("0 25 * * *")).Message;
        Assert.Contains(cronosMessage, cron["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        await Problem(await Http.PutAsync("/schedules/nightly", Json("{\"cron\": \"0 2 * * *\", \"timeZone\": \"Europe/Atlantis\", \"queue\": \"reports\", \"type\": \"echo\"}")), HttpStatusCode.BadRequest, "unknown-time-zone");
        await Problem(await Http.PutAsync("/schedules/nightly", Json("{\"every\": \"PT0.5S\", \"queue\": \"reports\", \"type\": \"echo\"}")), HttpStatusCode.BadRequest, "interval-too-short");
        await Problem(await Http.PutAsync("/schedules/nightly", Json("{\"cron\": \"0 2 * * *\", \"every\": \"PT10S\", \"queue\": \"reports\", \"type\": \"echo\"}")), HttpStatusCode.BadRequest, "cron-or-every");
        await Problem(await Http.PutAsync("/schedules/nightly", Json("{\"queue\": \"reports\", \"type\": \"echo\"}")), HttpStatusCode.BadRequest, "cron-or-every");
        await Problem(await Http.PutAsync("/schedules/nightly", Json("{\"cron\": \"0 3 * * *\", \"queue\": \"nope\", \"type\": \"echo\"}")), HttpStatusCode.NotFound, "unknown-queue");
        await Problem(await Http.PutAsync("/schedules/nightly", Json("{\"cron\": \"0 3 * * *\", \"queue\": \"reports\", \"type\": \"echo\", \"misfire\": \"sometimes\"}")), HttpStatusCode.BadRequest, "invalid-schedule");
        await Problem(await Http.PutAsync("/schedules/nightly", Json("{\"crom\": \"0 3 * * *\", \"queue\": \"reports\", \"type\": \"echo\"}")), HttpStatusCode.BadRequest, "invalid-schedule");
        await Problem(await Http.PutAsync("/schedules/nightly", Json("{\"cron\": ")), HttpStatusCode.BadRequest, "malformed-json");
        await Problem(await Http.PutAsync("/schedules/bad%20id", Json("{\"cron\": \"0 3 * * *\", \"queue\": \"reports\", \"type\": \"echo\"}")), HttpStatusCode.BadRequest, "invalid-schedule-id");
        await Problem(await Http.PutAsync("/schedules/other", Json("{\"cron\": \"0 3 * * *\", \"queue\": \"nope\", \"type\": \"echo\"}")), HttpStatusCode.NotFound, "unknown-queue");

        Assert.Equal(before, (await Get("/schedules/nightly")).ToJsonString());
        await Problem(await Http.GetAsync("/schedules/other"), HttpStatusCode.NotFound, "schedule-not-found");
        Assert.Equal(["nightly"], (await Get("/schedules"))["schedules"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()));
    }
}

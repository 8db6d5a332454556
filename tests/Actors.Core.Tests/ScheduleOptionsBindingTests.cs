using System.Text;
using Actors.Hosting;
using Actors.Schedules;
using Microsoft.Extensions.Configuration;

namespace Actors.Core.Tests;

/// <summary>Schedules declared in configuration: every provider, every payload form, none left out.</summary>
public sealed class ScheduleOptionsBindingTests
{
    [Fact]
    public void A_schedule_with_an_object_payload_in_a_json_file_is_declared_with_that_payload()
    {
        // The README's example. The configuration binder alone drops such a schedule without a word.
        const string json = """
            { "Actors": { "Queues": { "reports": {} }, "Schedules": {
                "nightly": { "Cron": "0 2 * * *", "TimeZone": "Europe/Berlin", "Queue": "reports", "Type": "nightly_report",
                             "Payload": { "report": "sales", "days": 7 }, "Misfire": "fireAll", "Headers": { "tenant": "t1" } },
                "hourly": { "Every": "PT1H", "Queue": "reports", "Type": "hourly_report", "Payload": "{\"n\":1}" },
                "bare": { "Every": "PT10S", "Queue": "reports", "Type": "noop" } } } }
            """;
        var options = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build().GetDurableQueuesOptions();

        Assert.Equal(["bare", "hourly", "nightly"], options.Schedules.Keys.Order(StringComparer.Ordinal));
        var nightly = options.Schedules["nightly"];
        Assert.Equal("""{"days":7,"report":"sales"}""", nightly.Payload); // configuration sorts the keys
        Assert.Equal("0 2 * * *", nightly.Cron);
        Assert.Equal(MisfirePolicy.FireAll, nightly.Misfire);
        Assert.Equal("t1", nightly.Headers!["tenant"]);
        Assert.Equal("""{"n":1}""", options.Schedules["hourly"].Payload);
        Assert.Null(options.Schedules["bare"].Payload);
        Assert.Equal(3, DurableSchedules.Declared(options).Count);
    }

    [Fact]
    public void A_schedule_with_an_object_payload_on_the_command_line_is_declared_with_that_payload()
    {
        var options = new ConfigurationBuilder().AddCommandLine(
        [
            "--Actors:Queues:jobs:Workers=1", "--Actors:Schedules:tick:Every=PT1S", "--Actors:Schedules:tick:Queue=jobs",
            "--Actors:Schedules:tick:Type=record", "--Actors:Schedules:tick:Payload:Sequence=0", "--Actors:Schedules:tick:Overlap=Allow",
        ]).Build().GetDurableQueuesOptions();

        var tick = Assert.Single(options.Schedules).Value;
        Assert.Equal("""{"Sequence":0}""", tick.Payload);
        Assert.Equal("PT1S", tick.Every);
        Assert.Equal(OverlapPolicy.Allow, tick.Overlap);
    }
}

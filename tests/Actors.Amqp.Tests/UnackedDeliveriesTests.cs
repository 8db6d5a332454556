namespace Actors.Amqp.Tests;

public sealed class UnackedDeliveriesTests
{
    [Fact]
    public void Tags_count_up_from_one_and_an_ack_takes_one_or_every_tag_up_to_it()
    {
        var unacked = new UnackedDeliveries<string>();
        Assert.Equal(1UL, unacked.Add("a"));
        Assert.Equal(2UL, unacked.Add("b"));
        Assert.Equal(3UL, unacked.Add("c"));
        Assert.Equal(4UL, unacked.Add("d"));
        Assert.Equal(["b"], unacked.Take(2, multiple: false));
        Assert.Equal(["a", "c"], unacked.Take(3, multiple: true));
        Assert.Equal(1, unacked.Count);
        Assert.Equal(["d"], unacked.TakeAll());
        Assert.Equal(0, unacked.Count);
    }

    [Fact]
    public void An_unknown_or_repeated_tag_is_406()
    {
        var unacked = new UnackedDeliveries<string>();
        var tag = unacked.Add("a");
        unacked.Take(tag, multiple: false);
        Assert.Equal(ReplyCodes.PreconditionFailed, Assert.Throws<AmqpChannelException>(() => unacked.Take(tag, multiple: false)).Code);
        Assert.Equal(ReplyCodes.PreconditionFailed, Assert.Throws<AmqpChannelException>(() => unacked.Take(9, multiple: true)).Code);
        Assert.Empty(unacked.Take(0, multiple: true));
    }
}

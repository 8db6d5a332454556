namespace Actors.Amqp;

/// <summary>
/// A channel's deliveries that wait for the client's <c>basic.ack</c>, <c>basic.nack</c> or <c>basic.reject</c>: each
/// gets the next delivery tag (1, 2, …, per channel), and an acknowledgement takes one tag or, with <c>multiple</c>,
/// every tag up to it (tag 0 with <c>multiple</c>: all). A tag that is not outstanding is the client's error
/// (406 PRECONDITION_FAILED, as RabbitMQ answers). Not thread-safe: the channel uses it under its lock (deliveries are
/// added from consumer actors, acknowledgements taken from the read loop).
/// </summary>
/// <typeparam name="T">What the channel needs to report on a delivery (queue, message id, attempt, where to report).</typeparam>
internal sealed class UnackedDeliveries<T>
{
    private readonly SortedDictionary<ulong, T> _outstanding = [];
    private ulong _last;

    /// <summary>Deliveries outstanding.</summary>
    public int Count => _outstanding.Count;

    /// <summary>Records a delivery and returns its tag.</summary>
    public ulong Add(T delivery)
    {
        _outstanding.Add(++_last, delivery);
        return _last;
    }

    /// <summary>The next tag for a delivery that needs no acknowledgement (a no-ack consumer's).</summary>
    public ulong Skip() => ++_last;

    /// <summary>Takes the delivery <paramref name="tag"/>, or with <paramref name="multiple"/> every one up to it, in tag order.</summary>
    /// <exception cref="AmqpChannelException">406: the tag is not outstanding.</exception>
    public IReadOnlyList<T> Take(ulong tag, bool multiple)
    {
        if (!multiple)
        {
            if (!_outstanding.Remove(tag, out var one))
                throw new AmqpChannelException(ReplyCodes.PreconditionFailed, ReplyCodes.Text(ReplyCodes.PreconditionFailed, $"unknown delivery tag {tag}"));
            return [one];
        }
        if (tag != 0 && !_outstanding.ContainsKey(tag))
            throw new AmqpChannelException(ReplyCodes.PreconditionFailed, ReplyCodes.Text(ReplyCodes.PreconditionFailed, $"unknown delivery tag {tag}"));
        var taken = new List<T>();
        var keys = new List<ulong>();
        foreach (var (key, value) in _outstanding)
        {
            if (tag != 0 && key > tag) break;
            keys.Add(key);
            taken.Add(value);
        }
        foreach (var key in keys) _outstanding.Remove(key);
        return taken;
    }

    /// <summary>Takes every outstanding delivery (the channel closes, or <c>basic.recover</c>).</summary>
    public IReadOnlyList<T> TakeAll() => Take(0, multiple: true);
}

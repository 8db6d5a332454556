using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Actors.Amqp;

/// <summary>The exchange types the server routes with.</summary>
public enum ExchangeType
{
    /// <summary>To every queue bound with the message's routing key.</summary>
    Direct,
    /// <summary>To every bound queue, whatever the routing key.</summary>
    Fanout,
}

/// <summary>One exchange: its type and bindings (queue, routing key).</summary>
/// <param name="Name">The exchange's name.</param>
/// <param name="Type">How it routes.</param>
/// <param name="Bindings">The bound queues with their binding keys.</param>
public sealed record AmqpExchange(string Name, ExchangeType Type, ImmutableHashSet<(string Queue, string Key)> Bindings);

/// <summary>
/// The node's exchanges and bindings, shared by every connection: the default exchange (<c>""</c>, routing to the
/// queue named by the routing key), <c>amq.direct</c> and <c>amq.fanout</c>, and those declared by clients. Held in
/// memory: declared exchanges and bindings last until the node stops, so clients declare them again on connect (as
/// most RabbitMQ clients do).
/// </summary>
public sealed class AmqpExchanges
{
    private readonly ConcurrentDictionary<string, AmqpExchange> _exchanges = new(StringComparer.Ordinal);

    /// <summary>The exchanges with <c>amq.direct</c> and <c>amq.fanout</c> declared.</summary>
    public AmqpExchanges()
    {
        _exchanges["amq.direct"] = new AmqpExchange("amq.direct", ExchangeType.Direct, []);
        _exchanges["amq.fanout"] = new AmqpExchange("amq.fanout", ExchangeType.Fanout, []);
    }

    /// <summary>Parses an exchange type name; false for types the server does not route with (topic, headers).</summary>
    public static bool TryParseType(string name, out ExchangeType type)
    {
        switch (name)
        {
            case "direct": type = ExchangeType.Direct; return true;
            case "fanout": type = ExchangeType.Fanout; return true;
            default: type = default; return false;
        }
    }

    /// <summary>The exchange, or null. The default exchange (<c>""</c>) is not listed.</summary>
    public AmqpExchange? Find(string name) => _exchanges.TryGetValue(name, out var exchange) ? exchange : null;

    /// <summary>Declares an exchange; false when one of that name exists with another type.</summary>
    public bool Declare(string name, ExchangeType type)
    {
        var exchange = _exchanges.GetOrAdd(name, n => new AmqpExchange(n, type, []));
        return exchange.Type == type;
    }

    /// <summary>Deletes an exchange; false when it does not exist.</summary>
    public bool Delete(string name) => _exchanges.TryRemove(name, out _);

    /// <summary>Binds a queue; false when the exchange does not exist.</summary>
    public bool Bind(string exchange, string queue, string key) => Update(exchange, e => e with { Bindings = e.Bindings.Add((queue, key)) });

    /// <summary>Unbinds a queue; false when the exchange does not exist.</summary>
    public bool Unbind(string exchange, string queue, string key) => Update(exchange, e => e with { Bindings = e.Bindings.Remove((queue, key)) });

    /// <summary>
    /// The queues a message published to <paramref name="exchange"/> with <paramref name="routingKey"/> goes to (each
    /// once); null when the exchange does not exist.
    /// </summary>
    public IReadOnlyList<string>? Route(string exchange, string routingKey)
    {
        if (exchange.Length == 0) return [routingKey];
        if (!_exchanges.TryGetValue(exchange, out var found)) return null;
        var queues = new List<string>();
        foreach (var (queue, key) in found.Bindings)
            if ((found.Type == ExchangeType.Fanout || key == routingKey) && !queues.Contains(queue)) queues.Add(queue);
        return queues;
    }

    private bool Update(string name, Func<AmqpExchange, AmqpExchange> change)
    {
        while (_exchanges.TryGetValue(name, out var current))
            if (_exchanges.TryUpdate(name, change(current), current)) return true;
        return false;
    }
}

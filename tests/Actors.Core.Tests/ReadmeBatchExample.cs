using Actors.Handlers;

namespace Actors.Core.Tests.Readme;

internal sealed record LogLine(string Service, string Text);

internal interface ILogStore
{
    /// <summary>Appends the lines in one round trip; returns the indexes of the lines it refused.</summary>
    Task<IReadOnlyList<int>> AppendAsync(IReadOnlyList<LogLine> lines, CancellationToken cancellationToken);
}

internal sealed class LogBatchHandler(ILogStore store) : IBatchMessageHandler<LogLine>   // resolved from DI per batch
{
    public async ValueTask HandleAsync(MessageBatch<LogLine> batch, CancellationToken cancellationToken)
    {
        var refused = await store.AppendAsync(batch.Select(item => item.Payload).ToList(), cancellationToken);
        foreach (var index in refused) batch[index].Fail(new InvalidDataException("The log store refused the line.")); // retried alone
        batch.SucceedRemaining(); // the others complete; a message left unreported fails, an exception fails them all
    }
}

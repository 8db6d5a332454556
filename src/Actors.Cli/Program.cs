namespace Actors.Cli;

/// <summary>The <c>actors</c> executable: <see cref="Cli.RunAsync"/> on the console, Ctrl-C as cancellation.</summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // The first Ctrl-C ends the command (a --watch loop, a request); a second one ends the process.
            if (cancel.IsCancellationRequested) return;
            e.Cancel = true;
            cancel.Cancel();
        };
        return await Cli.RunAsync(args, Console.Out, Console.Error, interactive: !Console.IsOutputRedirected, cancellationToken: cancel.Token).ConfigureAwait(false);
    }
}

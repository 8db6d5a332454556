using System.CommandLine;
using Actors.Cli.Commands;

namespace Actors.Cli;

/// <summary>
/// The <c>actors</c> command line: operator commands against a node's HTTP API. <see cref="RunAsync"/> is the whole
/// program with its console, environment and HTTP client passed in, so it runs in process as well as from
/// <c>Main</c>. Exit codes: <see cref="ExitCodes"/>.
/// </summary>
public static class Cli
{
    /// <summary>Parses <paramref name="args"/> and runs the command; the exit code (see <see cref="ExitCodes"/>).</summary>
    /// <param name="args">The command line, without the program name.</param>
    /// <param name="output">Where results go (tables, or JSON with <c>--json</c>).</param>
    /// <param name="error">Where errors and usage problems go.</param>
    /// <param name="http">The client to reach the node with; its <see cref="HttpClient.BaseAddress"/> is the node's URL unless <c>--url</c> or <c>ACTORS_URL</c> gives one. Null: a new client.</param>
    /// <param name="environment">Reads an environment variable (<c>ACTORS_URL</c>, <c>ACTORS_API_KEY</c>); null: the process environment.</param>
    /// <param name="input">Standard input, read by <c>enqueue … -</c>; null: the console's.</param>
    /// <param name="interactive">Output is a terminal: <c>stats --watch</c> redraws the screen instead of appending.</param>
    /// <param name="cancellationToken">Ctrl-C: ends <c>--watch</c> and any request under way.</param>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, HttpClient? http = null,
        Func<string, string?>? environment = null, TextReader? input = null, bool interactive = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var session = new Session(output, error, input ?? Console.In, http, environment ?? Environment.GetEnvironmentVariable, interactive);
        var root = new RootCommand("Operate an Actors node over its HTTP API: queues, messages, dead letters, ordering keys, schedules, the cluster and backups.\n"
            + "Exit codes: 0 ok, 1 usage, 2 not found, 3 refused or conflict, 4 authentication or permission, 5 node unavailable, 130 interrupted.");
        root.Add(session.Url);
        root.Add(session.ApiKey);
        root.Add(session.Json);
        foreach (var command in QueueCommands.Create(session)) root.Add(command);
        root.Add(DeadLetterCommands.Create(session));
        root.Add(KeyCommands.Create(session));
        foreach (var command in PauseCommands.Create(session)) root.Add(command);
        foreach (var command in QueueLifecycleCommands.Create(session)) root.Add(command);
        root.Add(ScheduleCommands.Create(session));
        root.Add(ClusterCommands.Create(session));
        root.Add(BackupCommand.Create(session));
        // No response files: an argument that starts with @ is a payload file (enqueue … @file), read by the command.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null }, cancellationToken).ConfigureAwait(false);
    }
}

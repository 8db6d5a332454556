using System.CommandLine;

namespace Actors.Cli;

/// <summary>
/// One run of the CLI: where it writes, how it reaches the node, and the options every command shares
/// (<c>--url</c>, <c>--api-key</c>, <c>--json</c>). A command's action runs through <see cref="Run"/>, which turns
/// a <see cref="CliException"/> into its message on standard error and its exit code.
/// </summary>
internal sealed class Session(TextWriter output, TextWriter error, TextReader input, HttpClient? http, Func<string, string?> environment, bool interactive)
{
    /// <summary>The node's address when neither <c>--url</c> nor <c>ACTORS_URL</c> gives one (the node's own default).</summary>
    public const string DefaultUrl = "http://localhost:5080";

    /// <summary>The node's base URL.</summary>
    public Option<string?> Url { get; } = new("--url") { Description = $"The node's base URL [env: ACTORS_URL; default: {DefaultUrl}]", Recursive = true };

    /// <summary>The API key, sent as a bearer token.</summary>
    public Option<string?> ApiKey { get; } = new("--api-key") { Description = "The API key, sent as a bearer token [env: ACTORS_API_KEY]", Recursive = true };

    /// <summary>Print the node's JSON instead of a table.</summary>
    public Option<bool> Json { get; } = new("--json") { Description = "Print JSON for scripts instead of tables", Recursive = true };

    /// <summary>Sets <paramref name="command"/>'s action to <paramref name="body"/>, run through <see cref="Run"/>.</summary>
    public void Handle(Command command, Func<Invocation, Task> body) =>
        command.SetAction((parse, cancellationToken) => Run(parse, body, cancellationToken));

    /// <summary>Runs a command's body: 0 when it returns, the failure's code (with its message on standard error) when it throws.</summary>
    public async Task<int> Run(ParseResult parse, Func<Invocation, Task> body, CancellationToken cancellationToken)
    {
        HttpClient? owned = null;
        try
        {
            var baseUri = BaseUri(parse.GetValue(Url) ?? environment("ACTORS_URL") ?? http?.BaseAddress?.ToString() ?? DefaultUrl);
            var client = http ?? (owned = new HttpClient { Timeout = TimeSpan.FromMinutes(10) });
            var key = parse.GetValue(ApiKey) ?? environment("ACTORS_API_KEY");
            await body(new Invocation(parse, new NodeApi(client, baseUri, key), output, input, parse.GetValue(Json), interactive, cancellationToken)).ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        catch (CliException e)
        {
            await error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            return e.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync("interrupted").ConfigureAwait(false);
            return ExitCodes.Interrupted;
        }
        finally
        {
            owned?.Dispose();
        }
    }

    private static Uri BaseUri(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new CliException(ExitCodes.Usage, $"'{url}' is not an http(s) URL; give the node's address with --url or ACTORS_URL, e.g. {DefaultUrl}");
        return uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
    }
}

/// <summary>What a command's body works with: its parsed command line, the node, the writers, and <c>--json</c>.</summary>
internal sealed record Invocation(ParseResult Parse, NodeApi Api, TextWriter Out, TextReader In, bool Json, bool Interactive, CancellationToken Cancellation)
{
    /// <summary>An option's value.</summary>
    public T? Value<T>(Option<T> option) => Parse.GetValue(option);

    /// <summary>An argument's value.</summary>
    public T Value<T>(Argument<T> argument) => Parse.GetValue(argument)!;
}

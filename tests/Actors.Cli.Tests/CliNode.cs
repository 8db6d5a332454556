using Actors.Http.Security;
using Actors.Node.Tests;

namespace Actors.Cli.Tests;

/// <summary>
/// One in-process node behind an API key, and the CLI run against it in process: <see cref="Run"/> hands the CLI the
/// node's <see cref="HttpClient"/> and an empty environment, and returns the exit code with both outputs.
/// </summary>
public sealed class CliNode : IAsyncLifetime
{
    /// <summary>The admin key the node accepts.</summary>
    public const string Key = "cli-tests-admin-key";

    /// <summary>A key that may only read.</summary>
    public const string ReaderKey = "cli-tests-reader-key";

    private readonly NodeFactory _node = new(new Dictionary<string, string?>
    {
        ["Actors:Auth:Keys:ops:Hash"] = ApiKeys.Hash(Key),
        ["Actors:Auth:Keys:ops:Permissions:0"] = "admin",
        ["Actors:Auth:Keys:reader:Hash"] = ApiKeys.Hash(ReaderKey),
        ["Actors:Auth:Keys:reader:Permissions:0"] = "read:*",
        // No handler for its types and one attempt: a message is dead-lettered at once.
        ["Actors:Queues:dlq:Retry:MaxAttempts"] = "1",
        ["Actors:Queues:keyed:Workers"] = "1",
        ["Actors:Queues:pausable:Workers"] = "1",
    });

    /// <summary>A client of the node (no credentials of its own: the CLI adds the key).</summary>
    public HttpClient Http { get; private set; } = null!;

    /// <summary>The node's data directory.</summary>
    public string DataDirectory => _node.DataDirectory;

    /// <inheritdoc />
    public Task InitializeAsync()
    {
        Http = _node.CreateClient();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        Http.Dispose();
        await _node.DisposeAsync();
    }

    /// <summary>Runs <c>actors</c> with <paramref name="args"/> and the admin key.</summary>
    public Task<CliRun> Run(params string[] args) => RunWith(new Dictionary<string, string?>(), null, [.. args, "--api-key", Key]);

    /// <summary>Runs <c>actors</c> with exactly <paramref name="args"/>, the given environment and standard input.</summary>
    public async Task<CliRun> RunWith(IReadOnlyDictionary<string, string?> environment, string? input, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var reader = new StringReader(input ?? "");
        var code = await Cli.RunAsync(args, output, error, Http, name => environment.GetValueOrDefault(name), reader);
        return new CliRun(code, output.ToString(), error.ToString());
    }
}

/// <summary>What one run of the CLI gave: its exit code, standard output and standard error.</summary>
public sealed record CliRun(int Code, string Out, string Error)
{
    /// <summary>Asserts exit code 0 and returns standard output.</summary>
    public string Ok()
    {
        Assert.True(Code == 0, $"exit {Code}: {Error}{Out}");
        return Out;
    }

    /// <summary>Standard output parsed as JSON, after asserting exit code 0.</summary>
    public System.Text.Json.Nodes.JsonNode Json() => System.Text.Json.Nodes.JsonNode.Parse(Ok())!;
}

namespace Actors.Node.Tests;

/// <summary>The README's code that users copy is the code the solution builds.</summary>
public sealed class ReadmeTests
{
    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Actors.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException($"No Actors.sln above {AppContext.BaseDirectory}.");
    }

    [Fact]
    public void The_embedding_example_is_the_sample_project_that_the_solution_builds()
    {
        var root = RepositoryRoot();
        var readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        var sample = File.ReadAllText(Path.Combine(root, "src", "Actors.Samples.Embedded", "Program.cs")).ReplaceLineEndings("\n");
        var section = readme[readme.IndexOf("\n## Embedding\n", StringComparison.Ordinal)..];
        var start = section.IndexOf("```csharp\n", StringComparison.Ordinal) + "```csharp\n".Length;
        var quoted = section[start..section.IndexOf("```\n", start, StringComparison.Ordinal)];
        Assert.Equal(sample, quoted);
    }

    [Fact]
    public void The_batch_handler_example_is_the_one_the_tests_run()
    {
        var root = RepositoryRoot();
        var readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        var example = File.ReadAllText(Path.Combine(root, "tests", "Actors.Core.Tests", "ReadmeBatchExample.cs")).ReplaceLineEndings("\n")
            .Replace("namespace Actors.Core.Tests.Readme;\n\n", "", StringComparison.Ordinal);
        var section = readme[readme.IndexOf("\n### Batch handlers\n", StringComparison.Ordinal)..];
        var start = section.IndexOf("```csharp\n", StringComparison.Ordinal) + "```csharp\n".Length;
        var quoted = section[start..section.IndexOf("```\n", start, StringComparison.Ordinal)];
        Assert.Equal(example, quoted);
    }
}

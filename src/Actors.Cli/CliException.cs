namespace Actors.Cli;

/// <summary>A command that cannot go on: the message for standard error and the exit code (see <see cref="ExitCodes"/>).</summary>
internal sealed class CliException(int exitCode, string message) : Exception(message)
{
    /// <summary>The process exit code this failure maps to.</summary>
    public int ExitCode { get; } = exitCode;
}

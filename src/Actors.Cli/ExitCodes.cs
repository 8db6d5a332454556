namespace Actors.Cli;

/// <summary>
/// The exit codes of <c>actors</c>, stable for scripts: each names the class of outcome, whatever the command.
/// </summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Ok = 0;

    /// <summary>Usage: a bad command line, an unreadable payload, or a request the node calls malformed (HTTP 400, 415).</summary>
    public const int Usage = 1;

    /// <summary>Not found: the queue, message, dead letter, schedule or redrive job does not exist (HTTP 404).</summary>
    public const int NotFound = 2;

    /// <summary>Refused or conflict: the node would not do it (HTTP 409, 413, 422, 429), e.g. a key that is not parked or a full queue.</summary>
    public const int Refused = 3;

    /// <summary>Authentication or permission: no key, a wrong key, or a key without the permission (HTTP 401, 403).</summary>
    public const int Auth = 4;

    /// <summary>Unavailable: the node cannot be reached, timed out, or answers 5xx (journal unavailable, shutting down).</summary>
    public const int Unavailable = 5;

    /// <summary>Interrupted by Ctrl-C before the command finished (the shell's 128 + SIGINT); <c>stats --watch</c> ends with <see cref="Ok"/> instead.</summary>
    public const int Interrupted = 130;

    /// <summary>The exit code for an HTTP error status of the node.</summary>
    public static int ForStatus(int status) => status switch
    {
        400 or 415 => Usage,
        401 or 403 => Auth,
        404 => NotFound,
        409 or 413 or 422 or 429 => Refused,
        >= 500 => Unavailable,
        _ => Refused,
    };
}

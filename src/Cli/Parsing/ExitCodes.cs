namespace NativeSeg.Cli.Parsing;

/// <summary>
/// The one exit-code scheme of every command, documented in `nativeseg --help` and the README: scripts can tell a
/// mistake in the command line from a run that failed and from one that was stopped.
/// </summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The run started and something failed: an unreadable image, a diverged training, a kernel check.</summary>
    public const int Failure = 1;

    /// <summary>The command line or an input named on it is wrong; nothing was run or written.</summary>
    public const int Usage = 2;

    /// <summary>Stopped by Ctrl+C or SIGTERM after saving what was finished (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;

    public const string Summary = "exit codes: 0 success, 1 a run that failed, 2 a wrong command line or input (nothing run), 130 interrupted (finished work kept)";
}

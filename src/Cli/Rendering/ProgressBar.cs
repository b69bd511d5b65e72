namespace NativeSeg.Cli.Rendering;

/// <summary>
/// A text progress bar for one line per finished item: readable in a terminal and in a log file alike,
/// which a bar redrawn in place with carriage returns is not.
/// </summary>
internal static class ProgressBar
{
    private const int Width = 20;

    public static string Format(int finished, int total, TimeSpan elapsed)
    {
        int filled = total <= 0 ? Width : (int)((long)Math.Clamp(finished, 0, total) * Width / total);
        string eta = finished <= 0 || finished >= total
            ? ""
            : $", {elapsed.TotalSeconds / finished * (total - finished):F0} s left";
        return $"[{new string('#', filled)}{new string('.', Width - filled)}] {finished}/{total}{eta}";
    }
}

namespace NativeSeg.Fuzz;

/// <summary>
/// The one file per process that the path-taking readers (memory-mapped checkpoints, COCO JSON) get their
/// input through. It lives under the temporary folder, which build/fuzz.sh points into the run's output;
/// a replay deletes it when done.
/// </summary>
public static class ScratchFile
{
    private static readonly string Folder = Path.Combine(Path.GetTempPath(), $"nativeseg-fuzz-{Environment.ProcessId}");

    public static string Write(byte[] input, string name)
    {
        Directory.CreateDirectory(Folder);
        string path = Path.Combine(Folder, name);
        File.WriteAllBytes(path, input);
        return path;
    }

    public static void Delete()
    {
        if (Directory.Exists(Folder)) Directory.Delete(Folder, recursive: true);
    }
}

using SharpFuzz;

namespace NativeSeg.Fuzz;

/// <summary>
/// "TARGET": serve afl-fuzz (build/fuzz.sh starts it so). "TARGET --replay FILE|FOLDER...": run inputs once
/// in this process and say of each whether it was accepted, refused (and why) or crashed, to reproduce a
/// finding or check a corpus; exits 1 if any crashed. "list": the target names.
/// </summary>
public static class FuzzCommand
{
    public static int Run(string[] args)
    {
        if (args is ["list"])
        {
            foreach (var t in FuzzTargets.All) Console.WriteLine(t.Name);
            return 0;
        }
        if (args.Length == 0 || FuzzTargets.Find(args[0]) is not { } target)
        {
            Console.Error.WriteLine($"usage: NativeSeg.Fuzz list | TARGET [--replay FILE|FOLDER...]; targets: {string.Join(", ", FuzzTargets.All.Select(t => t.Name))}");
            return 2;
        }
        if (args.Length == 1)
        {
            // Out of process, so that a native crash in libspng or TurboJPEG is reported as a crash of that
            // input instead of ending the fork server.
            Fuzzer.OutOfProcess.Run(stream =>
            {
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                _ = target.Run(copy.ToArray());
            });
            return 0;
        }
        if (args[1] != "--replay" || args.Length == 2)
        {
            Console.Error.WriteLine("usage: NativeSeg.Fuzz TARGET --replay FILE|FOLDER...");
            return 2;
        }
        return Replay(target, args[2..]);
    }

    private static int Replay(FuzzTarget target, string[] paths)
    {
        var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p).Order() : (IEnumerable<string>)[p]).ToList();
        int crashes = 0;
        try
        {
            foreach (string file in files)
            {
                try
                {
                    var refusal = target.Run(File.ReadAllBytes(file));
                    Console.WriteLine(refusal is null ? $"accepted {file}" : $"refused  {file}: {refusal.Message}");
                }
                catch (Exception e)
                {
                    crashes++;
                    Console.WriteLine($"CRASH {file}: {e.GetType().FullName}: {e.Message}");
                    Console.WriteLine(e.StackTrace);
                }
            }
        }
        finally
        {
            ScratchFile.Delete();
        }
        Console.WriteLine($"{target.Name}: {files.Count} inputs, {crashes} crashed");
        return crashes == 0 ? 0 : 1;
    }
}

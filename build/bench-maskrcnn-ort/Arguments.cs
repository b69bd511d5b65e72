namespace BenchMaskRcnnOrt;

internal sealed record Arguments(string Model, int Threads, string Json, IReadOnlyList<string> Images)
{
    private const string Usage = "usage: bench-maskrcnn-ort --model MODEL.onnx [--threads T] --json OUT.json IMAGE...";

    public static Arguments Parse(string[] args)
    {
        string? model = null, json = null;
        int threads = 2;
        var images = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--model": model = Value(args, ref i); break;
                case "--json": json = Value(args, ref i); break;
                case "--threads":
                    if (!int.TryParse(Value(args, ref i), out threads) || threads < 1) Fail($"--threads must be a positive integer, got '{args[i]}'");
                    break;
                default: images.Add(args[i]); break;
            }
        }
        if (model is null || json is null || images.Count == 0) Fail(Usage);
        return new Arguments(model!, threads, json!, images);
    }

    private static string Value(string[] args, ref int i)
    {
        if (i + 1 >= args.Length) Fail($"{args[i]} needs a value; {Usage}");
        return args[++i];
    }

    private static void Fail(string message)
    {
        Console.Error.WriteLine(message);
        Environment.Exit(2);
    }
}

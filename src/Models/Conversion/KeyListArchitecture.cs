using System.Reflection;

namespace NativeSeg.Models.Conversion;

/// <summary>
/// An architecture whose expected keys come from an embedded key list (Keys/*.txt, copied from the
/// specs: one <c>key [d0, d1, ...]</c> per line, <c>#</c> lines are comments).
/// </summary>
public sealed class KeyListArchitecture : IArchitecture
{
    private readonly Func<string, string?> _map;
    private readonly Lazy<IReadOnlyDictionary<string, int[]>> _keys;

    public KeyListArchitecture(string name, string keyList, string family, Func<string, string?> map)
    {
        Name = name;
        _map = map;
        _keys = new(() => Read(keyList));
        ConfigJson = new System.Text.Json.Nodes.JsonObject { ["family"] = family, ["key_list"] = keyList }.ToJsonString();
    }

    public string Name { get; }

    public string ConfigJson { get; }

    public IReadOnlyDictionary<string, int[]> ExpectedKeys => _keys.Value;

    public string? MapKey(string checkpointKey) => _map(checkpointKey);

    /// <summary>The keys and shapes of an embedded key list, in its order.</summary>
    public static IReadOnlyDictionary<string, int[]> Read(string keyList)
    {
        string resource = $"NativeSeg.Models.Conversion.Keys.{keyList}";
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"key list {keyList} is not embedded in the build");
        using var reader = new StreamReader(stream);
        var keys = new Dictionary<string, int[]>(StringComparer.Ordinal);
        int number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (line.Length == 0 || line.StartsWith('#')) continue;
            int open = line.IndexOf(" [", StringComparison.Ordinal);
            if (open < 0 || !line.EndsWith(']')) throw new InvalidDataException($"{keyList} line {number}: expected 'key [shape]'");
            string inner = line[(open + 2)..^1];
            int[] shape = inner.Length == 0 ? [] : inner.Split(',').Select(s => int.Parse(s.Trim(), System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            keys.Add(line[..open], shape);
        }
        return keys;
    }
}

using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace NativeSeg.Tests.Models;

/// <summary>
/// No model family's source names another family's namespace, and the shared detection code names none: what
/// families share lives in src/Models/Detection, and what joins them (the architecture registry) sits above them.
/// </summary>
public partial class FamilyIndependenceTests
{
    private static readonly string[] Families = ["MaskRcnn", "Bcnet", "BlendMask", "Bpr"];

    /// <summary>Folders every family may use, which therefore may use none.</summary>
    private static readonly string[] Shared = ["Detection", "Fcos", "Preprocessing"];

    [Fact]
    public void NoFamilyFolderNamesAnotherFamily()
    {
        var violations = new List<string>();
        foreach (string family in Families)
            violations.AddRange(Scan(family, Families.Where(f => f != family).ToArray()));
        foreach (string shared in Shared)
            violations.AddRange(Scan(shared, Families));
        Assert.True(violations.Count == 0, "family folders name other families:\n" + string.Join("\n", violations));
    }

    [Theory]
    [InlineData("using NativeSeg.Models.MaskRcnn;", true)]
    [InlineData("using Op = NativeSeg.Models.Bcnet.BilayerMaskHead;", true)]
    [InlineData("var head = Bcnet.BcnetArchitecture.R50;", true)]
    [InlineData("var ids = Models.MaskRcnn.MaskRcnnConfig.Coco80;", true)]
    [InlineData("// only a comment on NativeSeg.Models.MaskRcnn", false)]
    [InlineData("var name = \"Bcnet.Load\";", false)]
    [InlineData("var config = MaskRcnnConfig.Detectron2Coco();", false)]
    public void TheScanFindsNamespaceReferencesOnly(string line, bool found) =>
        Assert.Equal(found, References(line, ["MaskRcnn", "Bcnet"]).Any());

    private static IEnumerable<string> Scan(string folder, string[] forbidden)
    {
        string root = Path.Combine(ModelsSource(), folder);
        if (!Directory.Exists(root)) yield break;
        foreach (string file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
                foreach (string family in References(lines[i], forbidden))
                    yield return $"{Path.GetRelativePath(ModelsSource(), file)}:{i + 1} names {family}";
        }
    }

    /// <summary>The forbidden families a line of code names as a namespace (fully or from NativeSeg.Models), comments and strings aside.</summary>
    private static IEnumerable<string> References(string line, string[] forbidden)
    {
        string code = StringLiteral().Replace(line, "\"\"");
        int comment = code.IndexOf("//", StringComparison.Ordinal);
        if (comment >= 0) code = code[..comment];
        return forbidden.Where(f => Regex.IsMatch(code, $@"(?<![\w.])((NativeSeg\.)?Models\.)?{f}\s*[.;]"));
    }

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex StringLiteral();

    private static string ModelsSource([CallerFilePath] string source = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", "..", "..", "src", "Models"));
}

using System.Globalization;

namespace NativeSeg.Tests.Native;

/// <summary>
/// Instances as the C example prints them (category, score, box, mask area, mask FNV-1a hash), compared with
/// the bounds the native-host issue sets: boxes within 0.01 px, scores within 1e-5, identical masks.
/// </summary>
internal static class InstanceLines
{
    public sealed record Line(int CategoryId, double Score, double X1, double Y1, double X2, double Y2, long Area, string MaskHash);

    public static List<Line> Parse(IEnumerable<string> lines) => lines.Where(l => l.Length > 0).Select(l =>
    {
        var f = l.Split(' ');
        double D(int i) => double.Parse(f[i], CultureInfo.InvariantCulture);
        return new Line(int.Parse(f[0], CultureInfo.InvariantCulture), D(1), D(2), D(3), D(4), D(5), long.Parse(f[6], CultureInfo.InvariantCulture), f[7]);
    }).ToList();

    /// <summary>The CLI rounds boxes to 0.01 px and scores to 1e-5 in its JSON, so the bounds allow for that rounding too.</summary>
    public static void AssertSame(List<Line> expected, List<Line> actual)
    {
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            var (c, n) = (expected[i], actual[i]);
            Assert.Equal(c.CategoryId, n.CategoryId);
            Assert.True(Math.Abs(c.Score - n.Score) <= 1e-5, $"instance {i}: score {n.Score} vs the expected {c.Score}");
            foreach (var (a, b) in new[] { (c.X1, n.X1), (c.Y1, n.Y1), (c.X2, n.X2), (c.Y2, n.Y2) })
                Assert.True(Math.Abs(a - b) <= 0.01 + 1e-3, $"instance {i}: box ({n.X1}, {n.Y1}, {n.X2}, {n.Y2}) vs the expected ({c.X1}, {c.Y1}, {c.X2}, {c.Y2})");
            Assert.Equal(c.Area, n.Area);
            Assert.Equal(c.MaskHash, n.MaskHash);
        }
    }

    public static string Fnv1a(byte[] bytes)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in bytes) hash = (hash ^ b) * 1099511628211UL;
        return hash.ToString("x16", CultureInfo.InvariantCulture);
    }
}

using System.Globalization;

namespace NativeSeg.Cli.Commands;

/// <summary>
/// One line of `bench model`'s table: a stage's median, min and max ms, its share of the end-to-end median, and where
/// it ran GEMM-shaped kernels, its FLOPs per run and the rate they ran at, also as fractions of the ceilings.
/// </summary>
internal sealed record StageRow(string Stage, double Median, double Min, double Max, double Share, long Flops,
    double? GflopsPerSecond, double? OfSgemm, double? OfPanel)
{
    public static StageRow Of(string stage, double[] samples, long flops, double endToEndMedian, ComputeCeilings? ceilings)
    {
        var (median, min, max) = BenchModelCommand.Summary(samples);
        double? rate = flops > 0 && median > 0 ? flops / (median * 1e6) : null;
        return new StageRow(stage, median, min, max, endToEndMedian > 0 ? median / endToEndMedian : 0, flops, rate,
            rate / ceilings?.Sgemm.GflopsPerSecond, rate / ceilings?.PanelKernel?.GflopsPerSecond);
    }

    public string Text => string.Create(CultureInfo.InvariantCulture,
        $"{Stage,-14}  {Median,10:0.00}  {Min,9:0.00}  {Max,9:0.00}  {100 * Share,5:0.0}%  {Gflop,8}  {Rate,8}  {Percent(OfSgemm),6}  {Percent(OfPanel),6}");

    private string Gflop => Flops > 0 ? (Flops / 1e9).ToString("0.00", CultureInfo.InvariantCulture) : "-";

    private string Rate => GflopsPerSecond is double rate ? rate.ToString("0.0", CultureInfo.InvariantCulture) : "-";

    private static string Percent(double? fraction) => fraction is double f ? (100 * f).ToString("0.0", CultureInfo.InvariantCulture) : "-";
}

using System.Globalization;
using System.Text;
using System.Text.Json;

namespace NativeSeg.Models.Evaluation;

/// <summary>Accumulated precision/recall and COCOeval's twelve summary numbers.</summary>
public sealed class EvaluationResult
{
    public static readonly string[] StatNames = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"];

    private readonly EvaluationSubset[] _subsets;
    private readonly int _categories;
    private readonly double[] _precision;   // [T, R, K, A, M], −1 where a category has no ground truth in the subset
    private readonly double[] _recall;      // [T, K, A, M]

    internal EvaluationResult(IouType iouType, EvaluationSubset[] subsets, int categories, double[] precision, double[] recall, long[] groundTruthCounts)
    {
        IouType = iouType;
        _subsets = subsets;
        _categories = categories;
        _precision = precision;
        _recall = recall;
        Stats =
        [
            Summarize(true, null, "all", 100),
            Summarize(true, 0.5, "all", 100),
            Summarize(true, 0.75, "all", 100),
            Summarize(true, null, "small", 100),
            Summarize(true, null, "medium", 100),
            Summarize(true, null, "large", 100),
            Summarize(false, null, "all", 1),
            Summarize(false, null, "all", 10),
            Summarize(false, null, "all", 100),
            Summarize(false, null, "small", 100),
            Summarize(false, null, "medium", 100),
            Summarize(false, null, "large", 100),
        ];
        Occlusion = subsets.Where(s => s.UsesOcclusion)
            .Select(s => new OcclusionAp(s.Label, Summarize(true, null, s.Label, 100), groundTruthCounts[Array.IndexOf(subsets, s)]))
            .ToArray();
    }

    public IouType IouType { get; }

    /// <summary>COCOeval.stats: AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl; −1 where undefined.</summary>
    public IReadOnlyList<double> Stats { get; }

    /// <summary>AP over each occlusion subset and how many non-crowd ground-truth instances it holds; empty for bbox.</summary>
    public IReadOnlyList<OcclusionAp> Occlusion { get; }

    public sealed record OcclusionAp(string Label, double Ap, long Instances);

    /// <summary>
    /// _summarize: mean (numpy's pairwise sum) of the entries above −1, taken in the array's C order; −1 if none.
    /// </summary>
    private double Summarize(bool ap, double? iouThreshold, string subset, int maxDets)
    {
        var thresholds = EvaluationParams.IouThresholds;
        int T = thresholds.Length, R = EvaluationParams.RecallThresholds.Length, K = _categories, A = _subsets.Length;
        int M = EvaluationParams.MaxDetections.Length;
        int a = Array.FindIndex(_subsets, s => s.Label == subset);
        int m = Array.IndexOf(EvaluationParams.MaxDetections, maxDets);
        var values = new List<double>();
        for (int t = 0; t < T; t++)
        {
            if (iouThreshold is { } thr && thresholds[t] != thr) continue;
            if (ap)
            {
                for (int r = 0; r < R; r++)
                    for (int k = 0; k < K; k++)
                    {
                        double v = _precision[(((t * R + r) * K + k) * A + a) * M + m];
                        if (v > -1) values.Add(v);
                    }
            }
            else
            {
                for (int k = 0; k < K; k++)
                {
                    double v = _recall[((t * K + k) * A + a) * M + m];
                    if (v > -1) values.Add(v);
                }
            }
        }
        return values.Count == 0 ? -1 : NumpyMath.Mean(values.ToArray());
    }

    /// <summary>The lines COCOeval.summarize() prints, then the occlusion breakdown in the same layout.</summary>
    public string FormatSummary()
    {
        var sb = new StringBuilder();
        (bool Ap, double? Iou, string Area, int MaxDets)[] rows =
        [
            (true, null, "all", 100), (true, 0.5, "all", 100), (true, 0.75, "all", 100),
            (true, null, "small", 100), (true, null, "medium", 100), (true, null, "large", 100),
            (false, null, "all", 1), (false, null, "all", 10), (false, null, "all", 100),
            (false, null, "small", 100), (false, null, "medium", 100), (false, null, "large", 100),
        ];
        for (int i = 0; i < rows.Length; i++)
            sb.Append(Line(rows[i].Ap, rows[i].Iou, "area", rows[i].Area, rows[i].MaxDets, Stats[i])).Append('\n');
        foreach (var o in Occlusion)
            sb.Append(Line(true, null, "occl", o.Label["occl".Length..], 100, o.Ap))
              .Append(string.Create(CultureInfo.InvariantCulture, $"   ({o.Instances} instances)")).Append('\n');
        return sb.ToString();
    }

    private static string Line(bool ap, double? iou, string rangeName, string range, int maxDets, double value)
    {
        var c = CultureInfo.InvariantCulture;
        string title = ap ? "Average Precision" : "Average Recall";
        string type = ap ? "(AP)" : "(AR)";
        var thresholds = EvaluationParams.IouThresholds;
        string iouText = iou is { } v ? v.ToString("F2", c) : $"{thresholds[0].ToString("F2", c)}:{thresholds[^1].ToString("F2", c)}";
        return string.Create(c, $" {title,-18} {type} @[ IoU={iouText,-9} | {rangeName}={range,6} | maxDets={maxDets,3} ] = {value:F3}");
    }

    public void WriteJson(Stream stream)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("iou_type", IouType.ToString().ToLowerInvariant());
        w.WriteStartObject("stats");
        for (int i = 0; i < StatNames.Length; i++) w.WriteNumber(StatNames[i], Stats[i]);
        w.WriteEndObject();
        if (Occlusion.Count > 0)
        {
            w.WriteStartObject("occlusion");
            foreach (var o in Occlusion)
            {
                w.WriteStartObject(o.Label);
                w.WriteNumber("AP", o.Ap);
                w.WriteNumber("instances", o.Instances);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }
}

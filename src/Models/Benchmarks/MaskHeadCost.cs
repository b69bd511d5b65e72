using System.Diagnostics;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.Detection.MaskHeads;

namespace NativeSeg.Models.Benchmarks;

/// <summary>Times of the two mask heads on the same RoIs, and their multiply-accumulates per RoI at inference.</summary>
public sealed record MaskHeadCostResult(int Rois, int Runs, double StandardMs, double BilayerMs, double StandardGmacPerRoi, double BilayerGmacPerRoi)
{
    public double AddedMs => BilayerMs - StandardMs;

    public double Ratio => BilayerMs / StandardMs;
}

/// <summary>
/// What BCNet's bilayer head costs over Mask R-CNN's mask head (specs/bcnet.md §1.6) on the same pooled RoIs
/// [R, 256, 14, 14] on one device: both heads at the released width with random weights, since neither's cost
/// depends on the values, so any model (or none) can be measured.
/// </summary>
public static class MaskHeadCost
{
    private const int Width = 256, Pooled = 14, Side = 28, CocoClasses = 80;

    public static MaskHeadCostResult Measure(Device device, int rois, int runs, int warmup)
    {
        if (rois < 1 || runs < 1 || warmup < 0)
            throw new ArgumentException($"mask head cost: needs at least 1 RoI and 1 run and no negative warm-up, got {rois}, {runs}, {warmup}");
        var weights = RandomWeights();
        try
        {
            var store = new ParameterStore(weights, device);
            var config = MaskRcnnConfig.Detectron2Coco();
            using var standard = new MaskHead(store, config.Flavour.HeadNames, config);
            using var bilayer = new BilayerMaskHead(store, Width);
            using var pooled = RandomTensors.Uniform(device, 7, 0, 1, rois, Width, Pooled, Pooled);
            var labels = Enumerable.Range(0, rois).Select(r => r % CocoClasses).ToList();
            double standardMs = Median(device, runs, warmup, () => standard.Forward(pooled, labels));
            double bilayerMs = Median(device, runs, warmup, () => bilayer.Forward(pooled, labels));
            return new MaskHeadCostResult(rois, runs, standardMs, bilayerMs, StandardMacs() / 1e9, BilayerMacs() / 1e9);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    /// <summary>Four 3×3 convs at 14×14, the deconv to 28×28 and the 80-class 1×1 predictor.</summary>
    public static double StandardMacs() => 4 * Conv3x3() + Deconv() + (double)CocoClasses * Width * Side * Side;

    /// <summary>
    /// What inference runs of the bilayer head: eight 3×3 convs, two non-local blocks (four 1×1 transforms, QKᵀ and
    /// AV over 196 positions), the occludee deconv and its 1-channel predictor; the other three outputs are skipped.
    /// </summary>
    public static double BilayerMacs()
    {
        double positions = Pooled * Pooled;
        double nonLocal = 4.0 * Width * Width * positions + 2.0 * positions * positions * Width;
        return 8 * Conv3x3() + 2 * nonLocal + Deconv() + (double)Width * Side * Side;
    }

    private static double Conv3x3() => 9.0 * Width * Width * Pooled * Pooled;

    private static double Deconv() => 4.0 * Width * Width * Pooled * Pooled;

    /// <summary>Both heads' tensors under their checkpoint names, uniform in ±0.05, running variances in [0.5, 1.5].</summary>
    private static Dictionary<string, Tensor> RandomWeights()
    {
        var standard = MaskRcnnArchitecture.All.First(a => a.Name == MaskRcnnArchitectures.Detectron2).ExpectedKeys
            .Where(k => k.Key.StartsWith("roi_heads.mask_head.", StringComparison.Ordinal));
        var bilayer = new Dictionary<string, int[]>(StringComparer.Ordinal);
        BilayerHeadKeys.Add(bilayer, "mask_head.", Width, 1);
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        int seed = 0;
        foreach (var (name, shape) in standard.Concat(bilayer))
        {
            bool variance = name.EndsWith(".running_var", StringComparison.Ordinal);
            weights[name] = RandomTensors.Uniform(Device.Cpu, ++seed, variance ? 0.5f : -0.05f, variance ? 1.5f : 0.05f, shape);
        }
        return weights;
    }

    private static double Median(Device device, int runs, int warmup, Func<Tensor> run)
    {
        var times = new double[runs];
        for (int r = -warmup; r < runs; r++)
        {
            device.Runtime?.Synchronize();
            long start = Stopwatch.GetTimestamp();
            using (run()) device.Runtime?.Synchronize();
            if (r >= 0) times[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return runs % 2 == 1 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2;
    }
}

namespace NativeSeg.Models.Detection.MaskHeads;

/// <summary>
/// The checkpoint keys and shapes of <see cref="BilayerMaskHead"/> (specs/bcnet.md §2.3), in BCNet's registration
/// order, under whichever module a model puts the head: BCNet FCOS's <c>mask_head.</c> or a Mask R-CNN's mask head.
/// </summary>
public static class BilayerHeadKeys
{
    /// <param name="channels">The head's width, which is the pooled RoI features'.</param>
    /// <param name="predictorChannels">Each 1×1 predictor's outputs: 1 when class-agnostic.</param>
    public static void Add(IDictionary<string, int[]> keys, string prefix, int channels, int predictorChannels)
    {
        void Conv(string name, int o, int i, int k, bool bias = true)
        {
            keys[prefix + name + ".weight"] = [o, i, k, k];
            if (bias) keys[prefix + name + ".bias"] = [o];
        }
        for (int i = 1; i <= 4; i++) Conv($"mask_fcn{i}", channels, channels, 3);
        for (int i = 1; i <= 4; i++) Conv($"boundary_fcn{i}", channels, channels, 3);
        // ConvTranspose2d weights are [in, out, kH, kW]; in = out here.
        foreach (var d in new[] { "deconv", "boundary_deconv_bo", "boundary_deconv", "bo_deconv" }) Conv(d, channels, channels, 2);
        foreach (var suffix in new[] { "_bo", "" })
            foreach (var t in new[] { "query", "key", "value", "output" })
                Conv($"{t}_transform_bound{suffix}", channels, channels, 1, bias: false);
        foreach (var suffix in new[] { "_bo", "" })
            foreach (var f in new[] { "weight", "bias", "running_mean", "running_var" })
                keys[$"{prefix}blocker_bound{suffix}.{f}"] = [channels];
        foreach (var p in new[] { "predictor", "predictor_bo", "boundary_predictor_bo", "boundary_predictor" }) Conv(p, predictorChannels, channels, 1);
    }
}

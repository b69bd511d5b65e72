using NativeSeg.Layers.Backbones;

namespace NativeSeg.Models.Detection;

/// <summary>The checkpoint keys and shapes of a ResNet bottom-up under its framework's names (<see cref="BackboneNames"/>).</summary>
public static class BackboneKeys
{
    /// <summary>Adds the stem and res2–res5 (convs and their frozen norms) in registration order.</summary>
    /// <returns>Each stage's output channels, res2 first.</returns>
    public static IReadOnlyList<int> AddBottomUp(IDictionary<string, int[]> keys, BackboneConfig backbone)
    {
        var b = BackboneNames.For(backbone);
        void Norm(string prefix, int c)
        {
            foreach (string field in new[] { "weight", "bias", "running_mean", "running_var" }) keys[$"{prefix}.{field}"] = [c];
        }
        keys[b.StemConv] = [64, 3, 7, 7];
        Norm(b.StemNorm, 64);
        int input = 64;
        var stageOutputs = new List<int>();
        for (int stage = 2; stage <= 5; stage++)
        {
            int output = backbone.StageChannels[stage - 2], width = backbone.BasicBlocks ? output : output / 4;
            for (int block = 0; block < backbone.StageBlocks[stage - 2]; block++)
            {
                int blockInput = block == 0 ? input : output;
                if (backbone.BasicBlocks)
                {
                    keys[b.BlockConv(stage, block, 1)] = [output, blockInput, 3, 3];
                    keys[b.BlockConv(stage, block, 2)] = [output, output, 3, 3];
                    Norm(b.BlockNorm(stage, block, 1), output);
                    Norm(b.BlockNorm(stage, block, 2), output);
                    continue;
                }
                keys[b.BlockConv(stage, block, 1)] = [width, blockInput, 1, 1];
                keys[b.BlockConv(stage, block, 2)] = [width, width, 3, 3];
                keys[b.BlockConv(stage, block, 3)] = [output, width, 1, 1];
                Norm(b.BlockNorm(stage, block, 1), width);
                Norm(b.BlockNorm(stage, block, 2), width);
                Norm(b.BlockNorm(stage, block, 3), output);
            }
            // Every stage but a basic-block res2 (64 channels in and out, stride 1) projects its shortcut.
            if (input != output || stage > 2)
            {
                keys[b.ShortcutConv(stage)] = [output, input, 1, 1];
                Norm(b.ShortcutNorm(stage), output);
            }
            stageOutputs.Add(output);
            input = output;
        }
        return stageOutputs;
    }
}

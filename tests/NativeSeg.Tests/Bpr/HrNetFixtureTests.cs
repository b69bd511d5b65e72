using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Kernels.Convolution;

namespace NativeSeg.Tests.Bpr;

/// <summary>
/// BPR's HRNet-18s (HRNetRefine with the mask conv) and FCN head, block by block, against the torch reimplementation
/// in tests/reference/bpr_reference.py on hashed weights in the released checkpoints' layout.
/// </summary>
public class HrNetFixtureTests
{
    [Fact]
    public void EveryBlockMatchesTorch()
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("bpr_hrnet.safetensors"));
        using var network = BprFixture.Network(fixture.Metadata, compiled: false);
        using var scope = TensorScope.Begin();
        using var x = BprFixture.Input(fixture.Metadata, "blocks");
        var backbone = network.Backbone;
        var y = backbone.Stem(x);
        Close(fixture, "stem", y);
        y = backbone.Layer1(y);
        Close(fixture, "layer1", y);
        Tensor[] branches = [y];
        for (int s = 0; s < backbone.StageCount; s++)
        {
            branches = backbone.Stage(s, branches);
            for (int i = 0; i < branches.Length; i++) Close(fixture, $"stage{s + 2}.{i}", branches[i]);
        }
        Close(fixture, "head", network.Head.Forward(branches));
    }

    [Fact]
    public void CompiledNetworkMatchesTorchOnABatchOfPatches()
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("bpr_hrnet.safetensors"));
        using var network = BprFixture.Network(fixture.Metadata, compiled: true);
        using var batch = BprFixture.Input(fixture.Metadata, "batch");
        using var logits = network.PatchLogits(batch, 64);
        Close(fixture, "patch_logits", logits);
    }

    private static void Close(SafetensorsFile fixture, string name, Tensor actual)
    {
        using var expected = fixture.Load(name);
        ConvAssert.Close(expected, actual, 1e-4);
    }
}

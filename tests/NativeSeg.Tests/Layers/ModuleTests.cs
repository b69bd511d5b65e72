using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers;
using NativeSeg.Layers.Backbones;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Tests.Layers;

/// <summary>The module design on the R50-FPN backbone: keys, freezing, state round trips, compiling, failure clean-up.</summary>
public class ModuleTests
{
    private static ResNetFpn Backbone() => ResNetFpn.Load(new ParameterStore(BackboneWeights.Torchvision, Device.Cpu), BackboneConfig.Torchvision());

    [Fact]
    public void ParametersKeepTheirCheckpointKeysAndBatchNormsAreBuffers()
    {
        using var backbone = Backbone();
        var state = backbone.State();
        var checkpoint = BackboneWeights.Torchvision.Keys.Where(k => !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToHashSet();
        Assert.Equal(checkpoint.Order(), state.Keys.Order());
        var parameters = backbone.Parameters().ToDictionary(p => p.Key);
        Assert.Equal(ParameterKind.Buffer, parameters["backbone.body.layer1.0.bn1.running_var"].Kind);
        Assert.Equal(ParameterKind.Buffer, parameters["backbone.body.layer1.0.bn1.weight"].Kind);
        Assert.True(parameters["backbone.body.layer1.0.conv1.weight"].RequiresGrad);
        Assert.DoesNotContain(backbone.TrainableParameters(), p => p.Kind == ParameterKind.Buffer);
    }

    [Fact]
    public void FreezingThroughRes2LeavesRes3AndTheFpnTrainable()
    {
        using var backbone = Backbone();
        backbone.Body.FreezeThrough(2);
        var trainable = backbone.TrainableParameters().Select(p => p.Key).ToList();
        Assert.DoesNotContain(trainable, k => k.StartsWith("backbone.body.conv1", StringComparison.Ordinal) || k.StartsWith("backbone.body.layer1.", StringComparison.Ordinal));
        Assert.Contains("backbone.body.layer2.0.conv1.weight", trainable);
        Assert.Contains("backbone.fpn.layer_blocks.0.0.weight", trainable);
    }

    [Fact]
    public void StateLoadsBackIntoAnotherInstance()
    {
        using var a = Backbone();
        using var b = Backbone();
        var key = "backbone.fpn.layer_blocks.1.0.bias";
        var changed = a.State()[key].ToArray<float>().Select(v => v + 1).ToArray();
        a.Parameters().Single(p => p.Key == key).CopyFrom(Tensor.FromArray(changed, changed.Length));
        b.LoadState(a.State());
        Assert.Equal(changed, b.State()[key].ToArray<float>());
    }

    [Fact]
    public void LoadingAStateWithoutSomeKeyNamesIt()
    {
        using var backbone = Backbone();
        var state = backbone.State().Where(kv => kv.Key != "backbone.body.layer3.1.conv2.weight").ToDictionary();
        var error = Assert.Throws<KeyNotFoundException>(() => backbone.LoadState(state));
        Assert.Contains("backbone.body.layer3.1.conv2.weight", error.Message);
    }

    [Fact]
    public void CompilingFoldsEveryBatchNormAndForbidsSaving()
    {
        using var backbone = Backbone();
        int convs = backbone.Modules().OfType<Conv2dLayer>().Count(c => c.Norm is not null);
        Assert.True(convs > 50, $"expected the R50's conv-norm units, found {convs}");
        backbone.CompileForInference();
        Assert.All(backbone.Modules().OfType<Conv2dLayer>(), c => Assert.Null(c.Norm));
        Assert.Empty(backbone.Modules().OfType<FrozenBatchNorm2d>());
        Assert.Throws<InvalidOperationException>(() => backbone.State());
    }

    [Fact]
    public void AFailedBuildLeavesNoTensorBehind()
    {
        var weights = BackboneWeights.Torchvision.Where(kv => kv.Key != "backbone.fpn.layer_blocks.3.0.bias").ToDictionary();
        var watch = TensorLeakTracker.Begin();
        var error = Assert.Throws<KeyNotFoundException>(() => ResNetFpn.Load(new ParameterStore(weights, Device.Cpu), BackboneConfig.Torchvision()));
        Assert.Contains("backbone.fpn.layer_blocks.3.0.bias", error.Message);
        TensorTracking.AssertNoLeaks(watch);
    }

    [Fact]
    public void ForwardPassesLeaveOnlyTheirOutputs()
    {
        using var backbone = Backbone();
        using var x = Tensor.Zeros(new Shape(1, 3, 64, 96), DType.Float32, Device.Cpu);
        var watch = TensorLeakTracker.Begin();
        for (int i = 0; i < 2; i++)
        {
            using var pyramid = backbone.Forward(x);
            Assert.Equal(5, pyramid.Maps.Count);
        }
        TensorTracking.AssertNoLeaks(watch);
    }
}

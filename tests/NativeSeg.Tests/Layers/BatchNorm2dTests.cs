using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Kernels.Gradients;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Layers;

/// <summary>
/// A conv + trainable BatchNorm2d + ReLU unit against torch's (tests/reference/make_batch_norm_fixtures.py, "layer.*"):
/// one training-mode step on the tape, then the eval-mode output of the compiled (folded) unit.
/// </summary>
public sealed class BatchNorm2dTests(ITestOutputHelper output) : IDisposable
{
    private readonly SafetensorsFile _file = SafetensorsFile.Open(FixturePaths.Fixture("batch_norm.safetensors"));

    [Fact]
    public void ATrainingStepMatchesTorchAndTheCompiledUnitMatchesItsEvalMode()
    {
        using var weights = new DisposableTensors(_file, "layer.conv.weight", "layer.bn.weight", "layer.bn.bias", "layer.bn.running_mean", "layer.bn.running_var");
        using var unit = Module.Build(() => new Conv2dLayer(new ParameterStore(weights.ByKey, Device.Cpu), "layer.conv.weight", null,
            new ConvSpec(3, 4, 3, 1, 1, Relu: true), new BatchNormSpec("layer.bn", 1e-5, Trains: true)));
        var norm = Assert.IsType<BatchNorm2d>(unit.Norm);
        Assert.True(norm.Gamma.RequiresGrad && norm.Beta.RequiresGrad && !norm.RunningMean.RequiresGrad);
        norm.Training = true;
        using (var scope = TensorScope.Begin())
        {
            using var input = new Parameter("x", _file.Load("layer.x"));
            using var tape = Tape.Record(unit.TrainableParameters().Append(input));
            var y = unit.Forward(input.Value);
            Expect("layer.y_train", y.Share());
            tape.Backward([(y, _file.Load("layer.gy"))]);
            Expect("layer.dx", input.Grad!.Share());
            Expect("layer.grad.conv.weight", unit.Weight.Grad!.Share());
            Expect("layer.grad.bn.weight", norm.Gamma.Grad!.Share());
            Expect("layer.grad.bn.bias", norm.Beta.Grad!.Share());
            Expect("layer.running_mean_after", norm.RunningMean.Value.Share());
            Expect("layer.running_var_after", norm.RunningVar.Value.Share());
        }

        norm.Training = false;
        using (var scope = TensorScope.Begin())
        {
            using var x = _file.Load("layer.x");
            Expect("layer.y_eval", unit.Forward(x));
            unit.CompileForInference();
            Assert.Null(unit.Norm);
            Expect("layer.y_eval", unit.Forward(x));
        }
    }

    private void Expect(string key, Tensor actual)
    {
        using var expected = _file.Load(key);
        GradientFixture.AssertClose(output, key, expected, actual, 1e-4);
    }

    public void Dispose() => _file.Dispose();

    /// <summary>Fixture tensors by key, owned until disposed.</summary>
    private sealed class DisposableTensors : IDisposable
    {
        public DisposableTensors(SafetensorsFile file, params string[] keys) =>
            ByKey = keys.ToDictionary(k => k, k => TensorScope.Release(file.Load(k)), StringComparer.Ordinal);

        public Dictionary<string, Tensor> ByKey { get; }

        public void Dispose()
        {
            foreach (var t in ByKey.Values) t.Dispose();
        }
    }
}

using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.RoiAlign;
using NativeSeg.Layers;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Layers.Autograd;

/// <summary>
/// A miniature two-stage detector made of NativeSeg's modules and differentiable ops, recorded on a tape, against
/// torch autograd on the same weights (tests/reference/make_tape_fixtures.py): losses and every parameter's gradient.
/// </summary>
public sealed class TapeGradientTests : IDisposable
{
    private const int C = 8, K = 3, Rois = 5;

    private readonly SafetensorsFile _file = SafetensorsFile.Open(FixturePaths.Fixture("tape_mini_detector.safetensors"));
    private readonly Dictionary<string, Tensor> _tensors;

    public TapeGradientTests() => _tensors = _file.Names.ToDictionary(n => n, n => TensorScope.Release(_file.Load(n)), StringComparer.Ordinal);

    [Fact]
    public void LossesAndEveryGradientMatchTorchAutograd()
    {
        using var model = Module.Build(() => new MiniDetector(new ParameterStore(_tensors, Device.Cpu)));
        using var scope = TensorScope.Begin();
        using var tape = Tape.Record(model.TrainableParameters());
        var (cls, box, mask) = model.Losses(_tensors);
        AssertClose(_tensors["loss.cls"], cls, 1e-5, "loss_cls");
        AssertClose(_tensors["loss.box"], box, 1e-5, "loss_box");
        AssertClose(_tensors["loss.mask"], mask, 1e-5, "loss_mask");
        tape.Backward(Functional.Add(Functional.Add(cls, box), mask));
        foreach (var p in model.TrainableParameters())
        {
            Assert.True(p.Grad is not null, $"{p.Key} got no gradient");
            AssertClose(_tensors["grad." + p.Key], p.Grad!, 1e-4, "gradient of " + p.Key);
        }
        Assert.Null(model.Parameters().Single(p => p.Key == "stem.norm.running_var").Grad);
    }

    [Fact]
    public void FrozenParametersGetNoGradientAndRecordNothingBelowThem()
    {
        using var model = Module.Build(() => new MiniDetector(new ParameterStore(_tensors, Device.Cpu)));
        model.Stem.SetFrozen(true);
        using var scope = TensorScope.Begin();
        using var tape = Tape.Record(model.TrainableParameters());
        var (cls, box, mask) = model.Losses(_tensors);
        tape.Backward(Functional.Add(Functional.Add(cls, box), mask));
        Assert.Null(model.Stem.Weight.Grad);
        AssertClose(_tensors["grad.c2.weight"], model.Parameters().Single(p => p.Key == "c2.weight").Grad!, 1e-4, "c2 with a frozen stem");
    }

    [Fact]
    public void WithoutATapeNothingIsRecordedAndATrainingStepLeaksNothing()
    {
        using var model = Module.Build(() => new MiniDetector(new ParameterStore(_tensors, Device.Cpu)));
        var watch = TensorLeakTracker.Begin();
        using (TensorScope.Begin())
        {
            Assert.Null(Tape.Current);
            model.Losses(_tensors);
        }
        for (int step = 0; step < 2; step++)
        {
            using var scope = TensorScope.Begin();
            using var tape = Tape.Record(model.TrainableParameters());
            var (cls, box, mask) = model.Losses(_tensors);
            Assert.True(tape.NodeCount > 20, $"only {tape.NodeCount} nodes recorded");
            tape.Backward(Functional.Add(Functional.Add(cls, box), mask));
        }
        foreach (var p in model.Parameters()) p.ZeroGrad();
        TensorTracking.AssertNoLeaks(watch);
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        float[] e = expected.ToArray<float>(), a = actual.ToArray<float>();
        double scale = Math.Max(1, e.Max(Math.Abs)), worst = e.Zip(a, (x, y) => Math.Abs(x - y)).Max();
        Assert.True(worst / scale <= tolerance, $"{what}: relative error {worst / scale:G3} exceeds {tolerance:G3}");
    }

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _file.Dispose();
    }

    /// <summary>The fixture's network: a frozen-BN stem, a residual conv, an FPN-like merge, GroupNorm, and box and mask heads on RoIAlign.</summary>
    private sealed class MiniDetector : Module
    {
        private readonly Conv2dLayer _c2, _lateral, _top, _mask;
        private readonly GroupNormLayer _norm;
        private readonly LinearLayer _fc1, _cls, _box;
        private readonly ConvTranspose2dLayer _deconv;

        public MiniDetector(ParameterStore store)
        {
            Stem = Child(new Conv2dLayer(store, "stem.weight", null, new ConvSpec(3, C, 3, 1, 1, Relu: true), new BatchNormSpec("stem.norm", 1e-5)));
            _c2 = Child(new Conv2dLayer(store, "c2", ConvSpec.Same(C, C, 3, bias: true)));
            _lateral = Child(new Conv2dLayer(store, "lat", new ConvSpec(C, C, 1, Bias: true)));
            _top = Child(new Conv2dLayer(store, "top", new ConvSpec(C, C, 3, Stride: 2, Padding: 1, Bias: true)));
            _norm = Child(new GroupNormLayer(store, "gn", C, 4, relu: true));
            _fc1 = Child(new LinearLayer(store, "fc1", C * 16, 16, relu: true));
            _cls = Child(new LinearLayer(store, "cls", 16, K));
            _box = Child(new LinearLayer(store, "box", 16, K * 4));
            _deconv = Child(new ConvTranspose2dLayer(store, "deconv", C, C, 2, 2, relu: true));
            _mask = Child(new Conv2dLayer(store, "mask", new ConvSpec(C, K, 1, Bias: true)));
        }

        public Conv2dLayer Stem { get; }

        public (Tensor Cls, Tensor Box, Tensor Mask) Losses(IReadOnlyDictionary<string, Tensor> inputs)
        {
            var pooled = Functional.MaxPool2d(Stem.Forward(inputs["input.x"]), 3, 2, 1);
            var res = Functional.AddRelu(_c2.Forward(pooled), pooled);
            var lateral = _lateral.Forward(res);
            var fused = Functional.Add(lateral, Functional.ResizeNearest(_top.Forward(res), lateral.Shape[2], lateral.Shape[3]));
            var features = _norm.Forward(fused);
            var levels = Tensor.Zeros(new Shape(Rois), DType.Int32, Device.Cpu);
            var roiFeatures = Functional.RoiAlign([features], [0.5f], inputs["input.rois"], levels, new RoiAlignOptions(4, 4, 2, false));
            var hidden = _fc1.Forward(Functional.Reshape(roiFeatures, Rois, -1));
            var labels = inputs["input.labels"].ToArray<long>();
            using var picked = Tensor.FromArray(labels.Select((l, r) => r * K + l).ToArray(), Rois);
            var deltas = Functional.GatherRows(Functional.Reshape(_box.Forward(hidden), Rois * K, 4), picked);
            var maskLogits = _mask.Forward(_deconv.Forward(roiFeatures));
            var masks = Functional.GatherRows(Functional.Reshape(maskLogits, Rois * K, 64), picked);
            return (Functional.CrossEntropy(_cls.Forward(hidden), inputs["input.labels"]),
                Functional.SmoothL1(deltas, inputs["input.box_targets"], 1f / 9, NativeSeg.Kernels.Losses.LossReduction.Sum, 1f / Rois),
                Functional.BinaryCrossEntropyWithLogits(masks, inputs["input.mask_targets"]));
        }
    }
}

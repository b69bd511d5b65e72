using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers.Backbones;

/// <summary>
/// One high-resolution module (mmseg's HRModule) under <c>prefix</c>: basic blocks on each branch
/// (<c>branches.b.k</c>), then every output branch i sums every branch j brought to its resolution and width
/// (<c>fuse_layers.i.j</c>: j &gt; i a 1×1 conv + BN and a bilinear upsampling, align_corners false; j &lt; i a chain of
/// stride-2 3×3 conv + BN, ReLU between them), and a ReLU.
/// </summary>
public sealed class HrModule : Module
{
    private const double NormEps = 1e-5;

    private readonly ResidualBlock[][] _branches;
    private readonly Conv2dLayer[]?[][] _fuse;

    /// <param name="trainableNorm">Trainable BatchNorms (<see cref="BatchNorm2d"/>) rather than frozen ones.</param>
    public HrModule(ParameterStore store, string prefix, int blocks, int[] widths, bool trainableNorm = false)
    {
        int n = widths.Length;
        _branches = new ResidualBlock[n][];
        for (int b = 0; b < n; b++)
        {
            _branches[b] = new ResidualBlock[blocks];
            for (int k = 0; k < blocks; k++)
                _branches[b][k] = Child(new ResidualBlock(store, $"{prefix}.branches.{b}.{k}", NormEps, widths[b], widths[b], 1, BasicBlock.Chain(widths[b], widths[b], 1), trainableNorm));
        }
        _fuse = new Conv2dLayer[]?[n][];
        for (int i = 0; i < n; i++)
        {
            _fuse[i] = new Conv2dLayer[]?[n];
            for (int j = 0; j < n; j++)
            {
                string at = $"{prefix}.fuse_layers.{i}.{j}";
                if (j > i)
                {
                    _fuse[i][j] = [Child(new Conv2dLayer(store, at + ".0.weight", null, new ConvSpec(widths[j], widths[i], 1), new BatchNormSpec(at + ".1", NormEps, trainableNorm)))];
                }
                else if (j < i)
                {
                    _fuse[i][j] = new Conv2dLayer[i - j];
                    for (int k = 0; k < i - j; k++)
                    {
                        bool last = k == i - j - 1;
                        var spec = new ConvSpec(widths[j], last ? widths[i] : widths[j], 3, 2, 1, Relu: !last);
                        _fuse[i][j]![k] = Child(new Conv2dLayer(store, $"{at}.{k}.0.weight", null, spec, new BatchNormSpec($"{at}.{k}.1", NormEps, trainableNorm)));
                    }
                }
            }
        }
    }

    /// <summary>The fused branches for the branch inputs <paramref name="x"/> (which stay the caller's).</summary>
    public Tensor[] Forward(IReadOnlyList<Tensor> x)
    {
        using var scope = TensorScope.Begin();
        int n = _branches.Length;
        var branches = new Tensor[n];
        for (int b = 0; b < n; b++)
        {
            var y = x[b];
            foreach (var block in _branches[b]) y = block.Forward(y);
            branches[b] = y;
        }
        var outputs = new Tensor[n];
        for (int i = 0; i < n; i++)
        {
            // Terms are added in branch order, as mmseg does, then the ReLU.
            Tensor? sum = null;
            for (int j = 0; j < n; j++)
            {
                var term = j == i ? branches[j] : Bring(branches[j], _fuse[i][j]!, j - i, branches[i].Shape);
                sum = sum is null ? term : j == n - 1 ? Functional.AddRelu(sum, term) : Functional.Add(sum, term);
            }
            outputs[i] = n == 1 ? Functional.Relu(sum!) : sum!;
        }
        return [.. outputs.Select(scope.Keep)];
    }

    private static Tensor Bring(Tensor x, Conv2dLayer[] chain, int levels, Shape target)
    {
        foreach (var conv in chain) x = conv.Forward(x);
        if (levels <= 0) return x;
        int scale = 1 << levels;
        var up = Functional.ResizeBilinear(x, x.Shape[2] * scale, x.Shape[3] * scale, alignCorners: false);
        return up.Shape[2] == target[2] && up.Shape[3] == target[3] ? up : Functional.ResizeBilinear(up, target[2], target[3], alignCorners: false);
    }
}

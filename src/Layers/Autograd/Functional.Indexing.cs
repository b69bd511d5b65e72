using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Indexing;

namespace NativeSeg.Layers.Autograd;

public static partial class Functional
{
    /// <summary>torch.cat along <paramref name="dim"/>; each input gets its own slice of the gradient back.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> inputs, int dim)
    {
        var y = Kernels.Indexing.Concat.Forward(inputs, dim);
        if (Tape.Current is not { } tape) return y;
        int axis = dim < 0 ? dim + y.Rank : dim;
        var sizes = inputs.Select(t => t.Shape[axis]).ToArray();
        tape.Add(new TapeNode("concat", inputs, [y]).WithBackward((g, need) =>
        {
            var grads = new Tensor?[sizes.Length];
            for (int i = 0, start = 0; i < sizes.Length; start += sizes[i], i++)
                grads[i] = need[i] ? Narrow.Forward(g[0]!, axis, start, sizes[i]) : null;
            return grads;
        }));
        return y;
    }
}

using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Optimizer;

/// <summary>
/// One SGD-with-momentum step in place, torch.optim.SGD's rule (dampening 0, no Nesterov): d = grad + wd·param,
/// momentum = μ·momentum + d, param −= lr·momentum. Float32 master weights; the momentum buffer starts at zero.
/// </summary>
public static class Sgd
{
    private const string Op = "sgd_step";
    private const int ChunkSize = 1 << 16;

    private static KernelSource Source => KernelCatalog.Get("Optimizer/Optimizer.cu");

    public static void Step(Tensor param, Tensor grad, Tensor momentum, float lr, float mu, float weightDecay)
    {
        foreach (var (t, name) in new[] { (param, "parameter"), (grad, "gradient"), (momentum, "momentum buffer") })
        {
            Check.DType(t, DType.Float32, Op, name);
            Check.That(t.Shape == param.Shape, Op, $"{name} {t.Shape} must have the parameter's shape {param.Shape}");
        }
        Check.SameDevice(Op, param, grad, momentum);
        Check.That(float.IsFinite(lr) && float.IsFinite(mu) && float.IsFinite(weightDecay), Op,
            $"learning rate {lr}, momentum {mu} and weight decay {weightDecay} must be finite");
        if (param.Numel == 0) return;
        if (param.Device.IsCpu) RunCpu(param, grad, momentum, lr, mu, weightDecay);
        else Launch(param, grad, momentum, lr, mu, weightDecay);
    }

    private static unsafe void RunCpu(Tensor param, Tensor grad, Tensor momentum, float lr, float mu, float weightDecay)
    {
        float* p = (float*)param.Pointer, g = (float*)grad.Pointer, m = (float*)momentum.Pointer;
        long n = param.Numel;
        CpuThreads.For((int)((n + ChunkSize - 1) / ChunkSize), (start, end) =>
        {
            long last = Math.Min(n, (long)end * ChunkSize);
            for (long i = (long)start * ChunkSize; i < last; i++)
            {
                float d = g[i] + weightDecay * p[i];
                float v = mu * m[i] + d;
                m[i] = v;
                p[i] -= lr * v;
            }
        });
    }

    private static unsafe void Launch(Tensor param, Tensor grad, Tensor momentum, float lr, float mu, float weightDecay)
    {
        var gpu = param.Device.Gpu;
        nint p = param.Pointer, g = grad.Pointer, m = momentum.Pointer;
        long n = param.Numel;
        void** args = stackalloc void*[] { &p, &g, &m, &n, &lr, &mu, &weightDecay };
        gpu.Launch(gpu.GetKernel(Source, "sgd_step_f32"), Dim3.Cover(n, 256), new Dim3(256), 0, args, 7);
    }
}

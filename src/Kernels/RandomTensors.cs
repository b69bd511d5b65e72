using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels;

/// <summary>Seeded random inputs for checks and benchmarks, made on the CPU and copied to the device.</summary>
public static class RandomTensors
{
    public static Tensor Uniform(Device device, int seed, float low, float high, params int[] shape)
    {
        var rng = new Random(seed);
        var data = new float[new Shape(shape).Numel];
        for (int i = 0; i < data.Length; i++) data[i] = low + (float)rng.NextDouble() * (high - low);
        return OnDevice(Tensor.FromArray(data, shape), device);
    }

    /// <summary>Whole numbers in [low, high] as float32: with a narrow range, ties are common.</summary>
    public static Tensor Integers(Device device, int seed, int low, int high, params int[] shape)
    {
        var rng = new Random(seed);
        var data = new float[new Shape(shape).Numel];
        for (int i = 0; i < data.Length; i++) data[i] = rng.Next(low, high + 1);
        return OnDevice(Tensor.FromArray(data, shape), device);
    }

    /// <summary>Random 8-bit values, an image's pixels [H, W, C] for instance.</summary>
    public static Tensor Bytes(Device device, int seed, params int[] shape)
    {
        var data = new byte[new Shape(shape).Numel];
        new Random(seed).NextBytes(data);
        return OnDevice(Tensor.FromArray(data, shape), device);
    }

    public static Tensor Normal(Device device, int seed, float std, params int[] shape)
    {
        var rng = new Random(seed);
        var data = new float[new Shape(shape).Numel];
        for (int i = 0; i < data.Length; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            data[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return OnDevice(Tensor.FromArray(data, shape), device);
    }

    /// <summary>Moves a CPU tensor to the device, disposing the CPU copy; returns it as is for the CPU.</summary>
    public static Tensor OnDevice(Tensor cpu, Device device)
    {
        if (device.IsCpu) return cpu;
        using (cpu) return cpu.To(device);
    }

    /// <summary>Copies a result back to the CPU, disposing the device copy.</summary>
    public static Tensor ToCpu(Tensor t)
    {
        if (t.Device.IsCpu) return t;
        using (t) return t.To(Device.Cpu);
    }
}

using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Inference;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Layers;

/// <summary>How weights get from a file into a model: read once, then handed over rather than copied again.</summary>
public class ParameterStoreTests
{
    [Fact]
    public void AnOwningStoreHandsItsTensorsOverAndFreesWhatNoLayerTook()
    {
        var a = TensorScope.Release(Tensor.FromArray([1f, 2f, 3f], 3));
        var b = TensorScope.Release(Tensor.FromArray([4f], 1));
        Tensor taken, again;
        using (var store = ParameterStore.Owning(new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b }, Device.Cpu))
        {
            taken = store.Take("a", 3);
            Assert.Same(a, taken);
            again = store.Take("a", 3);
            Assert.NotSame(a, again);
            Assert.Equal(a.ToArray<float>(), again.ToArray<float>());
            Assert.Equal(["b"], store.Unused());
            Assert.Throws<ArgumentException>(() => store.Take("b", 2));
        }
        Assert.Throws<ObjectDisposedException>(() => b.Pointer);
        Assert.Equal([1f, 2f, 3f], taken.ToArray<float>());
        taken.Dispose();
        again.Dispose();
    }

    [Fact]
    public void ABorrowingStoreCopiesAndFreesNothing()
    {
        using var a = Tensor.FromArray([1f, 2f], 2);
        using (var store = new ParameterStore(new Dictionary<string, Tensor> { ["a"] = a }, Device.Cpu))
        {
            using var taken = store.Take("a", 2);
            Assert.NotSame(a, taken);
        }
        Assert.Equal([1f, 2f], a.ToArray<float>());
    }

    /// <summary>A --fp16 file's weights arrive in float32 and the store built from them holds the very tensors read.</summary>
    [Fact]
    public void WeightsReadFromAHalfFileGoIntoTheStoreWithoutACopy()
    {
        using var dir = new TempFolder();
        string path = dir.File("model.safetensors");
        using (var w = Tensor.FromArray(new[] { (Half)0.25f, (Half)(-3f) }, 2))
        using (var n = Tensor.FromArray(new[] { 5L }, []))
            SafetensorsWriter.Write(path, [new("w", w), new("n", n)]);
        using var file = SafetensorsFile.Open(path);
        using var weights = Float32Weights.Load(file);
        var read = weights.Tensors["w"];
        Assert.Equal(DType.Float32, read.DType);
        Assert.Equal([0.25f, -3f], read.ToArray<float>());
        Assert.Equal(DType.Int64, weights.Tensors["n"].DType);
        using var store = weights.IntoStore(Device.Cpu);
        Assert.Empty(weights.Tensors);
        using var taken = store.Take("w", 2);
        Assert.Same(read, taken);
        Assert.Equal(["n"], store.Unused());
    }
}

using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Tests.Engine;

public class TensorScopeTests
{
    private static Tensor Make() => Tensor.Zeros(new Shape(2, 3), DType.Float32, Device.Cpu);

    [Fact]
    public void ScopeDisposesWhatItWasNotAskedToKeep()
    {
        var watch = TensorLeakTracker.Begin();
        Tensor kept, dropped;
        using (var scope = TensorScope.Begin())
        {
            dropped = Make();
            kept = scope.Keep(Make());
        }
        Assert.Throws<ObjectDisposedException>(() => dropped.Pointer);
        Assert.NotEqual(0, kept.Pointer);
        Assert.Single(watch.Leaked());
        kept.Dispose();
        TensorTracking.AssertNoLeaks(watch);
    }

    [Fact]
    public void KeepHandsTheTensorToTheEnclosingScope()
    {
        var watch = TensorLeakTracker.Begin();
        using (var outer = TensorScope.Begin())
        {
            using (var inner = TensorScope.Begin())
            {
                inner.Keep(Make());
                Make();
                Assert.Equal(1, inner.Count);
            }
            Assert.Equal(1, outer.Count);
        }
        TensorTracking.AssertNoLeaks(watch);
    }

    [Fact]
    public void AnExceptionInsideAScopeFreesItsTensors()
    {
        var watch = TensorLeakTracker.Begin();
        Assert.Throws<InvalidOperationException>(FailMidway);
        TensorTracking.AssertNoLeaks(watch);
    }

    private static void FailMidway()
    {
        using var scope = TensorScope.Begin();
        Make();
        using var view = Make().Reshape(3, 2);
        throw new InvalidOperationException("midway");
    }

    [Fact]
    public void ReleasedTensorsOutliveEveryScope()
    {
        Tensor released;
        using (TensorScope.Begin())
        {
            using (TensorScope.Begin()) released = TensorScope.Release(Make());
        }
        Assert.NotEqual(0, released.Pointer);
        released.Dispose();
    }

    [Fact]
    public void KeepingATensorOfAnotherScopeIsRefused()
    {
        using var outer = TensorScope.Begin();
        var t = Make();
        using var inner = TensorScope.Begin();
        var error = Assert.Throws<InvalidOperationException>(() => inner.Keep(t));
        Assert.Contains("does not belong to this scope", error.Message);
    }

    [Fact]
    public void EarlyDisposalInsideAScopeIsAllowed()
    {
        var watch = TensorLeakTracker.Begin();
        using (TensorScope.Begin())
        {
            var t = Make();
            t.Dispose();
        }
        TensorTracking.AssertNoLeaks(watch);
    }

    [Fact]
    public void ASharedHandleKeepsTheMemoryAfterTheOriginalIsDisposed()
    {
        using var original = Tensor.FromArray([1f, 2f, 3f], 3);
        using var shared = original.Share();
        original.Dispose();
        Assert.Equal([1f, 2f, 3f], shared.ToArray<float>());
    }
}

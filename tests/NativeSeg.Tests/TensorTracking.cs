using System.Runtime.CompilerServices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Tests;

/// <summary>Every test run tracks tensors, so leak tests can ask which tensors a piece of code left alive.</summary>
internal static class TensorTracking
{
    [ModuleInitializer]
    internal static void Enable() => TensorLeakTracker.Enable(stacks: Environment.GetEnvironmentVariable("NATIVESEG_TRACK_TENSORS") == "stacks");

    /// <summary>Fails with the leaked tensors if <paramref name="watch"/> saw any created and not disposed.</summary>
    public static void AssertNoLeaks(TensorLeakTracker.Watch watch)
    {
        var leaked = watch.Leaked();
        Assert.True(leaked.Count == 0, $"{leaked.Count} tensors leaked (NATIVESEG_TRACK_TENSORS=stacks shows where):\n{string.Join("\n", leaked.Take(10))}");
    }
}

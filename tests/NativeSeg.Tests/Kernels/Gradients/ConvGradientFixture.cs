using System.Globalization;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Kernels.Convolution;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Kernels.Gradients;

/// <summary>
/// One case of tests/reference/fixtures/grad_conv.safetensors (make_grad_conv_fixtures.py): tensors
/// and hyper-parameters named "&lt;case&gt;.&lt;name&gt;".
/// </summary>
internal sealed class ConvGradientFixture(string name) : IDisposable
{
    /// <summary>Largest allowed max|a−b| / max(1, max|torch|).</summary>
    public const double Tolerance = 1e-4;

    private readonly SafetensorsFile _file = SafetensorsFile.Open(FixturePaths.Fixture("grad_conv.safetensors"));

    public Tensor Load(string tensor) => _file.Load($"{name}.{tensor}");

    public Pair2 Pair(string key) => ConvAssert.ParsePair(_file.Metadata[$"{name}.{key}"]);

    public int Int(string key) => int.Parse(_file.Metadata[$"{name}.{key}"], CultureInfo.InvariantCulture);

    /// <summary>Asserts <paramref name="actual"/> matches torch's <paramref name="expected"/> gradient (disposing it) and logs the error.</summary>
    public void AssertClose(string gradient, Tensor expected, Tensor actual, ITestOutputHelper output)
    {
        using (actual)
        {
            var result = KernelCheckRunner.Compare(name, [expected], [actual], Tolerance);
            output.WriteLine($"{name} {gradient}: relative error {result.RelativeError:g3}");
            Assert.True(result.Failure is null, result.Failure);
            Assert.True(result.Passed, $"{name} {gradient}: relative error {result.RelativeError:g3} above {Tolerance:g3}");
        }
    }

    public void Dispose() => _file.Dispose();
}

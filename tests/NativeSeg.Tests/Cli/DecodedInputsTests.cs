using NativeSeg.Cli.Inputs;
using NativeSeg.Engine.Formats.Images;

namespace NativeSeg.Tests.Cli;

/// <summary>
/// `segment`'s decoding thread: inputs come back in order, batch by batch, an unreadable image with its error and
/// the others intact; the next batch decodes while the caller holds the current one, and no further.
/// </summary>
public class DecodedInputsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public void BatchesKeepInputOrderAndNameTheImageThatFailed()
    {
        using var decoded = new DecodedInputs(Inputs(5), input => input.Position == 3 ? throw new FormatException("not a JPEG") : Pixel(input), ahead: 2);
        var batches = decoded.Batches(2).Select(b => b.ToList()).ToList();

        Assert.Equal(new[] { 2, 2, 1 }, batches.Select(b => b.Count));
        Assert.Equal(new[] { 1L, 2, 3, 4, 5 }, batches.SelectMany(b => b).Select(d => d.Input.Position));
        var failed = Assert.Single(batches.SelectMany(b => b), d => d.Image is null);
        Assert.Equal((3L, "not a JPEG"), (failed.Input.Position, failed.Error));
        Assert.All(batches.SelectMany(b => b).Where(d => d.Input.Position != 3), d => Assert.Equal((int)d.Input.Position, d.Image!.Width));
    }

    [Fact]
    public void TheNextBatchDecodesWhileTheCurrentOneIsHeldAndNoFurther()
    {
        int reads = 0;
        using var decoded = new DecodedInputs(Inputs(20), input =>
        {
            Interlocked.Increment(ref reads);
            return Pixel(input);
        }, ahead: 2);
        using var batches = decoded.Batches(2).GetEnumerator();
        Assert.True(batches.MoveNext());

        // Held: the first batch (2), the next one waiting (2) and one more decoded that waits for room.
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref reads) == 5, Patience), $"{reads} images decoded while the first batch was held, not 5");
        Thread.Sleep(300);
        Assert.Equal(5, Volatile.Read(ref reads));

        Assert.True(batches.MoveNext());
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref reads) == 7, Patience), $"{reads} images decoded while the second batch was held, not 7");
    }

    [Fact]
    public void AnErrorOfTheSourceEndsTheBatchesWithIt()
    {
        static IEnumerable<SegmentInput> Failing()
        {
            foreach (var input in Inputs(3)) yield return input;
            throw new IOException("folder vanished");
        }
        using var decoded = new DecodedInputs(Failing(), Pixel, ahead: 2);
        var seen = new List<long>();
        var error = Assert.Throws<IOException>(() =>
        {
            foreach (var batch in decoded.Batches(2)) seen.AddRange(batch.Select(d => d.Input.Position));
        });
        Assert.Equal("folder vanished", error.Message);
        Assert.Equal(new[] { 1L, 2, 3 }, seen);
    }

    [Fact]
    public async Task StoppingEarlyEndsTheDecodingThread()
    {
        var decoded = new DecodedInputs(Inputs(1000), Pixel, ahead: 1);
        Assert.Single(decoded.Batches(1).First());
        var disposing = Task.Run(decoded.Dispose);
        Assert.Same(disposing, await Task.WhenAny(disposing, Task.Delay(Patience)));
    }

    private static IEnumerable<SegmentInput> Inputs(int count) =>
        Enumerable.Range(1, count).Select(i => new SegmentInput($"image{i}.png", $"image{i}.png", i, null, "test"));

    /// <summary>A 1-row image as wide as the input's position, so each image shows which input it came from.</summary>
    private static Image Pixel(SegmentInput input) => new((int)input.Position, 1, 3, new byte[input.Position * 3]);
}

using NativeSeg.Engine.Tensors;
using CandidatesOp = NativeSeg.Kernels.Candidates.Candidates;

namespace NativeSeg.Tests.Kernels.Detection;

/// <summary>The cut that keeps ties with its last entry (AdelaiDet's kthvalue cut), by hand on the CPU.</summary>
public class CandidateCutTests
{
    // Positions by score: 3 (0.9), 0 (0.8), then 4, 1 and 2 tied at 0.5, then 5 (0.4); 6 failed its filter (−inf).
    private static readonly float[] Scores = [0.8f, 0.5f, 0.5f, 0.9f, 0.5f, 0.4f, float.NegativeInfinity];
    private static readonly long[] Order = [3, 0, 4, 1, 2, 5, -1];

    [Theory]
    [InlineData(3, 6, new long[] { 3, 0, 4, 1, 2, -1 }, 5)]
    [InlineData(3, 4, new long[] { 3, 0, 4, 1 }, 5)]
    [InlineData(2, 4, new long[] { 3, 0, -1, -1 }, 2)]
    [InlineData(6, 8, new long[] { 3, 0, 4, 1, 2, 5, -1, -1 }, 6)]
    public void KeepsTheTiesWithTheLastAndCountsThemPastTheSlots(int limit, int slots, long[] index, long kept)
    {
        using var order = Tensor.FromArray(Order, Order.Length);
        using var scores = Tensor.FromArray(Scores, Scores.Length);
        var (taken, count) = CandidatesOp.TakeKeepingTies(order, scores, limit, slots);
        using (taken)
        using (count)
        {
            Assert.Equal(index, taken.Index.ToArray<long>());
            Assert.Equal(index.Count(i => i >= 0), taken.Count.ToArray<long>()[0]);
            Assert.Equal(kept, count.ToArray<long>()[0]);
        }
    }

    [Fact]
    public void ACutToNothingIsRefused()
    {
        using var order = Tensor.FromArray(Order, Order.Length);
        using var scores = Tensor.FromArray(Scores, Scores.Length);
        var e = Assert.Throws<ArgumentException>(() => CandidatesOp.TakeKeepingTies(order, scores, 0, 4));
        Assert.Contains("limit = 0", e.Message);
    }
}

namespace NativeSeg.Tests.Models;

/// <summary>Values printed by tests/reference/hashed_weights.py, so a drift between the twins fails here first.</summary>
public class HashedWeightsTests
{
    [Fact]
    public void MatchesThePythonTwin()
    {
        Assert.Equal(473685795u, HashedWeights.Fnv1a("rpn.head.conv.0.0.weight"));
        float[] expected = [-0.02933616191148758f, 0.025234360247850418f, 0.021478591486811638f, 0.029302285984158516f, 0.009313349612057209f];
        Assert.Equal(expected, HashedWeights.Uniform("rpn.head.conv.0.0.weight", 5, 0.03));
    }
}

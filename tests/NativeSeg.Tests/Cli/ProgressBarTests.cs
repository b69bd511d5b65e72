using NativeSeg.Cli.Rendering;

namespace NativeSeg.Tests.Cli;

public class ProgressBarTests
{
    [Fact]
    public void FillsInProportionAndEstimatesTheRest()
    {
        Assert.Equal("[#####...............] 1/4, 30 s left", ProgressBar.Format(1, 4, TimeSpan.FromSeconds(10)));
        Assert.Equal("[####################] 4/4", ProgressBar.Format(4, 4, TimeSpan.FromSeconds(40)));
        Assert.Equal("[....................] 0/3", ProgressBar.Format(0, 3, TimeSpan.Zero));
    }
}

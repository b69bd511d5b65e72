using NativeSeg.Cli.Rendering;

namespace NativeSeg.Tests.Cli.Rendering;

/// <summary>`segment`'s writing of each finished batch on its own thread, one batch behind the network.</summary>
public class WriteBehindTests
{
    [Fact]
    public void WritesInOrderAndHandingOnWaitsForThePreviousBatch()
    {
        var written = new List<int>();
        using var release = new ManualResetEventSlim();
        using var writing = new WriteBehind();
        writing.Post(() =>
        {
            release.Wait();
            lock (written) written.Add(1);
        });
        var second = new Thread(() => writing.Post(() =>
        {
            lock (written) written.Add(2);
        }));
        second.Start();
        // The second hand-off waits while the first batch is still being written: at most one batch is ever held.
        Assert.False(second.Join(200));
        lock (written) Assert.Empty(written);
        release.Set();
        second.Join();
        writing.Drain();
        Assert.Equal([1, 2], written);
    }

    [Fact]
    public void AFailureOfTheWritingIsThrownAsItWasOnTheNextHandOffOrDrain()
    {
        using var writing = new WriteBehind();
        writing.Post(() => throw new IOException("disk full writing a.png"));
        var error = Assert.Throws<IOException>(() => writing.Post(() => { }));
        Assert.Equal("disk full writing a.png", error.Message);

        using var other = new WriteBehind();
        other.Post(() => throw new UnauthorizedAccessException("b.png"));
        Assert.Throws<UnauthorizedAccessException>(other.Drain);
    }

    [Fact]
    public void DisposingFinishesTheBatchInFlight()
    {
        bool finished = false;
        using (var writing = new WriteBehind())
        {
            writing.Post(() =>
            {
                Thread.Sleep(50);
                finished = true;
            });
        }
        Assert.True(finished);
    }
}

namespace NativeSeg.Cli.Rendering;

/// <summary>
/// Runs `segment`'s writing of each finished batch (overlays drawn and PNG-encoded, explain figures, results lines,
/// progress) on a thread of its own while the network segments the next batch. Strictly one batch behind: handing
/// on a batch first waits for the previous one's writing to end, so batches are written in order, one at a time, and
/// no more than one finished batch is ever held. A failure of the writing is thrown on the caller's thread, as it
/// was thrown, by the next <see cref="Post"/> or by <see cref="Drain"/>.
/// </summary>
internal sealed class WriteBehind : IDisposable
{
    private Task _inFlight = Task.CompletedTask;

    /// <summary>Waits for the previous batch's writing (throwing its failure), then starts <paramref name="write"/>.</summary>
    public void Post(Action write)
    {
        Drain();
        _inFlight = Task.Run(write);
    }

    /// <summary>Waits for the writing in flight to end; throws its failure as it was thrown.</summary>
    public void Drain() => _inFlight.GetAwaiter().GetResult();

    /// <summary>
    /// Waits for the writing in flight, whose images were segmented, so they still reach the results; a failure of it
    /// is not thrown here, where the caller is already leaving on a failure of its own (a finished run drains first).
    /// </summary>
    public void Dispose()
    {
        try
        {
            _inFlight.Wait();
        }
        catch (AggregateException)
        {
        }
    }
}

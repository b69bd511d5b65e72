using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using NativeSeg.Engine.Formats.Images;

namespace NativeSeg.Cli.Inputs;

/// <summary>One input read and decoded, or why it could not be.</summary>
internal sealed record DecodedInput(SegmentInput Input, Image? Image, string? Error);

/// <summary>
/// Reads and decodes the inputs on a thread of its own while the caller segments the batch before: a bounded
/// producer/consumer that holds at most <c>ahead</c> decoded images waiting (the next batch), so decoding overlaps the
/// device's work and memory still does not grow with the number of inputs. An image that cannot be read is handed
/// on with its error, in input order, and costs only itself; an error of the input source itself (a folder that
/// cannot be listed) ends the batches and is thrown to the caller as it was thrown here.
/// </summary>
internal sealed class DecodedInputs : IDisposable
{
    private readonly BlockingCollection<DecodedInput> _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _producer;
    private ExceptionDispatchInfo? _sourceError;

    /// <param name="read">Reads and decodes one input; IO, format and permission errors are the input's own.</param>
    /// <param name="ahead">Decoded images that may wait for the consumer: a batch's worth decodes the next batch during this one.</param>
    public DecodedInputs(IEnumerable<SegmentInput> inputs, Func<SegmentInput, Image> read, int ahead)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ahead, 1);
        _queue = new BlockingCollection<DecodedInput>(new ConcurrentQueue<DecodedInput>(), ahead);
        _producer = Task.Factory.StartNew(() => Produce(inputs, read), _stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>The decoded inputs in input order, <paramref name="size"/> at a time (the last batch may be shorter).</summary>
    public IEnumerable<IReadOnlyList<DecodedInput>> Batches(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        var batch = new List<DecodedInput>(size);
        foreach (var item in _queue.GetConsumingEnumerable())
        {
            batch.Add(item);
            if (batch.Count < size) continue;
            yield return batch;
            batch = new List<DecodedInput>(size);
        }
        if (batch.Count > 0) yield return batch;
        _sourceError?.Throw();
    }

    /// <summary>Stops decoding (the caller stopped early or failed) and waits for the decoding thread to end.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _producer.Wait();
        }
        catch (AggregateException e) when (e.InnerExceptions.All(i => i is OperationCanceledException))
        {
        }
        _queue.Dispose();
        _stop.Dispose();
    }

    private void Produce(IEnumerable<SegmentInput> inputs, Func<SegmentInput, Image> read)
    {
        try
        {
            foreach (var input in inputs)
            {
                DecodedInput decoded;
                try
                {
                    decoded = new DecodedInput(input, read(input), null);
                }
                catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException or NotSupportedException)
                {
                    decoded = new DecodedInput(input, null, e.Message);
                }
                _queue.Add(decoded, _stop.Token);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // Handed to the consumer, which throws it where the inputs were read before they were read on this thread.
            _sourceError = ExceptionDispatchInfo.Capture(e);
        }
        finally
        {
            _queue.CompleteAdding();
        }
    }
}

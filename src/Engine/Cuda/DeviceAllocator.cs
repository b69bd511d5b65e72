namespace NativeSeg.Engine.Cuda;

/// <summary>
/// Raw device memory for the caching pool: stream-ordered (cuMemAllocAsync / cuMemFreeAsync on the
/// runtime's stream) where the device supports memory pools, else plain cuMemAlloc / cuMemFree.
/// Decided once, so a block is always freed the way it was allocated.
/// </summary>
internal sealed unsafe class DeviceAllocator(DriverApi api, PrimaryContext context, nint stream, bool memoryPoolsSupported)
{
    public bool StreamOrdered { get; } = memoryPoolsSupported && api.cuMemAllocAsync != null && api.cuMemFreeAsync != null;

    public nint Allocate(long bytes)
    {
        context.MakeCurrent();
        nint pointer;
        if (StreamOrdered) api.Check(api.cuMemAllocAsync(&pointer, (nuint)bytes, stream));
        else api.Check(api.cuMemAlloc(&pointer, (nuint)bytes));
        return pointer;
    }

    public void Release(nint pointer)
    {
        context.MakeCurrent();
        if (StreamOrdered) api.Check(api.cuMemFreeAsync(pointer, stream));
        else api.Check(api.cuMemFree(pointer));
    }
}

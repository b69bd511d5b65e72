namespace NativeSeg.Tests.Models.MaskRcnn;

/// <summary>
/// Tests that compare a memory pool's bytes in use before and after a run: the pools are process-wide, so
/// these run alone, after the parallel tests, where no other test rents or returns blocks meanwhile.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PoolCollection
{
    public const string Name = "memory pool accounting";
}

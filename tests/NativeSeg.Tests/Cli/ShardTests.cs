using NativeSeg.Cli.Inputs;

namespace NativeSeg.Tests.Cli;

/// <summary>`--shard`: its parsing (I/N and Slurm's array variables) and the split of inputs by their relative path.</summary>
public class ShardTests
{
    [Theory]
    [InlineData("4/4")]
    [InlineData("-1/4")]
    [InlineData("1/0")]
    [InlineData("1")]
    [InlineData("a/b")]
    [InlineData("1/2/3")]
    public void AWrongSpecIsAnErrorSayingWhatIsExpected(string spec)
    {
        Assert.Null(Shard.Parse(spec, _ => null, out string? error));
        Assert.Equal($"--shard must be I/N with 0 <= I < N (e.g. 0/4 for the first of four shards) or slurm, got {spec}", error);
    }

    [Theory]
    [InlineData("3", "4", null, null, 3, 4)]
    [InlineData("4", "4", "1", null, 3, 4)]
    [InlineData("6", "4", "0", "2", 3, 4)]
    public void SlurmTakesTheShardFromTheArrayTask(string id, string count, string? min, string? step, int index, int shards)
    {
        var environment = new Dictionary<string, string?>
        {
            ["SLURM_ARRAY_TASK_ID"] = id, ["SLURM_ARRAY_TASK_COUNT"] = count, ["SLURM_ARRAY_TASK_MIN"] = min, ["SLURM_ARRAY_TASK_STEP"] = step,
        };
        Assert.Equal(new Shard(index, shards), Shard.Parse("slurm", name => environment.GetValueOrDefault(name), out string? error));
        Assert.Null(error);
    }

    [Fact]
    public void SlurmOutsideAnArrayTaskIsAnErrorNamingTheVariables()
    {
        Assert.Null(Shard.Parse("slurm", name => name == "SLURM_ARRAY_TASK_COUNT" ? "4" : null, out string? error));
        Assert.Contains("--shard slurm needs SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT", error);
        Assert.Contains("SLURM_ARRAY_TASK_ID=(unset), SLURM_ARRAY_TASK_COUNT=4", error);
        Assert.Null(Shard.Parse("slurm", name => name switch { "SLURM_ARRAY_TASK_ID" => "5", "SLURM_ARRAY_TASK_COUNT" => "4", _ => null }, out error));
        Assert.Contains("array task 5 is not one of 4 evenly spaced tasks from 0 in steps of 1", error);
    }

    [Fact]
    public void EveryPathIsInExactlyOneShardWhateverTheOrderAndTheShardsAreEven()
    {
        var paths = Enumerable.Range(0, 4000).Select(i => $"images/{i / 100}/{i:D6}.jpg").ToList();
        var shards = Enumerable.Range(0, 4).Select(i => new Shard(i, 4)).ToList();

        var owners = paths.Select(p => shards.Where(s => s.Contains(p)).ToList()).ToList();

        Assert.All(owners, o => Assert.Single(o));
        Assert.All(owners.GroupBy(o => o[0].Index), g => Assert.InRange(g.Count(), 900, 1100));
        // The shard is a function of the path alone: listing the paths in reverse changes nothing.
        Assert.Equal(owners.Select(o => o[0].Index), Enumerable.Reverse(paths).Select(p => shards.Single(s => s.Contains(p)).Index).Reverse());
        Assert.True(Shard.All.Contains("anything"));
    }
}

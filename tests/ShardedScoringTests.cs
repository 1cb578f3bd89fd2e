using LeadEngine.LeadScoring;
using LeadEngine.Tests.Serving;

namespace LeadEngine.Tests;

/// <summary>
/// Batch scoring as N workers (a Kubernetes Indexed Job): <c>score --shard I/N</c> in N processes at once, then
/// <c>merge-scores</c>, gives exactly the file one unsharded <c>score</c> writes.
/// </summary>
public sealed class ShardedScoringTests(ServingFixture fixture) : IClassFixture<ServingFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-shard-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public async Task ShardsMergeIntoTheUnshardedFile()
    {
        string whole = Path.Combine(_dir, "whole.csv"), merged = Path.Combine(_dir, "merged.csv");
        string[] common = ["--adapter", fixture.AdapterDir, "--data", fixture.LeadFile, "--device", "cpu"];
        var (code, _, err) = CliRunner.Run(["score", .. common, "--out", whole]);
        Assert.True(code == 0, err);
        const int shards = 3;
        var parts = Enumerable.Range(0, shards).Select(i => Path.Combine(_dir, $"part-{i}.csv")).ToArray();
        var runs = await Task.WhenAll(parts.Select((part, i) => Task.Run(() => CliRunner.Run(["score", .. common, "--out", part, "--shard", $"{i}/{shards}"]))));
        Assert.All(runs, r => Assert.True(r.Code == 0, r.Err));
        // Every shard holds some leads, each lead is in exactly one.
        var sizes = parts.Select(p => File.ReadAllLines(p).Length - 1).ToArray();
        Assert.All(sizes, n => Assert.True(n > 0, string.Join(", ", sizes)));
        Assert.Equal(File.ReadAllLines(whole).Length - 1, sizes.Sum());
        (code, _, err) = CliRunner.Run(["merge-scores", "--adapter", fixture.AdapterDir, "--data", fixture.LeadFile, "--out", merged,
            .. parts.SelectMany(p => new[] { "--part", p })]);
        Assert.True(code == 0, err);
        Assert.Equal(File.ReadAllText(whole), File.ReadAllText(merged));
        // A part left out is named, not a silently shorter file.
        (code, _, err) = CliRunner.Run(["merge-scores", "--adapter", fixture.AdapterDir, "--data", fixture.LeadFile, "--out", merged, "--part", parts[0]]);
        Assert.Equal(1, code);
        Assert.Contains("is in no part", err);
    }

    [Fact]
    public void ShardsAreStableAndSpread()
    {
        Assert.Equal(LeadShard.Of("L000042", 7), LeadShard.Of("L000042", 7));
        var counts = Enumerable.Range(0, 7000).GroupBy(i => LeadShard.Of($"L{i:D6}", 7)).Select(g => g.Count()).ToList();
        Assert.Equal(7, counts.Count);
        Assert.All(counts, c => Assert.InRange(c, 850, 1150));
        Assert.Throws<ArgumentException>(() => LeadShard.Parse("3/3"));
        Assert.Equal((2, 4), LeadShard.Parse("2/4"));
    }
}

using LeadEngine.LeadScoring;
using LeadEngine.Training;

namespace LeadEngine.Tests.Training;

/// <summary>HPRO pair construction from funnel stages.</summary>
public class FunnelPairBuilderTests
{
    private static readonly FunnelPairBuilder Auto = new(FunnelConfig.Automotive);

    [Fact]
    public void GlobalDominanceConvertedOverLost()
    {
        var pairs = Auto.BuildWithinBatch([new("a", "order", true), new("b", "lost", false)]);
        Assert.Equal([new PreferencePair(0, 1, 0)], pairs);
    }

    [Fact]
    public void KeyActionTestDriveOverNoDrive()
    {
        var pairs = Auto.BuildWithinBatch([new("a", "store_visit", false), new("b", "test_drive", false), new("c", "lost", false)]);
        Assert.Contains(new PreferencePair(1, 0, 1), pairs);
        Assert.Contains(new PreferencePair(1, 2, 1), pairs);
        Assert.Equal(2, pairs.Count);
    }

    [Fact]
    public void SoftSignalLongCallOverShortCall()
    {
        var pairs = Auto.BuildWithinBatch([new("a", "telemarketing", false, 30), new("b", "telemarketing", false, 300), new("c", "lead", false)]);
        Assert.Equal([new PreferencePair(1, 0, 2)], pairs);
    }

    [Fact]
    public void ConvertedLeadsOutrankEveryNonConvertedByTheHighestTier()
    {
        var pairs = Auto.BuildWithinBatch([new("won", "order", true, 10), new("drive", "test_drive", false, 500), new("lost", "lost", false, 900)]);
        Assert.Contains(new PreferencePair(0, 2, 0), pairs);
        Assert.Contains(new PreferencePair(1, 2, 1), pairs);
        Assert.DoesNotContain(pairs, p => p.Better == 2);
    }

    [Fact]
    public void TiesFormNoPair()
    {
        Assert.Empty(Auto.BuildWithinBatch([new("a", "order", true), new("b", "order", true)]));
        Assert.Empty(Auto.BuildWithinBatch([new("a", "lost", false), new("b", "lost", false, 999)]));
        Assert.Empty(Auto.BuildWithinBatch([new("a", "store_visit", false, 200), new("b", "telemarketing", false, 300)]));
        Assert.Empty(Auto.BuildWithinBatch([new("a", "lead", false), new("b", "lead", false, 500)]));
    }

    [Fact]
    public void UnknownStageNamesLeadAndStage()
    {
        var e = Assert.Throws<InvalidDataException>(() => Auto.BuildWithinBatch([new("lead-42", "showroom", false)]));
        Assert.Contains("lead-42", e.Message);
        Assert.Contains("'showroom'", e.Message);
    }

    [Fact]
    public void B2bFunnelFromJsonNeedsNoCode()
    {
        var funnel = FunnelConfig.Load(Path.Combine(Fixtures.RepoRoot, "funnels", "b2b.json"));
        var pairs = new FunnelPairBuilder(funnel).BuildWithinBatch([new("x", "won", true), new("y", "lost", false), new("z", "demo", false), new("w", "sql", false, 900), new("v", "sql", false, 60)]);
        Assert.Contains(new PreferencePair(0, 1, 0), pairs);
        Assert.Contains(new PreferencePair(2, 3, 1), pairs);
        Assert.Contains(new PreferencePair(3, 4, 2), pairs);
        Assert.Equal(FunnelConfig.Automotive.Stages, FunnelConfig.Load(Path.Combine(Fixtures.RepoRoot, "funnels", "automotive.json")).Stages);
    }

    [Fact]
    public void InvalidFunnelIsRejected()
    {
        string path = Path.GetTempFileName();
        File.WriteAllText(path, """{"stages":["a","b"],"lost_stages":["a"],"key_action_stage":"b"}""");
        Assert.Contains("listed twice", Assert.Throws<InvalidDataException>(() => FunnelConfig.Load(path)).Message);
        File.WriteAllText(path, """{"stages":["a","b"],"lost_stages":["x"],"key_action_stage":"c"}""");
        Assert.Contains("key_action_stage 'c'", Assert.Throws<InvalidDataException>(() => FunnelConfig.Load(path)).Message);
        File.Delete(path);
    }

    [Fact]
    public void SamplingAcrossTheSetIsDeterministic()
    {
        var leads = Enumerable.Range(0, 200).Select(i => new FunnelLead($"l{i}", FunnelConfig.Automotive.Stages.Append("lost").ElementAt(i % 6), i % 6 == 4, i * 7 % 400)).ToList();
        var a = Auto.SampleAcrossSet(leads, 50, seed: 3);
        Assert.Equal(50, a.Count);
        Assert.Equal(a, Auto.SampleAcrossSet(leads, 50, seed: 3));
        Assert.Equal(a.Count, a.Distinct().Count());
    }
}

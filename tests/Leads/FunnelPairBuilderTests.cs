using LeadEngine.LeadScoring;
using LeadEngine.Training;

namespace LeadEngine.Tests.Leads;

/// <summary>HPRO pair construction from funnel stages.</summary>
public class FunnelPairBuilderTests
{
    private static readonly FunnelPairBuilder Auto = new(FunnelConfig.Automotive);

    /// <summary>A lead with the outcome columns the pair builder reads.</summary>
    private static Lead L(string id, string stage, bool converted, double? callSeconds = null) =>
        new() { Id = id, CreatedAt = DateTimeOffset.UnixEpoch, Stage = stage, Converted = converted ? 1 : 0, CallSeconds = callSeconds };

    [Fact]
    public void GlobalDominanceConvertedOverLost()
    {
        var pairs = Auto.BuildWithinBatch([L("a", "order", true), L("b", "lost", false)]);
        Assert.Equal([new PreferencePair(0, 1, 0)], pairs);
    }

    [Fact]
    public void KeyActionTestDriveOverNoDrive()
    {
        var pairs = Auto.BuildWithinBatch([L("a", "store_visit", false), L("b", "test_drive", false), L("c", "lost", false)]);
        Assert.Contains(new PreferencePair(1, 0, 1), pairs);
        Assert.Contains(new PreferencePair(1, 2, 1), pairs);
        Assert.Equal(2, pairs.Count);
    }

    [Fact]
    public void SoftSignalLongCallOverShortCall()
    {
        var pairs = Auto.BuildWithinBatch([L("a", "telemarketing", false, 30), L("b", "telemarketing", false, 300), L("c", "lead", false)]);
        Assert.Equal([new PreferencePair(1, 0, 2)], pairs);
    }

    [Fact]
    public void ConvertedLeadsOutrankEveryNonConvertedByTheHighestTier()
    {
        var pairs = Auto.BuildWithinBatch([L("won", "order", true, 10), L("drive", "test_drive", false, 500), L("lost", "lost", false, 900)]);
        Assert.Contains(new PreferencePair(0, 2, 0), pairs);
        Assert.Contains(new PreferencePair(1, 2, 1), pairs);
        Assert.DoesNotContain(pairs, p => p.Better == 2);
    }

    [Fact]
    public void TiesFormNoPair()
    {
        Assert.Empty(Auto.BuildWithinBatch([L("a", "order", true), L("b", "order", true)]));
        Assert.Empty(Auto.BuildWithinBatch([L("a", "lost", false), L("b", "lost", false, 999)]));
        Assert.Empty(Auto.BuildWithinBatch([L("a", "store_visit", false, 200), L("b", "telemarketing", false, 300)]));
        Assert.Empty(Auto.BuildWithinBatch([L("a", "lead", false), L("b", "lead", false, 500)]));
    }

    [Fact]
    public void UnknownStageNamesLeadAndStage()
    {
        var e = Assert.Throws<InvalidDataException>(() => Auto.BuildWithinBatch([L("lead-42", "showroom", false)]));
        Assert.Contains("lead-42", e.Message);
        Assert.Contains("'showroom'", e.Message);
    }

    [Fact]
    public void B2bFunnelFromJsonNeedsNoCode()
    {
        var funnel = FunnelConfig.Load(Path.Combine(Fixtures.RepoRoot, "funnels", "b2b.json"));
        var pairs = new FunnelPairBuilder(funnel).BuildWithinBatch([L("x", "won", true), L("y", "lost", false), L("z", "demo", false), L("w", "sql", false, 900), L("v", "sql", false, 60)]);
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
        var leads = Enumerable.Range(0, 200).Select(i => L($"l{i}", FunnelConfig.Automotive.Stages.Append("lost").ElementAt(i % 6), i % 6 == 4, i * 7 % 400)).ToList();
        var a = Auto.SampleAcrossSet(leads, 50, seed: 3);
        Assert.Equal(50, a.Count);
        Assert.Equal(a, Auto.SampleAcrossSet(leads, 50, seed: 3));
        Assert.Equal(a.Count, a.Distinct().Count());
    }
}

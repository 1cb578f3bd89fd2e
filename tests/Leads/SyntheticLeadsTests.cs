using LeadEngine.LeadScoring;

namespace LeadEngine.Tests.Leads;

/// <summary>The synthetic funnel: deterministic, well-formed, about 1.5% positives, every HPRO tier present.</summary>
public sealed class SyntheticLeadsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-syn-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void DeterministicWellFormedAndSparse()
    {
        string a = Path.Combine(_dir, "a.csv"), b = Path.Combine(_dir, "b.csv");
        SyntheticLeads.WriteCsv(a, 5000, seed: 3);
        SyntheticLeads.WriteCsv(b, 5000, seed: 3);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        var data = LeadDataReader.Read(a, FunnelConfig.Automotive, requireOutcome: true);
        Assert.Equal(5000, data.Leads.Count);
        double rate = data.Leads.Average(l => l.Converted!.Value);
        Assert.InRange(rate, 0.008, 0.03);
        var pairs = new FunnelPairBuilder(FunnelConfig.Automotive).SampleAcrossSet(
            data.Leads, 3000, seed: 1);
        Assert.Equal([0, 1, 2], pairs.Select(p => p.Tier).Distinct().Order());
    }
}

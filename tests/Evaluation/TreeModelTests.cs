using LeadEngine.Evaluation;
using LeadEngine.LeadScoring;
using LeadEngine.LeadScoring.Metrics;

namespace LeadEngine.Tests.Evaluation;

/// <summary>The LightGBM models (binary and LambdaRank, with dialogue text and extra inputs) and the leak check.</summary>
public sealed class TreeModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-trees-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private IReadOnlyList<Lead> Leads(int count)
    {
        string csv = Path.Combine(_dir, $"leads{count}.csv");
        SyntheticLeads.WriteCsv(csv, count, seed: 7);
        return LeadDataReader.Read(csv, FunnelConfig.Automotive, requireOutcome: true).Leads;
    }

    [Fact]
    public void SavedModelPredictsTheSameAndReadsTheDialogue()
    {
        var (train, test) = TemporalSplit.Split(Leads(10000));
        var extra = train.Select((l, i) => new[] { (float)(i % 7), l.Converted == 1 ? 1f : 0f }).ToList();
        var testExtra = test.Select((_, i) => new[] { (float)(i % 7), 0f }).ToList();
        var model = GbdtModel.Train(train, FunnelConfig.Automotive, extraInputs: ["a", "b"], extra: extra);
        Assert.True(model.ReadsText);
        var before = model.Predict(test, testExtra);
        model.Save(_dir);
        var loaded = GbdtModel.Load(_dir);
        Assert.Equal(before, loaded.Predict(test, testExtra));
        Assert.All(before, p => Assert.InRange(p, 0, 1));
        Assert.Contains("2 extra inputs", Assert.Throws<ArgumentException>(() => model.Predict(test)).Message);
        // The synthetic dialogue carries intent: the text features must lift the ranking over the columns alone.
        var labels = test.Select(l => l.Converted!.Value).ToArray();
        double withText = LeadMetrics.RocAuc(GbdtModel.Train(train, FunnelConfig.Automotive).Predict(test), labels);
        double columnsOnly = LeadMetrics.RocAuc(GbdtModel.Train(train, FunnelConfig.Automotive, readText: false).Predict(test), labels);
        Assert.True(withText > columnsOnly, $"with dialogue {withText:F4} vs columns {columnsOnly:F4}");
    }

    [Fact]
    public void LambdaRankLearnsTheFunnelGrades()
    {
        var funnel = FunnelConfig.Automotive;
        Lead L(string stage, int converted, double? call = null) => new() { Id = "x", CreatedAt = DateTimeOffset.UnixEpoch, Stage = stage, Converted = converted, CallSeconds = call };
        // lost 0 < lead 2 < lead with a long call 3 < test drive 8 < converted 11.
        Assert.Equal([0f, 2f, 3f, 8f, 11f], new[] { L("lost", 0), L("lead", 0), L("lead", 0, 300), L("test_drive", 0), L("order", 1) }
            .Select(l => GbdtModel.Relevance(l, funnel)));
        var (train, test) = TemporalSplit.Split(Leads(2000));
        var ranker = GbdtModel.Train(train, funnel, GbdtObjective.LambdaRank);
        double auc = LeadMetrics.RocAuc(ranker.Predict(test), test.Select(l => l.Converted!.Value).ToArray());
        Assert.InRange(auc, 0.65, 1);
    }

    [Fact]
    public void LeakCheckFlagsAnOutcomeColumnOnly()
    {
        var leads = Leads(2000).Select((l, i) => l with
        {
            Features = [.. l.Features, new("rep_quality_tag", l.Converted == 1 ? "hot" : i % 9 == 0 ? "warm" : "cold"), new("crm_id", $"C{i}")],
        }).ToList();
        var suspects = LeakCheck.Find(leads);
        Assert.True(suspects.Count == 1, string.Join(", ", suspects));
        var suspect = suspects[0];
        Assert.Equal("rep_quality_tag", suspect.Column);
        Assert.True(suspect.Auc > 0.95);
    }
}

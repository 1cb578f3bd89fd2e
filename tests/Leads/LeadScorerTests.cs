using LeadEngine.Engine;
using LeadEngine.LeadScoring;
using LeadEngine.Engine.SafeTensors;
using LeadEngine.Training;
using LeadEngine.LeadScoring.Evaluation;

namespace LeadEngine.Tests.Leads;

/// <summary>The embedded scorer and the train → score → eval pipeline on a small model with the real vocabulary.</summary>
public sealed class LeadScorerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-scorer-").FullName;
    private static readonly Lazy<QwenTokenizer> Tokenizer = new(() => QwenTokenizer.FromDirectory(QwenTokenizer.DefaultDirectory(Fixtures.RepoRoot)));

    public void Dispose() => Directory.Delete(_dir, true);

    private string SmallModel()
    {
        string dir = Path.Combine(_dir, "model");
        var config = new QwenConfig { HiddenSize = 32, Layers = 1, Heads = 2, KvHeads = 1, IntermediateSize = 48, VocabSize = 151936, TieWordEmbeddings = true, RopeTheta = 1e6 };
        SyntheticModel.Write(dir, config, TensorDType.BF16, seed: 2);
        return dir;
    }

    private IReadOnlyList<Lead> Leads(int count)
    {
        string csv = Path.Combine(_dir, $"leads{count}.csv");
        SyntheticLeads.WriteCsv(csv, count, seed: 4);
        return LeadDataReader.Read(csv, FunnelConfig.Automotive, requireOutcome: true).Leads;
    }

    [Fact]
    public void ConcurrentCallersGetTheSameScoresAsOne()
    {
        string modelDir = SmallModel(), adapterDir = Path.Combine(_dir, "adapter");
        using (var model = QwenModel.Load(modelDir, Fixtures.Simd))
        using (var adapter = LoraAdapter.Create(model.Config, Fixtures.Simd, 4, 8, LoraAdapter.AllTargets, 1))
        using (var heads = ScoreHeads.Create(model.Config, Fixtures.Simd, 1))
        {
            AdapterCheckpoint.Save(adapterDir, adapter, heads);
        }
        var leads = Leads(24);
        using var scorer = LeadScorer.Load(modelDir, adapterDir, Tokenizer.Value, device: Fixtures.Simd, batchSize: 5);
        var sequential = scorer.ScoreBatch(leads);
        Assert.Equal(leads.Select(l => l.Id), sequential.Select(s => s.LeadId));
        var concurrent = new LeadScore[leads.Count];
        Parallel.For(0, leads.Count, new ParallelOptions { MaxDegreeOfParallelism = 6 }, i => concurrent[i] = scorer.Score(leads[i]));
        for (int i = 0; i < leads.Count; i++)
        {
            Assert.Equal(sequential[i].Probability, concurrent[i].Probability, 5);
            Assert.Equal(sequential[i].RankingScore, concurrent[i].RankingScore, 5);
            Assert.InRange(concurrent[i].Probability, 0, 1);
            Assert.InRange(concurrent[i].Score, 0, 100);
            Assert.Contains(concurrent[i].Grade, "ABCD");
        }
    }

    /// <summary>What a host does: open a scorer from the adapter folder alone and read leads with its mapping.</summary>
    [Fact]
    public void OpenFindsTheModelFromTheAdapterAndReadsLeadsWithItsMapping()
    {
        string modelDir = SmallModel(), adapterDir = Path.Combine(_dir, "adapter");
        using (var model = QwenModel.Load(modelDir, Fixtures.Simd))
        using (var adapter = LoraAdapter.Create(model.Config, Fixtures.Simd, 4, 8, LoraAdapter.AllTargets, 1))
        using (var heads = ScoreHeads.Create(model.Config, Fixtures.Simd, 1))
        {
            AdapterCheckpoint.Save(adapterDir, adapter, heads, baseModel: modelDir);
        }
        string csv = Path.Combine(_dir, "to-score.csv");
        File.WriteAllText(csv, "lead_id,created_at,source\nA1,2024-01-02,web\nA2,2024-01-03,referral\n");
        using var opened = LeadScorer.Open(adapterDir, Fixtures.Simd);
        using var loaded = LeadScorer.Load(modelDir, adapterDir, Tokenizer.Value, device: Fixtures.Simd);
        var leads = opened.ReadLeads(csv).Leads;
        Assert.Equal(["A1", "A2"], leads.Select(l => l.Id));
        var fromOpen = opened.ScoreBatch(leads);
        var fromLoad = loaded.ScoreBatch(leads);
        for (int i = 0; i < leads.Count; i++) Assert.Equal(fromLoad[i].Probability, fromOpen[i].Probability, 6);
        string missing = Path.Combine(_dir, "no-such-adapter");
        Assert.Contains(missing, Assert.Throws<DirectoryNotFoundException>(() => LeadScorer.Open(missing, Fixtures.Simd)).Message);
    }

    [Fact]
    public void TrainScoreEvaluateWritesTheReport()
    {
        string modelDir = SmallModel(), adapterDir = Path.Combine(_dir, "trained"), reportDir = Path.Combine(_dir, "report");
        var (train, test) = TemporalSplit.Split(Leads(400));
        using (var model = QwenModel.Load(modelDir, Fixtures.Simd))
        {
            var reports = new List<TrainStepReport>();
            LeadPipeline.Train(model, Tokenizer.Value, train, FunnelConfig.Automotive, new LeadTrainingOptions { BatchSize = 32, Rank = 2, Alpha = 4 }, adapterDir, reports.Add);
            Assert.Equal((train.Count + 31) / 32, reports.Count);
        }
        var scores = LeadPipeline.Score(modelDir, adapterDir, Tokenizer.Value, Fixtures.Simd, test, calibrationLeads: train);
        Assert.True(File.Exists(Path.Combine(adapterDir, LeadScorer.CalibrationFile)));
        // The adapter keeps the feature columns it was trained on, and the scorer refuses others with them.
        var schema = LeadSchema.Load(adapterDir)!;
        Assert.Equal(["age", "budget_band", "channel", "current_stage", "model_interest", "prior_customer"], schema.Features);
        Assert.True(schema.Accepts("dialogue") && !schema.Accepts("call_quality_tag"));
        Assert.Equal(FunnelConfig.Automotive.Stages, schema.Funnel.Stages);
        var metrics = LeadPipeline.Evaluate([("model", scores)], train, test, FunnelConfig.Automotive, reportDir);
        Assert.Equal(["model", "model: pairwise head", "Funnel+Recency", "LightGBM (columns + dialogue TF-IDF)", "LightGBM LambdaRank (funnel grades)"],
            metrics.Select(m => m.Name));
        Assert.All(metrics, m => Assert.InRange(m.Auc, 0, 1));
        foreach (var file in new[] { "report.md", "report.json" })
            Assert.True(new FileInfo(Path.Combine(reportDir, file)).Length > 100, file);
        Evaluation.ChartAssert.ShowsEverySeries(reportDir, "gains", metrics.Select(m => m.Name));
    }
}

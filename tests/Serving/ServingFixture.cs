using LeadEngine.Engine;
using LeadEngine.LeadScoring;
using LeadEngine.Engine.SafeTensors;
using LeadEngine.Training;

namespace LeadEngine.Tests.Serving;

/// <summary>
/// A small scorer for the service tests: a one-layer Qwen2 with the real vocabulary, an untrained
/// adapter with heads and a lead schema, and synthetic leads. Made once per test class.
/// </summary>
public sealed class ServingFixture : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("le-serve-").FullName;
    public string ModelDir => Path.Combine(Root, "model");
    public string AdapterDir => Path.Combine(Root, "adapter");
    public string LeadFile => Path.Combine(Root, "leads.csv");
    public IReadOnlyList<Lead> Leads { get; }
    public QwenTokenizer Tokenizer { get; } = QwenTokenizer.FromDirectory(QwenTokenizer.DefaultDirectory(Fixtures.RepoRoot));

    public ServingFixture()
    {
        var config = new QwenConfig { HiddenSize = 32, Layers = 1, Heads = 2, KvHeads = 1, IntermediateSize = 48, VocabSize = 151936, TieWordEmbeddings = true, RopeTheta = 1e6 };
        SyntheticModel.Write(ModelDir, config, TensorDType.BF16, seed: 2);
        SyntheticLeads.WriteCsv(LeadFile, 400, seed: 5);
        Leads = LeadDataReader.Read(LeadFile, FunnelConfig.Automotive, requireOutcome: true).Leads;
        using var model = QwenModel.Load(ModelDir, Fixtures.Simd);
        using var adapter = LoraAdapter.Create(model.Config, Fixtures.Simd, 4, 8, LoraAdapter.AllTargets, 1);
        using var heads = ScoreHeads.Create(model.Config, Fixtures.Simd, 1);
        AdapterCheckpoint.Save(AdapterDir, adapter, heads, baseModel: Path.GetFullPath(ModelDir));
        LeadSchema.Of(Leads, FunnelConfig.Automotive).Save(AdapterDir);
    }

    /// <summary>A scorer over the fixture (the caller disposes it).</summary>
    public LeadScorer Scorer(int batchSize = 8) => LeadScorer.Load(ModelDir, AdapterDir, Tokenizer, device: Fixtures.Simd, batchSize: batchSize);

    public void Dispose() => Directory.Delete(Root, true);
}

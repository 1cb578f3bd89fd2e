using LeadEngine.Engine;
using LeadEngine.Engine.Leads;
using LeadEngine.Kernels;
using LeadEngine.Training.Evaluation;

namespace LeadEngine.Training;

/// <summary>Settings of a lead-scoring training run.</summary>
public sealed record LeadTrainingOptions
{
    /// <summary>Passes over the training leads.</summary>
    public int Epochs { get; init; } = 1;
    /// <summary>Leads per batch.</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Heads' learning rate; LoRA gets it divided by <see cref="LoraRateDivisor"/>.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>LoRA rate divisor.</summary>
    public double LoraRateDivisor { get; init; } = 20;
    /// <summary>LoRA rank.</summary>
    public int Rank { get; init; } = 8;
    /// <summary>LoRA alpha.</summary>
    public float Alpha { get; init; } = 16;
    /// <summary>Loss weights (HPRO off: weight 0).</summary>
    public LossWeights Weights { get; init; } = new();
    /// <summary>Seed of initialisation and batch order.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>Activation recomputation.</summary>
    public bool Recompute { get; init; }
}

/// <summary>The lead-scoring workflow: split, train, score, evaluate beside the baselines.</summary>
public static class LeadPipeline
{
    /// <summary>Reads labelled leads and splits them 7:3 by time.</summary>
    public static (IReadOnlyList<Lead> Train, IReadOnlyList<Lead> Test, int Skipped) LoadAndSplit(string path, FunnelConfig funnel, bool skipBadRows)
    {
        var data = LeadDataReader.Read(path, funnel, requireOutcome: true, skipBadRows);
        var (train, test) = TemporalSplit.Split(data.Leads);
        return (train, test, data.Skipped.Count);
    }

    /// <summary>
    /// Trains LoRA + heads on <paramref name="train"/> and writes the adapter folder with its lead
    /// schema; starts from the adapter and heads in <paramref name="warmStart"/> when given (rank and
    /// targets from there), else from a fresh initialisation.
    /// </summary>
    public static void Train(QwenModel model, QwenTokenizer tokenizer, IReadOnlyList<Lead> train, FunnelConfig funnel, LeadTrainingOptions options,
        string outDir, Action<TrainStepReport>? progress = null, string? warmStart = null)
    {
        var prompts = new PromptBuilder(tokenizer);
        var batches = LeadBatches.Build(train, prompts, new FunnelPairBuilder(funnel), options.BatchSize, options.Seed);
        int steps = options.Epochs * batches.Count;
        var (adapter, heads) = warmStart is not null ? AdapterCheckpoint.Load(warmStart, model)
            : (LoraAdapter.Create(model.Config, model.Device, options.Rank, options.Alpha, LoraAdapter.AllTargets, options.Seed),
               ScoreHeads.Create(model.Config, model.Device, options.Seed));
        using var ownedAdapter = adapter;
        using var ownedHeads = heads;
        using var optimizer = new AdamW(new AdamWOptions
        {
            LearningRate = options.LearningRate,
            LoraRateDivisor = options.LoraRateDivisor,
            Schedule = new LearningRateSchedule(Math.Max(1, steps / 20), steps, DecayKind.Cosine),
        }, adapter.Parameters, heads.Parameters);
        var trainer = new Trainer(model, adapter, heads, new LeadObjective(options.Weights), optimizer, new TrainerOptions
        {
            Steps = steps, OutputDirectory = outDir, Recompute = options.Recompute, Seed = options.Seed, BaseModel = Path.GetFullPath(model.Directory),
        });
        foreach (var report in trainer.Run(batches)) progress?.Invoke(report);
        LeadSchema.Of(train, funnel).Save(outDir);
    }

    /// <summary>
    /// Trains an adapter folder from the model folder (<see cref="Train"/>), then sets its score
    /// percentiles from <paramref name="train"/> and scores <paramref name="score"/> with it (none by default).
    /// </summary>
    public static IReadOnlyList<LeadScore> TrainAndCalibrate(string modelDir, QwenTokenizer tokenizer, ComputeDevice device, IReadOnlyList<Lead> train,
        FunnelConfig funnel, LeadTrainingOptions options, string outDir, Action<TrainStepReport>? progress = null, string? warmStart = null,
        IReadOnlyList<Lead>? score = null)
    {
        using (var model = QwenModel.Load(modelDir, device))
            Train(model, tokenizer, train, funnel, options, outDir, progress, warmStart);
        return Score(modelDir, outDir, tokenizer, device, score ?? [], calibrationLeads: train);
    }

    /// <summary>Leads scored to set the 0–100 percentiles (a seeded sample of the training leads).</summary>
    public const int CalibrationSample = 2000;

    /// <summary>
    /// Scores leads with a trained adapter folder; first, when <paramref name="calibrationLeads"/> are
    /// given, writes the score percentiles from a seeded sample of at most <see cref="CalibrationSample"/> of them.
    /// </summary>
    public static IReadOnlyList<LeadScore> Score(string modelDir, string adapterDir, QwenTokenizer tokenizer, ComputeDevice device, IReadOnlyList<Lead> leads,
        IReadOnlyList<Lead>? calibrationLeads = null)
    {
        using var scorer = LeadScorer.Load(modelDir, adapterDir, tokenizer, device: device);
        if (calibrationLeads is not null)
        {
            var sample = calibrationLeads.ToArray();
            new Random(1).Shuffle(sample);
            scorer.Calibrate(sample[..Math.Min(sample.Length, CalibrationSample)]);
        }
        return scorer.ScoreBatch(leads);
    }

    /// <summary>
    /// The eval report over <paramref name="test"/>: each adapter (ranked by its pairwise score when
    /// trained with HPRO, else by its probability; calibration from the pointwise probability),
    /// Funnel+Recency, and GBDT trained on <paramref name="train"/>.
    /// </summary>
    public static IReadOnlyList<ModelMetrics> Evaluate(IReadOnlyList<(string Name, IReadOnlyList<LeadScore> Scores, bool RankByPairwise)> adapters,
        IReadOnlyList<Lead> train, IReadOnlyList<Lead> test, FunnelConfig funnel, string reportDir)
    {
        var labels = test.Select(l => l.Converted!.Value).ToArray();
        var models = adapters.Select(a => new ScoredModel(a.Name, a.Scores.Select(s => a.RankByPairwise ? s.RankingScore : s.Probability).ToArray(),
            a.Scores.Select(s => s.Probability).ToArray())).ToList();
        models.Add(new ScoredModel("Funnel+Recency", FunnelRecencyBaseline.Score(test, funnel), null));
        var gbdt = GbdtBaseline.Train(train).Predict(test);
        models.Add(new ScoredModel("GBDT (LightGBM, tabular)", gbdt, gbdt));
        return EvaluationReport.Write(reportDir, models, labels);
    }
}

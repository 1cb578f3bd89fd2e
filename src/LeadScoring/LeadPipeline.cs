using LeadEngine.Engine;
using LeadEngine.Kernels;
using LeadEngine.LeadScoring.Metrics;
using LeadEngine.Training;

namespace LeadEngine.LeadScoring;

/// <summary>The lead-scoring workflow: split, train, choose, score, evaluate beside the baselines.</summary>
public static class LeadPipeline
{
    /// <summary>Reads labelled leads (through <paramref name="columns"/>) and splits them 7:3 by time.</summary>
    public static (IReadOnlyList<Lead> Train, IReadOnlyList<Lead> Test, LeadDataSet Data) LoadAndSplit(string path, FunnelConfig funnel, bool skipBadRows,
        LeadColumns? columns = null)
    {
        var data = LeadDataReader.Read(path, funnel, requireOutcome: true, skipBadRows, columns);
        var (train, test) = TemporalSplit.Split(data.Leads);
        return (train, test, data);
    }

    /// <summary>
    /// Trains LoRA + heads on <paramref name="train"/> and writes the adapter folder with its lead
    /// schema and, for wide-and-deep heads, the column encoder; starts from the adapter, heads and
    /// encoder in <paramref name="warmStart"/> when given (rank, targets and features from there), else
    /// from a fresh initialisation.
    /// </summary>
    public static void Train(QwenModel model, QwenTokenizer tokenizer, IReadOnlyList<Lead> train, FunnelConfig funnel, LeadTrainingOptions options,
        string outDir, Action<TrainStepReport>? progress = null, string? warmStart = null, LeadColumns? columns = null)
    {
        var prompts = new PromptBuilder(tokenizer);
        var encoder = warmStart is not null ? LeadFeatureEncoder.Load(warmStart) : options.StructuredFeatures ? LeadFeatureEncoder.Fit(train) : null;
        if (encoder is { Width: 0 }) encoder = null;
        var batches = LeadBatches.Build(train, prompts, new FunnelPairBuilder(funnel), options.BatchSize, options.Seed, encoder);
        int steps = options.Epochs * batches.Count;
        var (adapter, heads) = warmStart is not null ? AdapterCheckpoint.Load(warmStart, model)
            : (LoraAdapter.Create(model.Config, model.Device, options.Rank, options.Alpha, LoraAdapter.AllTargets, options.Seed),
               ScoreHeads.Create(model.Config, model.Device, options.Seed, encoder?.Width ?? 0));
        using var ownedAdapter = adapter;
        using var ownedHeads = heads;
        if (heads.FeatureCount != (encoder?.Width ?? 0))
            throw new InvalidDataException($"{warmStart}: the score heads read {heads.FeatureCount} structured features, the folder's encoder gives {encoder?.Width ?? 0}");
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
        LeadSchema.Of(train, funnel, columns).Save(outDir);
        encoder?.Save(outDir);
        Record(options, train.Count, heads.FeatureCount, TrainingRecord.HeadsScorer, "trained without a comparison: the pointwise head's probability").Save(outDir);
    }

    private static TrainingRecord Record(LeadTrainingOptions options, int leads, int features, string scorer, string reason,
        ValidationResult[]? validation = null, int validationLeads = 0) => new()
        {
            LossWeights = [options.Weights.Bce, options.Weights.Hpro, options.Weights.Lm], Epochs = options.Epochs, LearningRate = options.LearningRate,
            TrainingLeads = leads, HeadFeatures = features, Scorer = scorer, Reason = reason, Validation = validation ?? [], ValidationLeads = validationLeads,
        };

    /// <summary>
    /// Trains an adapter folder from the model folder (<see cref="Train"/>), then sets its score
    /// percentiles from <paramref name="train"/> and scores <paramref name="score"/> with it (none by default).
    /// </summary>
    public static IReadOnlyList<LeadScore> TrainAndCalibrate(string modelDir, QwenTokenizer tokenizer, ComputeDevice device, IReadOnlyList<Lead> train,
        FunnelConfig funnel, LeadTrainingOptions options, string outDir, Action<TrainStepReport>? progress = null, string? warmStart = null,
        IReadOnlyList<Lead>? score = null, LeadColumns? columns = null)
    {
        using (var model = QwenModel.Load(modelDir, device))
            Train(model, tokenizer, train, funnel, options, outDir, progress, warmStart, columns);
        return Score(modelDir, outDir, tokenizer, device, score ?? [], calibrationLeads: train);
    }

    /// <summary>Names of the models <see cref="TrainAndSelect"/> compares.</summary>
    public const string HeadsCandidate = "LLM heads (wide & deep)",
        BlendCandidate = "stacked + LightGBM blend (mean log-odds)",
        TreesCandidate = "LightGBM alone (columns and dialogue)";

    /// <summary>
    /// The product's default training: LoRA + wide-and-deep heads; LightGBM stacked on the columns, the
    /// dialogue and the heads' outputs, blended with LightGBM alone; or LightGBM alone: whichever ranks the
    /// latest training leads best.
    /// <list type="number">
    /// <item>The training leads (in time order) are cut into <see cref="LeadTrainingOptions.Folds"/> consecutive folds; for each,
    /// an LLM trained on the other folds scores it, so every training lead has heads' outputs from a model that never saw it.</item>
    /// <item>The last fold is the validation slice: the heads' probability there (from the model trained on the earlier folds)
    /// against the blend (<see cref="LeadScorer.Blend"/>) of the stacked model fitted on the earlier folds' leads and their
    /// out-of-fold outputs with LightGBM alone fitted on the same leads.</item>
    /// <item>LightGBM alone (columns and dialogue, fitted on the earlier folds) is the third candidate, so the default is never
    /// one that validated worse than the plain trees.</item>
    /// <item>The final LLM trains on all training leads; the tree models the winner needs are refitted on all of them (the
    /// stacked one with their out-of-fold outputs) and saved in <see cref="LeadScorer.StackerDirectory"/> and
    /// <see cref="LeadScorer.TreesDirectory"/>.</item>
    /// </list>
    /// The stacked model alone is not a candidate: it learns from the fold LLMs' outputs but reads the final LLM's, and on
    /// drifting data (the bank file) those moved outside the range it learned from: it validated best, then ranked the test
    /// period 0.024 below LightGBM alone. Its validation AUC is logged beside the candidates'.
    /// Writes <see cref="TrainingRecord"/> with the comparison and calibrates the score percentiles.
    /// </summary>
    /// <param name="modelDir">The base model.</param>
    /// <param name="tokenizer">Its tokenizer.</param>
    /// <param name="device">Where training runs.</param>
    /// <param name="train">The labelled training leads.</param>
    /// <param name="funnel">Their funnel.</param>
    /// <param name="options">Training settings.</param>
    /// <param name="outDir">The adapter folder written.</param>
    /// <param name="log">Progress lines.</param>
    /// <param name="progress">Training steps.</param>
    /// <param name="columns">The column mapping, recorded in the lead schema.</param>
    /// <param name="warmStart">An adapter folder every LLM (each fold's and the final) starts from, as an update does; null: a fresh start.</param>
    public static TrainingRecord TrainAndSelect(string modelDir, QwenTokenizer tokenizer, ComputeDevice device, IReadOnlyList<Lead> train,
        FunnelConfig funnel, LeadTrainingOptions options, string outDir, Action<string>? log = null, Action<TrainStepReport>? progress = null,
        LeadColumns? columns = null, string? warmStart = null)
    {
        int folds = options.Folds;
        if (folds < 2) throw new ArgumentOutOfRangeException(nameof(options), $"--folds {folds}: the stacked model needs at least 2 time folds");
        if (train.Count < 10 * folds) throw new ArgumentException($"{train.Count} training leads are too few for {folds} time folds");
        var ordered = train.OrderBy(l => l.CreatedAt).ThenBy(l => l.Id, StringComparer.Ordinal).ToList();
        int[] bounds = Enumerable.Range(0, folds + 1).Select(k => (int)((long)ordered.Count * k / folds)).ToArray();
        var outOfFold = new LeadLlmOutputs[ordered.Count];
        string foldRoot = Path.Combine(outDir, "folds");
        using (var model = QwenModel.Load(modelDir, device))
        {
            for (int k = 0; k < folds; k++)
            {
                var held = ordered[bounds[k]..bounds[k + 1]];
                var fit = ordered[..bounds[k]].Concat(ordered[bounds[k + 1]..]).ToList();
                log?.Invoke($"fold {k + 1}/{folds}: training on {fit.Count:N0} leads to score the {held.Count:N0} of fold {k + 1} out of fold");
                string foldDir = Path.Combine(foldRoot, $"fold{k + 1}");
                Train(model, tokenizer, fit, funnel, options, foldDir, progress, warmStart, columns);
                using var scorer = LeadScorer.Load(modelDir, foldDir, tokenizer, device: device);
                var outputs = scorer.LlmOutputs(held);
                for (int i = 0; i < held.Count; i++) outOfFold[bounds[k] + i] = outputs[i];
            }
            log?.Invoke($"final LLM: training on all {ordered.Count:N0} leads");
            Train(model, tokenizer, ordered, funnel, options, outDir, progress, warmStart, columns);
        }
        Directory.Delete(foldRoot, recursive: true);

        // Validation on the last fold: every candidate fitted on the earlier folds only.
        var earlier = ordered[..bounds[folds - 1]];
        var validation = ordered[bounds[folds - 1]..];
        var labels = validation.Select(l => l.Converted!.Value).ToArray();
        var earlierOutputs = outOfFold[..bounds[folds - 1]];
        var validationOutputs = outOfFold[bounds[folds - 1]..];
        ValidationResult Result(string name, double[] p) => new(name, LeadMetrics.RocAuc(p, labels), LeadMetrics.Brier(p, labels));
        var heads = Result(HeadsCandidate, validationOutputs.Select(o => Logistic.Sigmoid(o.PointwiseLogit)).ToArray());
        var stackedValidation = GbdtModel.Train(earlier, funnel, extraInputs: LeadLlmOutputs.Names, extra: LeadLlmOutputs.InputsOf(earlierOutputs))
            .Predict(validation, LeadLlmOutputs.InputsOf(validationOutputs));
        var treesValidation = GbdtModel.Train(earlier, funnel).Predict(validation);
        var blend = Result(BlendCandidate, stackedValidation.Zip(treesValidation, LeadScorer.Blend).ToArray());
        log?.Invoke($"validation: the stacked model alone (not a candidate: the blend bounds it) ranks AUC {LeadMetrics.RocAuc(stackedValidation, labels):F4}");
        var trees = Result(TreesCandidate, treesValidation);
        // The best AUC wins; on a tie the earlier candidate (heads before the blend before trees alone).
        var candidates = new[] { (heads, Scorer: TrainingRecord.HeadsScorer), (blend, Scorer: TrainingRecord.BlendScorer), (trees, Scorer: TrainingRecord.TreesScorer) };
        var (chosen, winner) = candidates.Aggregate((best, next) => next.Item1.Auc > best.Item1.Auc ? next : best);
        string stackerDir = Path.Combine(outDir, LeadScorer.StackerDirectory), treesDir = Path.Combine(outDir, LeadScorer.TreesDirectory);
        foreach (string dir in new[] { stackerDir, treesDir })
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        if (winner == TrainingRecord.BlendScorer)
            GbdtModel.Train(ordered, funnel, extraInputs: LeadLlmOutputs.Names, extra: LeadLlmOutputs.InputsOf(outOfFold)).Save(stackerDir);
        if (winner != TrainingRecord.HeadsScorer)
            GbdtModel.Train(ordered, funnel).Save(treesDir);
        string reason = $"{chosen.Name} ranked the latest {validation.Count:N0} training leads best: AUC {chosen.Auc:F4} vs " +
            string.Join(" and ", candidates.Where(c => c.Scorer != winner).Select(c => $"{c.Item1.Auc:F4} ({c.Item1.Name})"));
        int features = LeadFeatureEncoder.Load(outDir)?.Width ?? 0;
        var record = Record(options, ordered.Count, features, winner, reason, [heads, blend, trees], validation.Count);
        record.Save(outDir);
        Score(modelDir, outDir, tokenizer, device, [], calibrationLeads: ordered);
        return record;
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
}

using LeadEngine.Engine;
using LeadEngine.Kernels;
using LeadEngine.Training;
using System.Text.Json;

namespace LeadEngine.LeadScoring;

/// <summary>
/// The embedded scorer: loads a Qwen model, a LoRA adapter, the score heads (with their
/// structured-feature encoder when they read the lead's columns) and the tree models training chose
/// (<see cref="StackerDirectory"/>, <see cref="TreesDirectory"/>), once; then scores leads. Thread-safe (concurrent callers are serialised on
/// the device), no console output.
/// </summary>
public sealed class LeadScorer : IDisposable
{
    /// <summary>File beside the adapter with the training set's probability percentiles.</summary>
    public const string CalibrationFile = "score_percentiles.json";

    /// <summary>Sub-folder of the adapter holding the stacked tree model (it reads <see cref="LeadLlmOutputs.Names"/>), when training chose it.</summary>
    public const string StackerDirectory = "stacker";

    /// <summary>Sub-folder of the adapter holding LightGBM over the columns and the dialogue alone, when training chose it.</summary>
    public const string TreesDirectory = "trees";

    private readonly ComputeDevice _device;
    private readonly bool _ownsDevice;
    private readonly QwenModel _model;
    private readonly LoraAdapter _adapter;
    private readonly ScoreHeads _heads;
    private readonly PromptBuilder _prompts;
    private readonly string _adapterDir;
    private readonly LeadFeatureEncoder? _features;
    private readonly GbdtModel? _stacker, _trees;
    private double[] _percentiles;
    private readonly Lock _gate = new();

    /// <summary>Leads per forward pass unless the host says otherwise.</summary>
    public const int DefaultBatchSize = 16;

    /// <summary>
    /// Leads per forward pass: the one decision of pass size (memory and device efficiency). <see cref="ScoreBatch"/> cuts what it
    /// is given into passes of this size; the service's queue only chooses which waiting leads share a pass, up to this size.
    /// </summary>
    public int BatchSize { get; }

    /// <summary>
    /// Identifies the weights that produce the scores: the first 12 hex digits of the SHA-256 of
    /// the adapter file (LoRA and heads), so two folders with the same weights share a version.
    /// </summary>
    public string ModelVersion { get; }

    /// <summary>The feature columns and funnel the adapter was trained with; null for adapters saved before schemas were kept.</summary>
    public LeadSchema? Schema { get; }

    /// <summary>Whether the stacked tree model takes part in the scores.</summary>
    public bool Stacked => _stacker is not null;

    /// <summary>The encoder of the columns the heads read; null when they read the hidden state only.</summary>
    public LeadFeatureEncoder? FeatureEncoder => _features;

    private LeadScorer(ComputeDevice device, bool ownsDevice, QwenModel model, LoraAdapter adapter, ScoreHeads heads, PromptBuilder prompts,
        string adapterDir, double[] percentiles, int batchSize, string modelVersion, LeadSchema? schema, LeadFeatureEncoder? features, GbdtModel? stacker, GbdtModel? trees)
    {
        _features = features;
        _stacker = stacker;
        _trees = trees;
        ModelVersion = modelVersion;
        Schema = schema;
        _adapterDir = adapterDir;
        _device = device;
        _ownsDevice = ownsDevice;
        _model = model;
        _adapter = adapter;
        _heads = heads;
        _prompts = prompts;
        _percentiles = percentiles;
        BatchSize = batchSize;
    }

    /// <summary>The model folder an adapter was trained on (its adapter_config.json), else the built-in default (written once).</summary>
    public static string ModelFor(string adapterDir) => AdapterCheckpoint.BaseModel(adapterDir) ?? BuiltInModel.EnsureModel();

    /// <summary>
    /// Loads a scorer from an adapter folder alone, as a host does: the model it records (else the built-in
    /// default) and that model's tokenizer. Read leads for it with <see cref="ReadLeads"/>.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">No such adapter folder.</exception>
    public static LeadScorer Open(string adapterDir, ComputeDevice? device = null, int batchSize = DefaultBatchSize)
    {
        if (!Directory.Exists(adapterDir)) throw new DirectoryNotFoundException($"{adapterDir}: adapter folder not found");
        string modelDir = ModelFor(adapterDir);
        return Load(modelDir, adapterDir, QwenTokenizer.ForModel(modelDir), device: device, batchSize: batchSize);
    }

    /// <summary>
    /// Reads a lead file (CSV or JSON lines) with the column mapping and funnel this scorer was trained with;
    /// outcome columns may be absent. Bad rows throw, naming file, line and column, unless <paramref name="skipBadRows"/>.
    /// </summary>
    public LeadDataSet ReadLeads(string path, bool skipBadRows = false) =>
        LeadDataReader.Read(path, LeadSchema.FunnelOf(Schema), requireOutcome: false, skipBadRows, Schema?.Columns);

    /// <summary>
    /// Loads the model folder, the adapter folder (<c>adapter_model.safetensors</c> with heads,
    /// <c>adapter_config.json</c>, optional <see cref="CalibrationFile"/>, <see cref="LeadSchema.FileName"/>,
    /// <see cref="LeadFeatureEncoder.FileName"/> for heads that read the columns, <see cref="StackerDirectory"/>,
    /// <see cref="TreesDirectory"/>) and the tokenizer.
    /// </summary>
    public static LeadScorer Load(string modelDir, string adapterDir, QwenTokenizer tokenizer, PromptOptions? prompts = null,
        ComputeDevice? device = null, int batchSize = DefaultBatchSize)
    {
        bool owns = device is null;
        device ??= ComputeDevice.Open();
        QwenModel? model = null;
        LoraAdapter? adapter = null;
        try
        {
            model = QwenModel.Load(modelDir, device);
            string file = Path.Combine(adapterDir, "adapter_model.safetensors");
            adapter = LoraAdapter.Load(file, model.Config, device);
            adapter.Freeze(); // a scorer never trains it: let the CPU backend fold it into the packed weights
            var heads = ScoreHeads.Load(file, model.Config, device);
            string calibration = Path.Combine(adapterDir, CalibrationFile);
            var percentiles = File.Exists(calibration) ? JsonSerializer.Deserialize<double[]>(File.ReadAllText(calibration)) ?? [] : [];
            var features = LeadFeatureEncoder.Load(adapterDir);
            if (heads.FeatureCount != (features?.Width ?? 0))
                throw new InvalidDataException(features is null
                    ? $"{file}: the score heads read {heads.FeatureCount} structured features, but {adapterDir} has no {LeadFeatureEncoder.FileName}"
                    : $"{Path.Combine(adapterDir, LeadFeatureEncoder.FileName)}: encodes {features.Width} features, the score heads in {file} read {heads.FeatureCount}");
            var (stackerDir, treesDir) = TreeModelsOf(adapterDir);
            var treeDirs = new[] { stackerDir, treesDir }.OfType<string>().ToList();
            return new LeadScorer(device, owns, model, adapter, heads, new PromptBuilder(tokenizer, prompts), adapterDir, percentiles, batchSize,
                Version(file, treeDirs), LeadSchema.Load(adapterDir), features,
                stackerDir is null ? null : GbdtModel.Load(stackerDir), treesDir is null ? null : GbdtModel.Load(treesDir));
        }
        catch
        {
            adapter?.Dispose();
            model?.Dispose();
            if (owns) device.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The tree models that make the probability, as training chose and recorded them (<see cref="TrainingRecord.Scorer"/>): the
    /// stacked model's folder for <c>blend</c> and <c>stacked</c>, LightGBM alone's for <c>blend</c> and <c>trees</c>; none for <c>heads</c>
    /// or an adapter without a record (trained by <c>train-batches</c>). A chosen model that is missing, or a tree model beside no record, is
    /// an error naming the folder: scoring with another model than training chose would be a silently different score.
    /// </summary>
    private static (string? Stacker, string? Trees) TreeModelsOf(string adapterDir)
    {
        string stackerDir = Path.Combine(adapterDir, StackerDirectory), treesDir = Path.Combine(adapterDir, TreesDirectory);
        string recordPath = Path.Combine(adapterDir, TrainingRecord.FileName);
        var record = TrainingRecord.Load(adapterDir);
        if (record is null)
        {
            if (new[] { stackerDir, treesDir }.FirstOrDefault(GbdtModel.Exists) is { } orphan)
                throw new InvalidDataException($"{orphan}: a tree model, but {recordPath} is missing, so which model makes the probability is unknown; train the adapter again");
            return (null, null);
        }
        var (stacked, trees) = record.Scorer switch
        {
            TrainingRecord.HeadsScorer => (false, false),
            TrainingRecord.BlendScorer => (true, true),
            TrainingRecord.StackedScorer => (true, false),
            TrainingRecord.TreesScorer => (false, true),
            var other => throw new InvalidDataException($"{recordPath}: scorer '{other}' is not one of heads, blend, stacked, trees"),
        };
        foreach (var (needed, dir) in new[] { (stacked, stackerDir), (trees, treesDir) })
            if (needed && !GbdtModel.Exists(dir))
                throw new InvalidDataException($"{dir}: missing, but {recordPath} says the '{record.Scorer}' model makes the probability");
        return (stacked ? stackerDir : null, trees ? treesDir : null);
    }

    /// <summary>The first 12 hex digits of the SHA-256 over the adapter file and the tree models' files.</summary>
    private static string Version(string adapterFile, IEnumerable<string> treeDirs)
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        sha.AppendData(File.ReadAllBytes(adapterFile));
        foreach (string dir in treeDirs)
            foreach (var f in Directory.GetFiles(dir).Order(StringComparer.Ordinal)) sha.AppendData(File.ReadAllBytes(f));
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..12];
    }

    /// <summary>Scores one lead.</summary>
    public LeadScore Score(Lead lead) => ScoreBatch([lead])[0];

    /// <summary>
    /// Scores leads with their top positive and negative reasons (<see cref="ScoreExplanations"/>: occlusion of each column and
    /// dialogue sentence); pass the leads' scores from this scorer as <paramref name="scored"/> when you have them, to skip scoring them again.
    /// </summary>
    public IReadOnlyList<LeadExplanation> Explain(IReadOnlyList<Lead> leads, int top = 5, IReadOnlyList<LeadScore>? scored = null) =>
        ScoreExplanations.ExplainAsync(leads, scored, l => Task.FromResult(ScoreBatch(l)), top).GetAwaiter().GetResult();

    /// <summary>What the heads give for each lead (what the stacked tree model reads of them).</summary>
    public IReadOnlyList<LeadLlmOutputs> LlmOutputs(IReadOnlyList<Lead> leads) => Forward(leads, null);

    /// <summary>Scores leads in batches of <see cref="BatchSize"/>; results in input order.</summary>
    public IReadOnlyList<LeadScore> ScoreBatch(IReadOnlyList<Lead> leads) => Score(leads, null);

    /// <summary>
    /// Scores leads and returns, beside each score, the final-norm hidden state at the lead's last
    /// prompt token (what the heads read: features for models learned on top of the scorer).
    /// </summary>
    public IReadOnlyList<(LeadScore Score, float[] Hidden)> ScoreWithHidden(IReadOnlyList<Lead> leads)
    {
        var hidden = new List<float[]>(leads.Count);
        return Score(leads, hidden).Zip(hidden).ToList();
    }

    /// <summary>The heads' outputs per lead, in batches of <see cref="BatchSize"/>; the hidden rows into <paramref name="hidden"/>.</summary>
    private List<LeadLlmOutputs> Forward(IReadOnlyList<Lead> leads, List<float[]>? hidden)
    {
        var prompts = leads.Select(l => _prompts.Build(l).Ids).ToArray();
        var features = _features is null ? null : leads.Select(_features.EncodeSingle).ToArray();
        var outputs = new List<LeadLlmOutputs>(leads.Count);
        for (int start = 0; start < leads.Count; start += BatchSize)
        {
            int end = Math.Min(leads.Count, start + BatchSize);
            ForwardResult forward;
            lock (_gate)
            {
                forward = _model.Forward(prompts[start..end], new ForwardOptions
                {
                    Adapter = _adapter, Heads = _heads, Features = features?[start..end], LogitTokenIds = [_prompts.YesTokenId, _prompts.NoTokenId],
                });
            }
            for (int i = 0; i < end - start; i++)
                outputs.Add(new(forward.Heads!.PointwiseLogits[i], forward.Heads.PairwiseScores[i], forward.LastLogits[i][0] - forward.LastLogits[i][1]));
            hidden?.AddRange(forward.LastHidden);
        }
        return outputs;
    }

    private List<LeadScore> Score(IReadOnlyList<Lead> leads, List<float[]>? hidden)
    {
        var outputs = Forward(leads, hidden);
        var stacked = _stacker?.Predict(leads, LeadLlmOutputs.InputsOf(outputs));
        var trees = _trees?.Predict(leads);
        var results = new List<LeadScore>(leads.Count);
        for (int i = 0; i < leads.Count; i++)
        {
            double head = Logistic.Sigmoid(outputs[i].PointwiseLogit);
            double p = stacked is not null && trees is not null ? Blend(stacked[i], trees[i]) : stacked?[i] ?? trees?[i] ?? head;
            double yes = Logistic.Sigmoid(outputs[i].YesMinusNo);
            int score = Percentile(p);
            results.Add(new LeadScore(leads[i].Id, p, outputs[i].PairwiseScore, score, Grade(score), yes, head));
        }
        return results;
    }

    /// <summary>
    /// The blend of the stacked model's probability and the plain trees': the mean of their log-odds. The
    /// stacked model learns from the fold LLMs' out-of-fold outputs but reads the final LLM's when scoring;
    /// under drift those can sit at levels it never saw, and the blend halves how far that moves a score.
    /// </summary>
    public static double Blend(double stacked, double trees) => Logistic.Sigmoid((Logistic.LogOdds(stacked) + Logistic.LogOdds(trees)) / 2);

    /// <summary>0–100: the share of training probabilities below <paramref name="p"/> (100·p without calibration data).</summary>
    private int Percentile(double p)
    {
        var percentiles = Volatile.Read(ref _percentiles);
        if (percentiles.Length == 0) return (int)Math.Round(100 * p);
        int below = Array.BinarySearch(percentiles, p);
        if (below < 0) below = ~below;
        return (int)Math.Round(100.0 * below / percentiles.Length);
    }

    /// <summary>A: score ≥ 95, B: ≥ 80, C: ≥ 50, D: below.</summary>
    public static char Grade(int score) => score >= 95 ? 'A' : score >= 80 ? 'B' : score >= 50 ? 'C' : 'D';

    /// <summary>
    /// Scores <paramref name="trainingLeads"/> and makes their probabilities the distribution that
    /// <see cref="LeadScore.Score"/> is a percentile of, from now on and in the adapter folder's
    /// <see cref="CalibrationFile"/> (at most 1,001 quantiles: enough for whole-number percentiles).
    /// </summary>
    public void Calibrate(IReadOnlyList<Lead> trainingLeads)
    {
        var sorted = ScoreBatch(trainingLeads).Select(s => s.Probability).Order().ToArray();
        var quantiles = sorted.Length <= 1001 ? sorted : Enumerable.Range(0, 1001).Select(i => sorted[(int)((long)i * (sorted.Length - 1) / 1000)]).ToArray();
        AtomicFile.WriteAllText(Path.Combine(_adapterDir, CalibrationFile), JsonSerializer.Serialize(quantiles));
        Volatile.Write(ref _percentiles, quantiles);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _heads.Dispose();
        _adapter.Dispose();
        _model.Dispose();
        if (_ownsDevice) _device.Dispose();
    }
}

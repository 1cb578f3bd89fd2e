using LeadEngine.Engine;
using LeadEngine.LeadScoring;
using LeadEngine.Engine.SafeTensors;
using LeadEngine.Kernels;
using LeadEngine.Training;

namespace LeadEngine.LeadScoring;

/// <summary>
/// The built-in default: the Qwen2 architecture at a tiny size with random weights (seed 1) and
/// the real Qwen vocabulary, and an HPRO adapter trained on the synthetic automotive funnel. Both
/// live in <c>weights/demo/</c>, are made on first use, and are what <c>demo</c> trains and what
/// <c>serve</c> scores with when no adapter is given.
/// </summary>
public static class BuiltInModel
{
    /// <summary>The tiny architecture: hidden 128, 2 layers, 4 heads / 2 KV heads, tied embeddings, Qwen's vocabulary.</summary>
    public static QwenConfig Config { get; } = new()
    {
        HiddenSize = 128, Layers = 2, Heads = 4, KvHeads = 2, IntermediateSize = 352, VocabSize = 151936, TieWordEmbeddings = true, RopeTheta = 1e6,
    };

    /// <summary>Synthetic leads the default adapter is trained on.</summary>
    public const int LeadCount = 20000;

    /// <summary>The folder holding the model, the data and the adapters: <c>weights/demo</c>.</summary>
    public static string Root => Path.Combine(RepositoryPaths.Find("weights") ?? "weights", "demo");

    /// <summary>The default HPRO adapter's folder.</summary>
    public static string AdapterDirectory => Path.Combine(Root, "hpro");

    /// <summary>Training settings of the default adapter (BCE + HPRO + LM, one epoch).</summary>
    public static LeadTrainingOptions TrainingOptions(int epochs = 1, LossWeights? weights = null) =>
        new() { Epochs = epochs, LearningRate = 3e-3, Weights = weights ?? new LossWeights(1, 0.5, 0.2) };

    /// <summary>The model folder, written on first use.</summary>
    public static string EnsureModel()
    {
        string dir = Path.Combine(Root, "tiny-qwen2");
        if (!File.Exists(Path.Combine(dir, "model.safetensors"))) SyntheticModel.Write(dir, Config, TensorDType.BF16, seed: 1);
        return dir;
    }

    /// <summary>The synthetic lead file of <paramref name="count"/> leads, written on first use.</summary>
    public static string EnsureLeads(int count = LeadCount)
    {
        string path = Path.Combine(Root, $"leads-{count}.csv");
        if (!File.Exists(path)) SyntheticLeads.WriteCsv(path, count, seed: 1);
        return path;
    }

    /// <summary>
    /// The default model and HPRO adapter folders, training the adapter first (about a minute on
    /// 2 cores) when <c>weights/demo/hpro</c> does not hold a complete one.
    /// </summary>
    public static (string ModelDir, string AdapterDir) EnsureAdapter(ComputeDevice device, Action<string>? log = null, Action<TrainStepReport>? progress = null)
    {
        string modelDir = EnsureModel();
        string adapterDir = AdapterDirectory;
        bool complete = new[] { AdapterCheckpoint.AdapterFile, LeadScorer.CalibrationFile, LeadSchema.FileName }
            .All(f => File.Exists(Path.Combine(adapterDir, f)));
        if (!complete)
        {
            log?.Invoke($"training the built-in default adapter into {adapterDir} (once; about a minute on 2 cores)");
            var funnel = FunnelConfig.Automotive;
            var (train, _, _) = LeadPipeline.LoadAndSplit(EnsureLeads(), funnel, skipBadRows: false);
            LeadPipeline.TrainAndCalibrate(modelDir, QwenTokenizer.ForModel(modelDir), device, train, funnel, TrainingOptions(), adapterDir, progress);
        }
        return (modelDir, adapterDir);
    }
}

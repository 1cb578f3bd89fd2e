using LeadEngine.Engine.SafeTensors;
using LeadEngine.Kernels;

namespace LeadEngine.Engine;

/// <summary>
/// A Qwen2-architecture model (Qwen1.5, Qwen2, Qwen2.5) loaded onto a <see cref="ComputeDevice"/>
/// with its weights in the stored dtype. Runs the forward pass through the op set (<c>LeadEngine.Kernels.Ops</c>) on the device's backend:
/// the ILGPU kernels (CUDA, OpenCL, ILGPU's CPU accelerator) or the SIMD CPU backend, which packs copies of the frozen weights.
/// </summary>
public sealed class QwenModel : IDisposable
{
    private readonly ITransformer _runner;

    /// <summary>The model folder.</summary>
    public string Directory { get; }

    /// <summary>The architecture.</summary>
    public QwenConfig Config { get; }

    /// <summary>The dtype weights are kept in on the device.</summary>
    public TensorDType WeightDType { get; }

    /// <summary>Number of parameters (tied embeddings counted once).</summary>
    public long ParameterCount { get; }

    /// <summary>Bytes of weights on the device.</summary>
    public long WeightBytes => _runner.WeightBytes;

    /// <summary>The device running the model.</summary>
    public ComputeDevice Device { get; }

    private QwenModel(string directory, QwenConfig config, TensorDType dtype, long parameters, ComputeDevice device, ITransformer runner)
    {
        Directory = directory;
        Config = config;
        WeightDType = dtype;
        ParameterCount = parameters;
        Device = device;
        _runner = runner;
    }

    /// <summary>
    /// Loads <c>config.json</c> and the safetensors weights of <paramref name="directory"/>. Every
    /// required tensor is checked for presence and shape before any kernel runs.
    /// </summary>
    /// <exception cref="ModelConfigException">The config is missing or inconsistent.</exception>
    /// <exception cref="SafeTensorsException">A weight file or tensor is missing or malformed.</exception>
    public static QwenModel Load(string directory, ComputeDevice device)
    {
        var config = QwenConfig.Load(directory);
        using var store = SafeTensorStore.Open(directory);
        var (dtype, parameters) = CheckTensors(store, config);
        ITransformer runner = dtype switch
        {
            TensorDType.BF16 => new Transformer<Bf16>(QwenWeights<Bf16>.Load(store, config, dtype, device), config, device),
            TensorDType.F16 => new Transformer<F16>(QwenWeights<F16>.Load(store, config, dtype, device), config, device),
            _ => new Transformer<F32>(QwenWeights<F32>.Load(store, config, dtype, device), config, device),
        };
        return new QwenModel(directory, config, dtype, parameters, device, runner);
    }

    /// <summary>
    /// Checks presence and shape of every tensor the config needs and picks the device dtype: the
    /// stored one when all tensors share it, else fp32.
    /// </summary>
    public static (TensorDType DType, long Parameters) CheckTensors(SafeTensorStore store, QwenConfig config)
    {
        var dtypes = new HashSet<TensorDType>();
        long parameters = 0;
        foreach (var (name, shape) in QwenWeights<F32>.RequiredTensors(config))
        {
            var (file, info) = store.Get(name);
            info.ExpectShape(file.Path, shape);
            dtypes.Add(info.DType);
            parameters += info.ElementCount;
        }
        return (dtypes.Count == 1 ? dtypes.First() : TensorDType.F32, parameters);
    }

    /// <summary>
    /// Runs the sequences as one right-padded batch (pad id 0, positions 0..len−1) and returns, for
    /// each, the final-norm hidden state and logits at its last token.
    /// </summary>
    /// <exception cref="ArgumentException">An empty sequence or a token id outside the vocabulary.</exception>
    public ForwardResult Forward(IReadOnlyList<int[]> sequences, ForwardOptions? options = null)
    {
        options ??= new ForwardOptions();
        Validate(sequences, options.LogitTokenIds, options.Adapter, options.Heads, options.Features);
        return _runner.Run(sequences, options);
    }

    /// <summary>
    /// The training forward pass: LoRA-adapted, full-vocabulary logits and both score heads at each
    /// sequence's last token, keeping what the backward pass needs (every layer's activations, or
    /// with <paramref name="recompute"/> only each layer's input, re-running the layer in backward).
    /// Call <see cref="TrainingPass.Backward"/> on the result to accumulate gradients into
    /// <paramref name="adapter"/> and <paramref name="heads"/>. Heads with features read
    /// <paramref name="features"/>, one row of <see cref="ScoreHeads.FeatureCount"/> per sequence.
    /// </summary>
    public TrainingPass ForwardForTraining(IReadOnlyList<int[]> sequences, LoraAdapter adapter, ScoreHeads heads, bool recompute = false,
        IReadOnlyList<float[]>? features = null)
    {
        Validate(sequences, null, adapter, heads, features);
        return _runner.Train(sequences, adapter, heads, recompute, features);
    }

    private void Validate(IReadOnlyList<int[]> sequences, IReadOnlyList<int>? logitTokenIds, LoraAdapter? adapter, ScoreHeads? heads,
        IReadOnlyList<float[]>? features)
    {
        if (sequences.Count == 0) throw new ArgumentException("no sequences given");
        for (int s = 0; s < sequences.Count; s++)
        {
            if (sequences[s].Length == 0) throw new ArgumentException($"sequence {s} is empty");
            for (int t = 0; t < sequences[s].Length; t++)
            {
                int id = sequences[s][t];
                if (id < 0 || id >= Config.VocabSize)
                    throw new ArgumentException($"sequence {s}, position {t}: token id {id} is outside the vocabulary [0, {Config.VocabSize})");
            }
        }
        foreach (int id in logitTokenIds ?? [])
        {
            if (id < 0 || id >= Config.VocabSize)
                throw new ArgumentException($"logit token id {id} is outside the vocabulary [0, {Config.VocabSize})");
        }
        if (adapter is not null && adapter.Device != Device) throw new ArgumentException("the adapter lives on another device");
        if (heads is not null && heads.Device != Device) throw new ArgumentException("the score heads live on another device");
        int featureCount = heads?.FeatureCount ?? 0;
        if (featureCount == 0 && features is not null)
            throw new ArgumentException("structured features given, but the score heads read none");
        if (featureCount > 0)
        {
            if (features is null || features.Count != sequences.Count)
                throw new ArgumentException($"the score heads read {featureCount} structured features per sequence: give one row for each of the {sequences.Count} sequences");
            for (int s = 0; s < features.Count; s++)
            {
                if (features[s].Length != featureCount)
                    throw new ArgumentException($"sequence {s}: {features[s].Length} structured features, the score heads read {featureCount}");
                for (int f = 0; f < featureCount; f++)
                    if (!float.IsFinite(features[s][f])) throw new ArgumentException($"sequence {s}, structured feature {f}: {features[s][f]} is not finite");
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _runner.Dispose();
}

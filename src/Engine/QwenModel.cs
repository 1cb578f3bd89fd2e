using ILGPU;
using ILGPU.Runtime;
using LeadEngine.Engine.SafeTensors;
using LeadEngine.Kernels;

namespace LeadEngine.Engine;

/// <summary>What a forward pass computes beyond the last hidden states and logits.</summary>
public sealed class ForwardOptions
{
    /// <summary>LoRA adapters to apply; none when null.</summary>
    public LoraAdapter? Adapter { get; init; }

    /// <summary>Score heads to evaluate; none when null.</summary>
    public ScoreHeads? Heads { get; init; }

    /// <summary>LM logits for these token ids only (e.g. Yes/No); the full vocabulary when null.</summary>
    public IReadOnlyList<int>? LogitTokenIds { get; init; }

    /// <summary>Keep the residual stream after every layer and the final-norm hidden states.</summary>
    public bool CaptureLayers { get; init; }
}

/// <summary>Outputs of a forward pass over a right-padded batch.</summary>
public sealed class ForwardResult
{
    /// <summary>Padded sequence length T of the batch.</summary>
    public required int SeqLen { get; init; }

    /// <summary>Final-norm hidden state at each sequence's last real token: [batch][hidden].</summary>
    public required float[][] LastHidden { get; init; }

    /// <summary>LM logits at each sequence's last real token: [batch][vocab or token list].</summary>
    public required float[][] LastLogits { get; init; }

    /// <summary>Pointwise head logit per sequence, when heads were given.</summary>
    public float[]? PointwiseLogits { get; init; }

    /// <summary>Pairwise head score per sequence, when heads were given.</summary>
    public float[]? PairwiseScores { get; init; }

    /// <summary>With <see cref="ForwardOptions.CaptureLayers"/>: residual stream after each layer, [layer][batch·T·hidden].</summary>
    public float[][]? LayerResiduals { get; init; }

    /// <summary>With <see cref="ForwardOptions.CaptureLayers"/>: final-norm hidden states, [batch·T·hidden].</summary>
    public float[]? FinalHidden { get; init; }
}

/// <summary>
/// A Qwen2-architecture model (Qwen1.5, Qwen2, Qwen2.5) loaded onto a <see cref="ComputeDevice"/>
/// with its weights in the stored dtype. Runs the forward pass with ILGPU kernels only.
/// </summary>
public sealed class QwenModel : IDisposable
{
    private readonly IForwardRunner _runner;

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

    private QwenModel(string directory, QwenConfig config, TensorDType dtype, long parameters, ComputeDevice device, IForwardRunner runner)
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
        IForwardRunner runner = dtype switch
        {
            TensorDType.BF16 => new ForwardRunner<Bf16>(QwenWeights<Bf16>.Load(store, config, dtype, device), config, device),
            TensorDType.F16 => new ForwardRunner<F16>(QwenWeights<F16>.Load(store, config, dtype, device), config, device),
            _ => new ForwardRunner<F32>(QwenWeights<F32>.Load(store, config, dtype, device), config, device),
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
            LoraAdapter.Expect(file.Path, info, shape);
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
        foreach (int id in options.LogitTokenIds ?? [])
        {
            if (id < 0 || id >= Config.VocabSize)
                throw new ArgumentException($"logit token id {id} is outside the vocabulary [0, {Config.VocabSize})");
        }
        if (options.Adapter is { } adapter && adapter.Device != Device) throw new ArgumentException("the adapter lives on another device");
        if (options.Heads is { } heads && heads.Device != Device) throw new ArgumentException("the score heads live on another device");
        return _runner.Run(sequences, options);
    }

    /// <inheritdoc />
    public void Dispose() => _runner.Dispose();
}

internal interface IForwardRunner : IDisposable
{
    long WeightBytes { get; }
    ForwardResult Run(IReadOnlyList<int[]> sequences, ForwardOptions options);
}

/// <summary>The forward pass for weights stored as <typeparamref name="TW"/>.</summary>
internal sealed class ForwardRunner<TW>(QwenWeights<TW> weights, QwenConfig config, ComputeDevice device) : IForwardRunner
    where TW : unmanaged, IWeight
{
    private MemoryBuffer1D<float, Stride1D.Dense>? _ropeCos, _ropeSin;
    private int _ropePositions;

    public long WeightBytes => weights.DeviceBytes;

    public ForwardResult Run(IReadOnlyList<int[]> sequences, ForwardOptions options)
    {
        var c = config;
        var acc = device.Accelerator;
        int batch = sequences.Count, seqLen = sequences.Max(s => s.Length), rows = batch * seqLen;
        int h = c.HiddenSize, d = c.HeadDim, qOut = c.Heads * d, kvOut = c.KvHeads * d, inter = c.IntermediateSize;
        EnsureRope(seqLen);

        var ids = new int[rows];
        for (int b = 0; b < batch; b++) sequences[b].CopyTo(ids, b * seqLen);
        using var idBuffer = acc.Allocate1D(ids);
        using var lengths = acc.Allocate1D(sequences.Select(s => s.Length).ToArray());
        using var x = acc.Allocate1D<float>((long)rows * h);
        using var xn = acc.Allocate1D<float>((long)rows * h);
        using var q = acc.Allocate1D<float>((long)rows * qOut);
        using var k = acc.Allocate1D<float>((long)rows * kvOut);
        using var v = acc.Allocate1D<float>((long)rows * kvOut);
        using var attn = acc.Allocate1D<float>((long)rows * qOut);
        using var proj = acc.Allocate1D<float>((long)rows * h);
        using var gate = acc.Allocate1D<float>((long)rows * inter);
        using var up = acc.Allocate1D<float>((long)rows * inter);
        using var loraU = acc.Allocate1D<float>((long)rows * Math.Max(1, options.Adapter?.Rank ?? 1));
        var captured = options.CaptureLayers ? new float[c.Layers][] : null;

        EmbeddingKernels.LaunchForward(device, idBuffer.View, weights.Embedding, x.View, rows, h);
        for (int layer = 0; layer < c.Layers; layer++)
        {
            var w = weights.Layers[layer];
            // Attention block.
            RmsNormKernels.LaunchForward(device, x.View, w.InputNorm, xn.View, rows, h, (float)c.RmsNormEps);
            Linear(xn.View, w.Q, w.QBias, q.View, rows, qOut, h, options.Adapter, layer, LoraTarget.Q, loraU.View);
            Linear(xn.View, w.K, w.KBias, k.View, rows, kvOut, h, options.Adapter, layer, LoraTarget.K, loraU.View);
            Linear(xn.View, w.V, w.VBias, v.View, rows, kvOut, h, options.Adapter, layer, LoraTarget.V, loraU.View);
            RopeKernels.LaunchForward(device, q.View, _ropeCos!.View, _ropeSin!.View, rows, seqLen, c.Heads, d);
            RopeKernels.LaunchForward(device, k.View, _ropeCos.View, _ropeSin.View, rows, seqLen, c.KvHeads, d);
            AttentionKernels.LaunchForward(device, q.View, k.View, v.View, lengths.View, attn.View, ArrayView<float>.Empty, batch, seqLen, c.Heads, c.KvHeads, d);
            Linear(attn.View, w.O, ArrayView<TW>.Empty, proj.View, rows, h, qOut, options.Adapter, layer, LoraTarget.O, loraU.View);
            ResidualKernels.LaunchForward(device, x.View, proj.View, (long)rows * h);
            // MLP block.
            RmsNormKernels.LaunchForward(device, x.View, w.PostNorm, xn.View, rows, h, (float)c.RmsNormEps);
            Linear(xn.View, w.Gate, ArrayView<TW>.Empty, gate.View, rows, inter, h, options.Adapter, layer, LoraTarget.Gate, loraU.View);
            Linear(xn.View, w.Up, ArrayView<TW>.Empty, up.View, rows, inter, h, options.Adapter, layer, LoraTarget.Up, loraU.View);
            SwiGluKernels.LaunchForward(device, gate.View, up.View, gate.View, (long)rows * inter);
            Linear(gate.View, w.Down, ArrayView<TW>.Empty, proj.View, rows, h, inter, options.Adapter, layer, LoraTarget.Down, loraU.View);
            ResidualKernels.LaunchForward(device, x.View, proj.View, (long)rows * h);
            if (captured is not null) captured[layer] = x.GetAsArray1D();
        }
        RmsNormKernels.LaunchForward(device, x.View, weights.FinalNorm, xn.View, rows, h, (float)c.RmsNormEps);

        var tokenIds = options.LogitTokenIds?.ToArray() ?? [];
        int logitCount = tokenIds.Length > 0 ? tokenIds.Length : c.VocabSize;
        using var tokenBuffer = acc.Allocate1D(tokenIds.Length > 0 ? tokenIds : [0]);
        using var logits = acc.Allocate1D<float>((long)batch * logitCount);
        using var scores = acc.Allocate1D<float>(batch * 2);
        HeadKernels.LaunchForward(device, xn.View, lengths.View, weights.LmHead,
            tokenIds.Length > 0 ? tokenBuffer.View : ArrayView<int>.Empty,
            options.Heads?.Weight ?? ArrayView<float>.Empty, options.Heads?.Bias ?? ArrayView<float>.Empty,
            logits.View, scores.View, batch, seqLen, h, c.VocabSize);
        device.Synchronize();

        var lastHidden = new float[batch][];
        var lastLogits = new float[batch][];
        var allLogits = logits.GetAsArray1D();
        for (int b = 0; b < batch; b++)
        {
            lastHidden[b] = new float[h];
            xn.View.SubView(((long)b * seqLen + sequences[b].Length - 1) * h, h).CopyToCPU(lastHidden[b]);
            lastLogits[b] = allLogits.AsSpan(b * logitCount, logitCount).ToArray();
        }
        float[]? scoreValues = options.Heads is null ? null : scores.GetAsArray1D();
        return new ForwardResult
        {
            SeqLen = seqLen,
            LastHidden = lastHidden,
            LastLogits = lastLogits,
            PointwiseLogits = scoreValues is null ? null : Enumerable.Range(0, batch).Select(b => scoreValues[2 * b]).ToArray(),
            PairwiseScores = scoreValues is null ? null : Enumerable.Range(0, batch).Select(b => scoreValues[2 * b + 1]).ToArray(),
            LayerResiduals = captured,
            FinalHidden = options.CaptureLayers ? xn.GetAsArray1D() : null,
        };
    }

    /// <summary>y = x·Wᵀ + bias, plus the LoRA update of (layer, target) when adapted.</summary>
    private void Linear(ArrayView<float> x, ArrayView<TW> w, ArrayView<TW> bias, ArrayView<float> y, int m, int n, int k,
        LoraAdapter? adapter, int layer, LoraTarget target, ArrayView<float> loraU)
    {
        var (a, b) = adapter?.Views(layer, target) ?? (ArrayView<float>.Empty, ArrayView<float>.Empty);
        int rank = a.Length > 0 ? adapter!.Rank : 0;
        MatMulKernels.LaunchForward(device, x, w, bias, a, y, rank > 0 ? loraU : ArrayView<float>.Empty, m, n, k, rank);
        if (rank > 0) LoraKernels.LaunchAddUpProjection(device, y, loraU, b, m, n, rank, adapter!.Scale);
    }

    private void EnsureRope(int positions)
    {
        if (positions <= _ropePositions) return;
        _ropeCos?.Dispose();
        _ropeSin?.Dispose();
        _ropePositions = Math.Max(positions, 64);
        var (cos, sin) = RopeKernels.BuildTable(_ropePositions, config.HeadDim, config.RopeTheta);
        _ropeCos = device.Accelerator.Allocate1D(cos);
        _ropeSin = device.Accelerator.Allocate1D(sin);
    }

    public void Dispose()
    {
        _ropeCos?.Dispose();
        _ropeSin?.Dispose();
        weights.Dispose();
    }
}

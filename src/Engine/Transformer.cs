using ILGPU;
using ILGPU.Runtime;
using LeadEngine.Kernels;

namespace LeadEngine.Engine;

internal interface ITransformer : IDisposable
{
    long WeightBytes { get; }
    ForwardResult Run(IReadOnlyList<int[]> sequences, ForwardOptions options);
    TrainingPass Train(IReadOnlyList<int[]> sequences, LoraAdapter adapter, ScoreHeads heads, bool recompute, IReadOnlyList<float[]>? features);
}

/// <summary>Token ids and lengths of a right-padded batch on the device.</summary>
internal sealed class DeviceBatch : IDisposable
{
    public int Batch { get; }
    public int SeqLen { get; }
    public int Rows => Batch * SeqLen;
    public int[] Lengths { get; }
    public MemoryBuffer1D<int, Stride1D.Dense> Ids { get; }
    public MemoryBuffer1D<int, Stride1D.Dense> LengthBuffer { get; }
    /// <summary>Row index of each sequence's last real token (<see cref="LastRow"/>), on the device.</summary>
    public MemoryBuffer1D<int, Stride1D.Dense> LastRowBuffer { get; }

    public DeviceBatch(Accelerator acc, IReadOnlyList<int[]> sequences)
    {
        Batch = sequences.Count;
        SeqLen = sequences.Max(s => s.Length);
        Lengths = sequences.Select(s => s.Length).ToArray();
        var ids = new int[Rows];
        for (int b = 0; b < Batch; b++) sequences[b].CopyTo(ids, b * SeqLen);
        Ids = acc.Allocate1D(ids);
        LengthBuffer = acc.Allocate1D(Lengths);
        LastRowBuffer = acc.Allocate1D(Enumerable.Range(0, Batch).Select(b => checked((int)LastRow(b))).ToArray());
    }

    /// <summary>Row index of sequence b's last real token.</summary>
    public long LastRow(int b) => (long)b * SeqLen + Lengths[b] - 1;

    public void Dispose()
    {
        Ids.Dispose();
        LengthBuffer.Dispose();
        LastRowBuffer.Dispose();
    }
}

/// <summary>
/// One decoder layer's intermediates for a batch. Inference reuses one set for every layer;
/// training keeps one per layer (or one, recomputed, with activation recomputation). Per token
/// (fp32): input, both norm outputs and the mid residual (4·H), q and attention output (2·heads·d),
/// k and v (2·kvHeads·d), log-sum-exp (heads), gate, up and activation (3·I), LoRA u (7·r).
/// </summary>
internal sealed class LayerActivations : IDisposable
{
    private readonly DeviceArena _arena;
    public ArrayView<float> XIn, Xn1, Q, K, V, Attn, Lse, XMid, Xn2, Gate, Up, Act;
    public readonly ArrayView<float>[] U = new ArrayView<float>[LoraAdapter.AllTargets.Length];

    public LayerActivations(ComputeDevice device, QwenConfig c, int rows, int rank, bool training)
    {
        int h = c.HiddenSize, qOut = c.Heads * c.HeadDim, kvOut = c.KvHeads * c.HeadDim, inter = c.IntermediateSize;
        _arena = new DeviceArena(device);
        var Alloc = _arena.Floats;
        Xn1 = Alloc((long)rows * h);
        Q = Alloc((long)rows * qOut);
        K = Alloc((long)rows * kvOut);
        V = Alloc((long)rows * kvOut);
        Attn = Alloc((long)rows * qOut);
        Xn2 = Alloc((long)rows * h);
        Gate = Alloc((long)rows * inter);
        Up = Alloc((long)rows * inter);
        Act = Alloc((long)rows * inter);
        for (int t = 0; t < U.Length; t++) U[t] = rank > 0 ? Alloc((long)rows * rank) : ArrayView<float>.Empty;
        if (training)
        {
            XIn = Alloc((long)rows * h);
            XMid = Alloc((long)rows * h);
            Lse = Alloc((long)rows * c.Heads);
        }
        else
        {
            XIn = XMid = Lse = ArrayView<float>.Empty;
        }
    }

    public void Dispose() => _arena.Dispose();
}

/// <summary>
/// The Qwen2 decoder on ILGPU kernels for weights stored as <typeparamref name="TW"/>: the forward
/// pass (inference and training) and the backward pass to the LoRA adapters and score heads.
/// Readable top to bottom: embed → layers (attention block, MLP block) → final norm → heads.
/// </summary>
internal sealed class Transformer<TW>(QwenWeights<TW> weights, QwenConfig config, ComputeDevice device) : ITransformer
    where TW : unmanaged, IWeight
{
    private MemoryBuffer1D<float, Stride1D.Dense>? _ropeCos, _ropeSin;
    private int _ropePositions;

    public long WeightBytes => weights.DeviceBytes;
    private float Eps => (float)config.RmsNormEps;

    public ForwardResult Run(IReadOnlyList<int[]> sequences, ForwardOptions options)
    {
        var acc = device.Accelerator;
        using var batch = new DeviceBatch(acc, sequences);
        int rows = batch.Rows, h = config.HiddenSize;
        EnsureRope(batch.SeqLen);
        using var x = device.Rent((long)rows * h);
        using var proj = device.Rent((long)rows * h);
        using var act = new LayerActivations(device, config, rows, options.Adapter?.Rank ?? 0, training: false);
        using var xLast = device.Rent((long)batch.Batch * h);
        using var lastHidden = device.Rent((long)batch.Batch * h);
        float[][]? captured = null;
        if (options.CaptureLayers)
        {
            // Every row's residuals are asked for: every layer on every row, then the final norm of every row.
            captured = new float[config.Layers][];
            EmbeddingKernels.LaunchForward(device, batch.Ids.View, weights.Embedding, x.View, rows, h);
            for (int layer = 0; layer < config.Layers; layer++)
            {
                FullLayerForward(layer, batch, x.View, proj.View, act, options.Adapter, training: false);
                captured[layer] = x.View.GetAsArray1D();
            }
            RmsNormKernels.LaunchForward(device, x.View, weights.FinalNorm, act.Xn1, rows, h, Eps);
            EmbeddingKernels.LaunchGatherRows(device, batch.LastRowBuffer.View, act.Xn1, lastHidden.View, batch.Batch, h);
        }
        else
        {
            // q is spent once attention has run, so its first rows hold the last tokens' attention output.
            ForwardToLastHidden(batch, x.View, proj.View, act.Q.SubView(0, (long)batch.Batch * config.Heads * config.HeadDim), xLast.View,
                lastHidden.View, _ => act, options.Adapter, training: false);
        }

        var tokenIds = options.LogitTokenIds?.ToArray() ?? [];
        int logitCount = tokenIds.Length > 0 ? tokenIds.Length : config.VocabSize;
        using var tokenBuffer = acc.Allocate1D(tokenIds.Length > 0 ? tokenIds : [0]);
        using var logits = acc.Allocate1D<float>((long)batch.Batch * logitCount);
        using var features = HeadFeatures(options.Heads, options.Features);
        var heads = RunScoreHeads(lastHidden.View, options.Heads, features, tokenIds.Length > 0 ? tokenBuffer.View : ArrayView<int>.Empty, logits.View, batch.Batch, training: false);
        device.Synchronize();
        return new ForwardResult
        {
            SeqLen = batch.SeqLen,
            LastHidden = SplitRows(lastHidden.View.GetAsArray1D(), batch.Batch, h),
            LastLogits = SplitRows(logits.GetAsArray1D(), batch.Batch, logitCount),
            Heads = options.Heads is null ? null : heads,
            LayerResiduals = captured,
            FinalHidden = options.CaptureLayers ? CopyToHost(act.Xn1, (long)rows * h) : null,
        };
    }

    /// <summary>
    /// The forward pass scoring and training share (as llm.c's <c>gpt2_forward</c>): embed → decoder layers →
    /// the last layer on each sequence's last real token (only those rows reach the heads) → final norm into
    /// <paramref name="lastHidden"/> [B, hidden]. <paramref name="activations"/> gives each layer's buffers (scoring
    /// reuses one set, training keeps one per layer); <paramref name="beforeLayer"/> sees each layer's input
    /// (training keeps it to recompute the layer in the backward pass). <paramref name="attnLast"/> [B, heads·d] and
    /// <paramref name="xLast"/> [B, hidden] receive the last layer's attention output and output on the last tokens.
    /// </summary>
    internal void ForwardToLastHidden(DeviceBatch batch, ArrayView<float> x, ArrayView<float> proj, ArrayView<float> attnLast, ArrayView<float> xLast,
        ArrayView<float> lastHidden, Func<int, LayerActivations> activations, LoraAdapter? adapter, bool training, Action<int>? beforeLayer = null)
    {
        int h = config.HiddenSize;
        EmbeddingKernels.LaunchForward(device, batch.Ids.View, weights.Embedding, x, batch.Rows, h);
        for (int layer = 0; layer < config.Layers; layer++)
        {
            beforeLayer?.Invoke(layer);
            ForwardLayerOrLastTokens(layer, batch, x, proj, attnLast, xLast, activations(layer), adapter, training);
        }
        RmsNormKernels.LaunchForward(device, xLast, weights.FinalNorm, lastHidden, batch.Batch, h, Eps);
    }

    /// <summary>One layer of <see cref="ForwardToLastHidden"/>: the last one on the last tokens only (into attnLast, xLast).</summary>
    internal void ForwardLayerOrLastTokens(int layer, DeviceBatch batch, ArrayView<float> x, ArrayView<float> proj, ArrayView<float> attnLast, ArrayView<float> xLast,
        LayerActivations a, LoraAdapter? adapter, bool training)
    {
        if (layer < config.Layers - 1)
            FullLayerForward(layer, batch, x, proj, a, adapter, training);
        else
            LastTokenLayerForward(layer, batch, x, attnLast, xLast, proj, a, adapter, training);
    }

    /// <summary>
    /// The heads on <paramref name="lastHidden"/> [B, hidden]: LM logits (the listed <paramref name="tokenIds"/>, or the
    /// full vocabulary when empty) into <paramref name="logits"/>, and with <paramref name="heads"/> both score heads. Training (<paramref name="training"/>) lets the SIMD backend keep a packed LM head.
    /// </summary>
    internal ScoreHeadOutputs RunScoreHeads(ArrayView<float> lastHidden, ScoreHeads? heads, MemoryBuffer1D<float, Stride1D.Dense>? features, ArrayView<int> tokenIds,
        ArrayView<float> logits, int batch, bool training)
    {
        using var scores = device.Accelerator.Allocate1D<float>(batch * 2);
        HeadKernels.LaunchForward(device, lastHidden, weights.LmHead, tokenIds,
            heads?.Weight ?? ArrayView<float>.Empty, heads?.Bias ?? ArrayView<float>.Empty,
            features?.View ?? ArrayView<float>.Empty, heads?.FeatureWeight ?? ArrayView<float>.Empty,
            logits, scores.View, batch, config.HiddenSize, config.VocabSize, frozenWeights: training);
        return ScoreHeadOutputs.FromInterleaved(scores.GetAsArray1D());
    }

    /// <summary>The heads' feature rows as one [B, F] device buffer; null when the heads read none.</summary>
    internal MemoryBuffer1D<float, Stride1D.Dense>? HeadFeatures(ScoreHeads? heads, IReadOnlyList<float[]>? features) =>
        heads is { FeatureCount: > 0 } && features is not null ? device.Accelerator.Allocate1D(features.SelectMany(r => r).ToArray()) : null;

    public TrainingPass Train(IReadOnlyList<int[]> sequences, LoraAdapter adapter, ScoreHeads heads, bool recompute, IReadOnlyList<float[]>? features) =>
        new TrainingPass<TW>(this, sequences, adapter, heads, recompute, features);

    /// <summary>One decoder layer, updating the residual stream <paramref name="x"/> in place.</summary>
    internal void FullLayerForward(int layer, DeviceBatch batch, ArrayView<float> x, ArrayView<float> proj, LayerActivations a, LoraAdapter? adapter, bool training)
    {
        AttentionBlock(layer, batch, x, a, adapter, training);
        OutputAndMlp(layer, a.Attn, x, proj, batch.Rows, a, adapter, training);
    }

    /// <summary>
    /// The last decoder layer for the last real token of each sequence (only those rows reach the heads):
    /// attention over every row (its keys and values need them), then o_proj and the MLP on the <c>B</c>
    /// last rows alone. <paramref name="attnLast"/> [B, heads·d] receives those rows' attention output and
    /// <paramref name="xLast"/> [B, hidden] their layer output.
    /// </summary>
    internal void LastTokenLayerForward(int layer, DeviceBatch batch, ArrayView<float> x, ArrayView<float> attnLast, ArrayView<float> xLast,
        ArrayView<float> proj, LayerActivations a, LoraAdapter? adapter, bool training)
    {
        int qOut = config.Heads * config.HeadDim, h = config.HiddenSize;
        AttentionBlock(layer, batch, x, a, adapter, training);
        EmbeddingKernels.LaunchGatherRows(device, batch.LastRowBuffer.View, a.Attn, attnLast, batch.Batch, qOut);
        EmbeddingKernels.LaunchGatherRows(device, batch.LastRowBuffer.View, x, xLast, batch.Batch, h);
        OutputAndMlp(layer, attnLast, xLast, proj, batch.Batch, a, adapter, training);
    }

    /// <summary>Attention block up to its output: a.Attn = attention(rope(q), rope(k), v) of the normed input.</summary>
    private void AttentionBlock(int layer, DeviceBatch batch, ArrayView<float> x, LayerActivations a, LoraAdapter? adapter, bool training)
    {
        var c = config;
        var w = weights.Layers[layer];
        int rows = batch.Rows, h = c.HiddenSize, d = c.HeadDim, qOut = c.Heads * d, kvOut = c.KvHeads * d;
        if (training) a.XIn.CopyFrom(x);
        RmsNormKernels.LaunchForward(device, x, w.InputNorm, a.Xn1, rows, h, Eps);
        Linear(a.Xn1, w.Q, w.QBias, a.Q, rows, qOut, h, adapter, layer, LoraTarget.Q, a, training);
        Linear(a.Xn1, w.K, w.KBias, a.K, rows, kvOut, h, adapter, layer, LoraTarget.K, a, training);
        Linear(a.Xn1, w.V, w.VBias, a.V, rows, kvOut, h, adapter, layer, LoraTarget.V, a, training);
        RopeKernels.LaunchForward(device, a.Q, _ropeCos!.View, _ropeSin!.View, rows, batch.SeqLen, c.Heads, d);
        RopeKernels.LaunchForward(device, a.K, _ropeCos.View, _ropeSin.View, rows, batch.SeqLen, c.KvHeads, d);
        AttentionKernels.LaunchForward(device, a.Q, a.K, a.V, batch.LengthBuffer.View, a.Attn, a.Lse, batch.Batch, batch.SeqLen, c.Heads, c.KvHeads, d);
    }

    /// <summary>The rest of a layer on <paramref name="m"/> rows: x += o_proj(attn), then x += down(silu(gate(xn))·up(xn)).</summary>
    private void OutputAndMlp(int layer, ArrayView<float> attn, ArrayView<float> x, ArrayView<float> proj, int m, LayerActivations a, LoraAdapter? adapter, bool training)
    {
        var c = config;
        var w = weights.Layers[layer];
        int h = c.HiddenSize, qOut = c.Heads * c.HeadDim, inter = c.IntermediateSize;
        Linear(attn, w.O, ArrayView<TW>.Empty, proj, m, h, qOut, adapter, layer, LoraTarget.O, a, training);
        ResidualKernels.LaunchForward(device, x, proj, (long)m * h);
        if (training) a.XMid.SubView(0, x.Length).CopyFrom(x);

        RmsNormKernels.LaunchForward(device, x, w.PostNorm, a.Xn2, m, h, Eps);
        Linear(a.Xn2, w.Gate, ArrayView<TW>.Empty, a.Gate, m, inter, h, adapter, layer, LoraTarget.Gate, a, training);
        Linear(a.Xn2, w.Up, ArrayView<TW>.Empty, a.Up, m, inter, h, adapter, layer, LoraTarget.Up, a, training);
        SwiGluKernels.LaunchForward(device, a.Gate, a.Up, a.Act, (long)m * inter);
        Linear(a.Act, w.Down, ArrayView<TW>.Empty, proj, m, h, inter, adapter, layer, LoraTarget.Down, a, training);
        ResidualKernels.LaunchForward(device, x, proj, (long)m * h);
    }

    /// <summary>
    /// Backward through one layer. On entry <paramref name="dx"/> is dL/d(layer output); on exit
    /// dL/d(layer input). LoRA gradients accumulate into the adapter's gradient buffers.
    /// </summary>
    internal void FullLayerBackward(int layer, DeviceBatch batch, ArrayView<float> dx, LayerActivations a, LoraAdapter adapter, BackwardScratch s)
    {
        OutputAndMlpBackward(layer, a.Attn, dx, s.DAttn, batch.Rows, a, adapter, s);
        AttentionBlockBackward(layer, batch, dx, a, adapter, s);
    }

    /// <summary>
    /// Backward of <see cref="LastTokenLayerForward"/>: <paramref name="dxLast"/> [B, hidden] is dL/d(its
    /// output); on exit <paramref name="dx"/> (all rows, zero on entry) is dL/d(layer input).
    /// </summary>
    internal void LastTokenLayerBackward(int layer, DeviceBatch batch, ArrayView<float> attnLast, ArrayView<float> dxLast, ArrayView<float> dx,
        LayerActivations a, LoraAdapter adapter, BackwardScratch s)
    {
        int qOut = config.Heads * config.HeadDim, h = config.HiddenSize;
        var dAttnLast = s.DQ.SubView(0, (long)batch.Batch * qOut); // DQ is written by attention's backward, after this is read
        OutputAndMlpBackward(layer, attnLast, dxLast, dAttnLast, batch.Batch, a, adapter, s);
        // Rows other than the last tokens' get no gradient through o_proj and the MLP.
        s.DAttn.SubView(0, (long)batch.Rows * qOut).MemSetToZero();
        EmbeddingKernels.LaunchScatterRows(device, batch.LastRowBuffer.View, dAttnLast, s.DAttn, batch.Batch, qOut);
        EmbeddingKernels.LaunchScatterRows(device, batch.LastRowBuffer.View, dxLast, dx, batch.Batch, h);
        AttentionBlockBackward(layer, batch, dx, a, adapter, s);
    }

    /// <summary>Backward of <see cref="OutputAndMlp"/> on <paramref name="m"/> rows: dx += the MLP's input gradient; dAttn = dL/d(attention output).</summary>
    private void OutputAndMlpBackward(int layer, ArrayView<float> attn, ArrayView<float> dx, ArrayView<float> dAttn, int m, LayerActivations a, LoraAdapter adapter, BackwardScratch s)
    {
        var c = config;
        var w = weights.Layers[layer];
        int h = c.HiddenSize, qOut = c.Heads * c.HeadDim, inter = c.IntermediateSize;
        LinearBackward(a.Act, w.Down, dx, s.DAct, m, h, inter, adapter, layer, LoraTarget.Down, a, s, accumulate: false);
        SwiGluKernels.LaunchBackward(device, a.Gate, a.Up, s.DAct, s.DGate, s.DUp, (long)m * inter);
        LinearBackward(a.Xn2, w.Gate, s.DGate, s.DXn, m, inter, h, adapter, layer, LoraTarget.Gate, a, s, accumulate: false);
        LinearBackward(a.Xn2, w.Up, s.DUp, s.DXn, m, inter, h, adapter, layer, LoraTarget.Up, a, s, accumulate: true);
        RmsNormKernels.LaunchBackward(device, a.XMid, w.PostNorm, s.DXn, dx, m, h, Eps);
        LinearBackward(attn, w.O, dx, dAttn, m, h, qOut, adapter, layer, LoraTarget.O, a, s, accumulate: false);
    }

    /// <summary>Backward of <see cref="AttentionBlock"/> from dL/d(attention output) in s.DAttn: dx += its input gradient.</summary>
    private void AttentionBlockBackward(int layer, DeviceBatch batch, ArrayView<float> dx, LayerActivations a, LoraAdapter adapter, BackwardScratch s)
    {
        var c = config;
        var w = weights.Layers[layer];
        int rows = batch.Rows, h = c.HiddenSize, d = c.HeadDim, qOut = c.Heads * d, kvOut = c.KvHeads * d;
        AttentionKernels.LaunchBackward(device, a.Q, a.K, a.V, batch.LengthBuffer.View, a.Attn, a.Lse, s.DAttn, s.DQ, s.DK, s.DV, s.Dot,
            batch.Batch, batch.SeqLen, c.Heads, c.KvHeads, d);
        RopeKernels.LaunchBackward(device, s.DQ, _ropeCos!.View, _ropeSin!.View, rows, batch.SeqLen, c.Heads, d);
        RopeKernels.LaunchBackward(device, s.DK, _ropeCos.View, _ropeSin.View, rows, batch.SeqLen, c.KvHeads, d);
        LinearBackward(a.Xn1, w.Q, s.DQ, s.DXn, rows, qOut, h, adapter, layer, LoraTarget.Q, a, s, accumulate: false);
        LinearBackward(a.Xn1, w.K, s.DK, s.DXn, rows, kvOut, h, adapter, layer, LoraTarget.K, a, s, accumulate: true);
        LinearBackward(a.Xn1, w.V, s.DV, s.DXn, rows, kvOut, h, adapter, layer, LoraTarget.V, a, s, accumulate: true);
        RmsNormKernels.LaunchBackward(device, a.XIn, w.InputNorm, s.DXn, dx, rows, h, Eps);
    }

    /// <summary>y = x·Wᵀ + bias, plus the LoRA update of (layer, target) when adapted (u kept in <paramref name="a"/>).</summary>
    private void Linear(ArrayView<float> x, ArrayView<TW> w, ArrayView<TW> bias, ArrayView<float> y, int m, int n, int k,
        LoraAdapter? adapter, int layer, LoraTarget target, LayerActivations a, bool training)
    {
        var (loraA, loraB) = adapter?.Views(layer, target) ?? (ArrayView<float>.Empty, ArrayView<float>.Empty);
        int rank = loraA.Length > 0 ? adapter!.Rank : 0;
        var u = a.U[(int)target];
        // A frozen adapter outside training may be folded into the packed weights: MatMulKernels decides, per backend.
        long foldId = rank > 0 && !training && adapter!.Parameters.IsFrozen ? adapter.Parameters.Id : 0;
        MatMulKernels.LaunchForward(device, x, w, bias, loraA, y, rank > 0 ? u : ArrayView<float>.Empty, m, n, k, rank,
            frozenWeights: true, rank > 0 ? loraB : ArrayView<float>.Empty, rank > 0 ? adapter!.Scale : 0f, foldId);
    }

    /// <summary>Backward of <see cref="Linear"/>: dInput (+)= dy·W + du·A; LoRA dA, dB accumulate. Base weights are frozen.</summary>
    private void LinearBackward(ArrayView<float> x, ArrayView<TW> w, ArrayView<float> dy, ArrayView<float> dInput, int m, int n, int k,
        LoraAdapter adapter, int layer, LoraTarget target, LayerActivations a, BackwardScratch s, bool accumulate)
    {
        var (loraA, loraB) = adapter.Views(layer, target);
        int rank = loraA.Length > 0 ? adapter.Rank : 0;
        if (rank > 0)
        {
            var (dA, dB) = adapter.GradientViews(layer, target);
            LoraKernels.LaunchBackwardUp(device, dy, a.U[(int)target], loraB, s.DU, dB, m, n, rank, adapter.Scale);
            LoraKernels.LaunchBackwardDown(device, s.DU, x, dA, m, k, rank);
        }
        MatMulKernels.LaunchBackwardInput(device, dy, rank > 0 ? s.DU : ArrayView<float>.Empty, w, loraA, dInput, m, n, k, rank, accumulate, frozenWeights: true);
    }

    internal QwenConfig Config => config;
    internal ComputeDevice Device => device;
    internal QwenWeights<TW> Weights => weights;

    internal void EnsureRope(int positions)
    {
        if (positions <= _ropePositions) return;
        _ropeCos?.Dispose();
        _ropeSin?.Dispose();
        _ropePositions = Math.Max(positions, 64);
        var (cos, sin) = RopeKernels.BuildTable(_ropePositions, config.HeadDim, config.RopeTheta);
        _ropeCos = device.Accelerator.Allocate1D(cos);
        _ropeSin = device.Accelerator.Allocate1D(sin);
    }

    internal static float[][] SplitRows(float[] flat, int rows, int width) =>
        Enumerable.Range(0, rows).Select(r => flat.AsSpan(r * width, width).ToArray()).ToArray();

    private static float[] CopyToHost(ArrayView<float> view, long count)
    {
        var result = new float[count];
        view.SubView(0, count).CopyToCPU(result);
        return result;
    }

    public void Dispose()
    {
        _ropeCos?.Dispose();
        _ropeSin?.Dispose();
        device.ReleasePackedWeights();
        weights.Dispose();
    }
}

/// <summary>Gradient buffers shared by every layer's backward pass.</summary>
internal sealed class BackwardScratch : IDisposable
{
    private readonly DeviceArena _arena;
    public readonly ArrayView<float> DXn, DAttn, DQ, DK, DV, DAct, DGate, DUp, DU, Dot;

    public BackwardScratch(ComputeDevice device, QwenConfig c, int rows, int rank)
    {
        int h = c.HiddenSize, qOut = c.Heads * c.HeadDim, kvOut = c.KvHeads * c.HeadDim, inter = c.IntermediateSize;
        _arena = new DeviceArena(device);
        var Alloc = _arena.Floats;
        DXn = Alloc((long)rows * h);
        DAttn = Alloc((long)rows * qOut);
        DQ = Alloc((long)rows * qOut);
        DK = Alloc((long)rows * kvOut);
        DV = Alloc((long)rows * kvOut);
        DAct = Alloc((long)rows * inter);
        DGate = Alloc((long)rows * inter);
        DUp = Alloc((long)rows * inter);
        DU = Alloc((long)rows * Math.Max(1, rank));
        Dot = Alloc((long)rows * c.Heads);
    }

    public void Dispose() => _arena.Dispose();
}

/// <summary>fp32 device buffers rented together from the device's pool and returned together.</summary>
internal sealed class DeviceArena(ComputeDevice device) : IDisposable
{
    private readonly List<PooledBuffer> _owned = [];

    /// <summary>A buffer of <paramref name="count"/> floats (at least one), contents undefined.</summary>
    public ArrayView<float> Floats(long count)
    {
        var buffer = device.Rent(count);
        _owned.Add(buffer);
        return buffer.View;
    }

    public void Dispose()
    {
        foreach (var buffer in _owned) buffer.Dispose();
    }
}

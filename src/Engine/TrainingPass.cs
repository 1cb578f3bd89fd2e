using ILGPU;
using ILGPU.Runtime;
using LeadEngine.Kernels;

namespace LeadEngine.Engine;

/// <summary>
/// The forward half of a training step: the head outputs at each sequence's last token, and the
/// activations the backward pass needs. <see cref="Backward"/> takes the loss gradients with respect
/// to those outputs and accumulates dL/dθ into the adapter's and heads' gradient buffers.
/// </summary>
public abstract class TrainingPass : IDisposable
{
    /// <summary>The score heads' outputs per sequence.</summary>
    public required ScoreHeadOutputs Heads { get; init; }

    /// <summary>Final-norm hidden state at each sequence's last token.</summary>
    public required float[][] LastHidden { get; init; }

    /// <summary>Tokens in the batch (real, not padding).</summary>
    public required int Tokens { get; init; }

    /// <summary>
    /// The LM loss terms, on the device: per sequence, the cross-entropy over the full vocabulary of
    /// <paramref name="targetTokens"/>[b] at its last token. Keeps <paramref name="gradientScale"/>·dloss/dlogits
    /// (scale: the loss weight over the batch size) for <see cref="Backward"/>; without this call the
    /// backward pass has no LM term.
    /// </summary>
    public abstract float[] LanguageModelLoss(int[] targetTokens, float gradientScale);

    /// <summary>Accumulates gradients given dL/dpointwise and dL/dpairwise [batch] (and the LM term, if evaluated).</summary>
    public abstract void Backward(float[] dPointwise, float[] dPairwise);

    /// <inheritdoc />
    public abstract void Dispose();
}

internal sealed class TrainingPass<TW> : TrainingPass where TW : unmanaged, IWeight
{
    private readonly Transformer<TW> _model;
    private readonly DeviceBatch _batch;
    private readonly LoraAdapter _adapter;
    private readonly ScoreHeads _heads;
    private readonly bool _recompute;
    private readonly LayerActivations[] _layers;
    private readonly PooledBuffer[] _layerInputs;
    private readonly PooledBuffer _x, _attnLast, _xLast, _finalHidden, _logits;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? _features;
    private bool _backwardDone, _lmGradient;

    [System.Diagnostics.CodeAnalysis.SetsRequiredMembers]
    public TrainingPass(Transformer<TW> model, IReadOnlyList<int[]> sequences, LoraAdapter adapter, ScoreHeads heads, bool recompute,
        IReadOnlyList<float[]>? features)
    {
        _model = model;
        _adapter = adapter;
        _heads = heads;
        _recompute = recompute;
        var c = model.Config;
        var device = model.Device;
        var acc = device.Accelerator;
        var allocation = device.Time("host.allocate");
        _batch = new DeviceBatch(acc, sequences);
        int rows = _batch.Rows, h = c.HiddenSize;
        model.EnsureRope(_batch.SeqLen);
        _x = device.Rent((long)rows * h);
        // Only the last real tokens reach the heads: the last layer's o_proj and MLP run on those B rows.
        _attnLast = device.Rent((long)_batch.Batch * c.Heads * c.HeadDim);
        _xLast = device.Rent((long)_batch.Batch * h);
        _finalHidden = device.Rent((long)_batch.Batch * h);
        using var proj = device.Rent((long)rows * h);
        // Keep every layer's activations, or (recompute) one scratch set plus each layer's input.
        _layers = Enumerable.Range(0, recompute ? 1 : c.Layers).Select(_ => new LayerActivations(device, c, rows, adapter.Rank, training: true)).ToArray();
        _layerInputs = recompute ? Enumerable.Range(0, c.Layers).Select(_ => device.Rent((long)rows * h)).ToArray() : [];
        _logits = device.Rent((long)_batch.Batch * c.VocabSize);
        _features = model.HeadFeatures(heads, features);
        allocation.Dispose();

        model.ForwardToLastHidden(_batch, _x.View, proj.View, _attnLast.View, _xLast.View, _finalHidden.View, layer => _layers[recompute ? 0 : layer],
            adapter, training: true, beforeLayer: recompute ? layer => _layerInputs[layer].View.CopyFrom(_x.View) : null);
        Heads = model.RunScoreHeads(_finalHidden.View, heads, _features, ArrayView<int>.Empty, _logits.View, _batch.Batch, training: true);
        LastHidden = Transformer<TW>.SplitRows(_finalHidden.View.GetAsArray1D(), _batch.Batch, h);
        Tokens = _batch.Lengths.Sum();
    }

    public override float[] LanguageModelLoss(int[] targetTokens, float gradientScale)
    {
        int batch = _batch.Batch, vocab = _model.Config.VocabSize;
        if (_lmGradient) throw new InvalidOperationException("the LM loss was already evaluated on this training pass");
        if (targetTokens.Length != batch) throw new ArgumentException($"{targetTokens.Length} target tokens for a batch of {batch}");
        for (int b = 0; b < batch; b++)
            if ((uint)targetTokens[b] >= vocab) throw new ArgumentException($"target token {targetTokens[b]} of sequence {b} is outside the vocabulary ({vocab})");
        var device = _model.Device;
        using var targets = device.Accelerator.Allocate1D(targetTokens);
        using var losses = device.Accelerator.Allocate1D<float>(batch);
        CrossEntropyKernels.LaunchForwardBackward(device, _logits.View, targets.View, losses.View, batch, vocab, gradientScale);
        _lmGradient = true;
        return losses.GetAsArray1D();
    }

    public override void Backward(float[] dPointwise, float[] dPairwise)
    {
        if (_backwardDone) throw new InvalidOperationException("Backward was already called on this training pass");
        _backwardDone = true;
        var c = _model.Config;
        var device = _model.Device;
        var acc = device.Accelerator;
        int batch = _batch.Batch, rows = _batch.Rows, h = c.HiddenSize;
        if (dPointwise.Length != batch || dPairwise.Length != batch)
            throw new ArgumentException($"gradients must have one row per sequence ({batch})");

        var flatScores = new float[batch * 2];
        for (int b = 0; b < batch; b++)
        {
            flatScores[2 * b] = dPointwise[b];
            flatScores[2 * b + 1] = dPairwise[b];
        }
        using var dScores = acc.Allocate1D(flatScores);
        using var dLm = device.Rent((long)batch * h);
        using var dHidden = device.Rent((long)batch * h);
        using var dxLast = device.Rent((long)batch * h);
        using var dx = device.Rent((long)rows * h);
        using var scratch = new BackwardScratch(device, c, rows, _adapter.Rank);
        dxLast.View.MemSetToZero();
        dx.View.MemSetToZero();

        // Heads: LM part dh = dLogits·W_lm (the logits buffer holds dLogits now), then the score heads and their weight gradients.
        if (_lmGradient)
            MatMulKernels.LaunchBackwardInput(device, _logits.View, ArrayView<float>.Empty, _model.Weights.LmHead, ArrayView<float>.Empty,
                dLm.View, batch, c.VocabSize, h, 0, accumulate: false, frozenWeights: true);
        HeadKernels.LaunchBackward(device, _finalHidden.View, _lmGradient ? dLm.View : ArrayView<float>.Empty, _heads.Weight, dScores.View,
            dHidden.View, _heads.WeightGradient, _heads.BiasGradient, FeatureView, _heads.FeatureWeightGradient, batch, h);
        RmsNormKernels.LaunchBackward(device, _xLast.View, _model.Weights.FinalNorm, dHidden.View, dxLast.View, batch, h, (float)c.RmsNormEps);

        using var proj = _recompute ? device.Rent((long)rows * h) : null;
        using var replay = _recompute ? device.Rent((long)rows * h) : null;
        for (int layer = c.Layers - 1; layer >= 0; layer--)
        {
            var activations = _layers[_recompute ? 0 : layer];
            if (_recompute)
            {
                replay!.View.CopyFrom(_layerInputs[layer].View);
                _model.ForwardLayerOrLastTokens(layer, _batch, replay.View, proj!.View, _attnLast.View, _xLast.View, activations, _adapter, training: true);
            }
            if (layer == c.Layers - 1)
                _model.LastTokenLayerBackward(layer, _batch, _attnLast.View, dxLast.View, dx.View, activations, _adapter, scratch);
            else
                _model.FullLayerBackward(layer, _batch, dx.View, activations, _adapter, scratch);
        }
        device.Synchronize();
    }

    private ArrayView<float> FeatureView => _features?.View ?? ArrayView<float>.Empty;

    public override void Dispose()
    {
        _features?.Dispose();
        foreach (var layer in _layers) layer.Dispose();
        foreach (var input in _layerInputs) input.Dispose();
        _x.Dispose();
        _attnLast.Dispose();
        _xLast.Dispose();
        _finalHidden.Dispose();
        _logits.Dispose();
        _batch.Dispose();
    }
}

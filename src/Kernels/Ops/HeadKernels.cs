using System.Runtime.CompilerServices;
using ILGPU;

namespace LeadEngine.Kernels;

/// <summary>
/// The fused head projection on the final-norm hidden state at each sequence's last real token ([B, H]): the LM
/// logits (full vocabulary or a short list such as the Yes/No tokens) and the wide-and-deep pointwise and pairwise
/// scores <c>score[b, r] = bias[r] + Ws[r]·h[b] + V[r]·x[b]</c> over F structured features x [B, F].
/// </summary>
public static class HeadKernels
{
    /// <summary>
    /// Runs the forward pass. Empty <paramref name="tokenIds"/> means the full vocabulary of
    /// <paramref name="vocab"/> rows; <paramref name="frozenWeights"/> lets the SIMD backend keep a packed LM head.
    /// <paramref name="features"/> ([B, F]) and <paramref name="featureWeight"/> ([2, F]) are empty for heads without features.
    /// </summary>
    public static void LaunchForward<TW>(ComputeDevice device, ArrayView<float> hidden, ArrayView<TW> lmWeight, ArrayView<int> tokenIds,
        ArrayView<float> scoreWeight, ArrayView<float> scoreBias, ArrayView<float> features, ArrayView<float> featureWeight,
        ArrayView<float> logits, ArrayView<float> scores, int batch, int hiddenSize, int vocab, bool frozenWeights = false)
        where TW : unmanaged, IWeight
    {
        int featureCount = FeatureCount(features, featureWeight, batch);
        using var timer = device.Time("head.forward", 2.0 * batch * (tokenIds.Length > 0 ? tokenIds.Length : vocab) * hiddenSize, (double)Unsafe.SizeOf<TW>() * (tokenIds.Length > 0 ? tokenIds.Length : vocab) * hiddenSize);
        device.Backend.HeadForward(hidden, lmWeight, tokenIds, scoreWeight, scoreBias, features, featureWeight, logits, scores,
            batch, hiddenSize, vocab, featureCount, frozenWeights);
    }

    /// <summary>F from the feature views: [B, F] rows and [2, F] weights, or both empty (F = 0).</summary>
    private static int FeatureCount(ArrayView<float> features, ArrayView<float> featureWeight, int batch)
    {
        if (featureWeight.Length == 0 && features.Length == 0) return 0;
        int f = (int)(featureWeight.Length / 2);
        if (featureWeight.Length != 2L * f || f == 0 || features.Length != (long)batch * f)
            throw new ArgumentException($"head features: {features.Length} values for a batch of {batch} and {featureWeight.Length} feature weights (expected [B, F] and [2, F])");
        return f;
    }

    /// <summary>
    /// Runs the backward pass, which overwrites <paramref name="dHidden"/> ([B, H]); empty
    /// <paramref name="dLmHidden"/> means no LM term, empty score views no heads, empty feature views no features.
    /// </summary>
    public static void LaunchBackward(ComputeDevice device, ArrayView<float> hidden, ArrayView<float> dLmHidden,
        ArrayView<float> scoreWeight, ArrayView<float> dScores, ArrayView<float> dHidden, ArrayView<float> dScoreWeight, ArrayView<float> dScoreBias,
        ArrayView<float> features, ArrayView<float> dFeatureWeight, int batch, int hiddenSize)
    {
        int featureCount = FeatureCount(features, dFeatureWeight, batch);
        if (featureCount > 0 && dScores.Length == 0) throw new ArgumentException("head features need the score heads");
        using var timer = device.Time("head.backward", 8.0 * batch * hiddenSize, 16.0 * batch * hiddenSize);
        device.Backend.HeadBackward(hidden, dLmHidden, scoreWeight, dScores, dHidden, dScoreWeight, dScoreBias, features, dFeatureWeight,
            batch, hiddenSize, featureCount);
    }
}

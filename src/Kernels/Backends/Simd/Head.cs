using ILGPU;

namespace LeadEngine.Kernels;

internal sealed partial class SimdBackend
{
    public void HeadForward<TW>(ArrayView<float> hidden, ArrayView<TW> lmWeight, ArrayView<int> tokenIds, ArrayView<float> scoreWeight, ArrayView<float> scoreBias,
        ArrayView<float> features, ArrayView<float> featureWeight, ArrayView<float> logits, ArrayView<float> scores,
        int batch, int hiddenSize, int vocab, int featureCount, bool frozenWeights) where TW : unmanaged, IWeight
    {
        var (hh, wh, th, swh, sbh, logitH, scoreH) = (Host(hidden), Host(lmWeight), Host(tokenIds),
            Host(scoreWeight), Host(scoreBias), Host(logits), Host(scores));
        var (xh, vh) = (Host(features), Host(featureWeight));
        int count = tokenIds.Length > 0 ? (int)tokenIds.Length : vocab;
        if (tokenIds.Length == 0)
        {
            var w = Strided<TW>.Transposed(wh, hiddenSize);
            var packed = frozenWeights ? PackedWeights(lmWeight, transposed: true, () => SimdGemm.PackAll(w, count, hiddenSize)) : null;
            SimdGemm.Multiply(Strided<float>.RowMajor(hh, hiddenSize), w, logitH, 0, count, batch, count, hiddenSize, 1f, accumulate: false, packed: packed);
        }
        else
        {
            var row = new float[hiddenSize];
            for (int j = 0; j < count; j++)
            {
                WeightRows.Widen(wh, (long)th[j] * hiddenSize, row);
                for (int b = 0; b < batch; b++)
                    logitH[(long)b * count + j] = System.Numerics.Tensors.TensorPrimitives.Dot(hh.Slice((long)b * hiddenSize, hiddenSize), row);
            }
        }
        if (scoreBias.Length > 0)
        {
            for (int b = 0; b < batch; b++)
                for (int r = 0; r < 2; r++)
                    scoreH[b * 2 + r] = sbh[r] + System.Numerics.Tensors.TensorPrimitives.Dot(hh.Slice((long)b * hiddenSize, hiddenSize), swh.Slice((long)r * hiddenSize, hiddenSize))
                        + (featureCount == 0 ? 0f : System.Numerics.Tensors.TensorPrimitives.Dot(xh.Slice((long)b * featureCount, featureCount), vh.Slice((long)r * featureCount, featureCount)));
        }
    }

    public void HeadBackward(ArrayView<float> hidden, ArrayView<float> dLmHidden, ArrayView<float> scoreWeight, ArrayView<float> dScores, ArrayView<float> dHidden,
        ArrayView<float> dScoreWeight, ArrayView<float> dScoreBias, ArrayView<float> features, ArrayView<float> dFeatureWeight,
        int batch, int hiddenSize, int featureCount)
    {
        var (hh, dLmH, swh, dSH, dHH, dSWH, dSBH) = (Host(hidden), Host(dLmHidden), Host(scoreWeight),
            Host(dScores), Host(dHidden), Host(dScoreWeight), Host(dScoreBias));
        var (xh, dVH) = (Host(features), Host(dFeatureWeight));
        for (int b = 0; b < batch; b++)
        {
            var target = dHH.Slice((long)b * hiddenSize, hiddenSize);
            var hRow = hh.Slice((long)b * hiddenSize, hiddenSize);
            if (dLmHidden.Length > 0) dLmH.Slice((long)b * hiddenSize, hiddenSize).CopyTo(target);
            else target.Clear();
            if (dScores.Length == 0) continue;
            for (int r = 0; r < 2; r++)
            {
                float g = dSH[b * 2 + r];
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(swh.Slice((long)r * hiddenSize, hiddenSize), g, target, target);
                var dw = dSWH.Slice((long)r * hiddenSize, hiddenSize);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(hRow, g, dw, dw);
                dSBH[r] += g;
                if (featureCount == 0) continue;
                var dv = dVH.Slice((long)r * featureCount, featureCount);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(xh.Slice((long)b * featureCount, featureCount), g, dv, dv);
            }
        }
    }
}

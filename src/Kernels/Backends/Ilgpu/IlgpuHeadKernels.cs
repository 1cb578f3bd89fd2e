using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>Shape of a fused head projection.</summary>
internal struct HeadArgs
{
    /// <summary>Sequences in the batch (rows of the hidden state).</summary>
    public int Batch;
    /// <summary>Hidden size.</summary>
    public int Hidden;
    /// <summary>LM logits per sequence: the vocabulary, or the length of the token list.</summary>
    public int LogitCount;
    /// <summary>1 when <c>tokenIds</c> selects the LM rows; 0 for the full vocabulary.</summary>
    public int UseTokenList;
    /// <summary>Score heads after the logits: 0, or 2 (pointwise, pairwise).</summary>
    public int ScoreHeads;
    /// <summary>Structured features per sequence that the score heads also read (0: none).</summary>
    public int Features;
}

/// <summary>
/// The fused head projection: from the final-norm hidden state at each sequence's last real token
/// (one row per sequence, [B, H]), one kernel yields the LM logits (full vocabulary or a short list
/// such as the Yes/No tokens) and the pointwise and pairwise scores. Each thread owns one output
/// row and reuses it across the batch, so each weight row is read once.
/// The score heads are wide and deep: besides the hidden row h [B, H] they may read a row of F
/// structured features x [B, F] (the lead's encoded CRM columns), with weights V [2, F]:
/// <c>score[b, r] = bias[r] + Ws[r]·h[b] + V[r]·x[b]</c>. x is an input, so it has no gradient; V does.
/// </summary>
internal static class IlgpuHeadKernels
{
    /// <summary>Kernel: one thread per output row (logit rows, then score heads).</summary>
    public static void Forward<TW>(Index1D index, ArrayView<float> hidden, ArrayView<TW> lmWeight, ArrayView<int> tokenIds,
        ArrayView<float> scoreWeight, ArrayView<float> scoreBias, ArrayView<float> features, ArrayView<float> featureWeight,
        ArrayView<float> logits, ArrayView<float> scores, HeadArgs a)
        where TW : unmanaged, IWeight
    {
        int j = index;
        int h = a.Hidden;
        if (j < a.LogitCount)
        {
            long wRow = (long)(a.UseTokenList != 0 ? tokenIds[j] : j) * h;
            for (int b = 0; b < a.Batch; b++)
            {
                long hRow = (long)b * h;
                float sum = 0f;
                for (int c = 0; c < h; c++) sum += hidden[hRow + c] * lmWeight[wRow + c].ToFloat();
                logits[(long)b * a.LogitCount + j] = sum;
            }
        }
        else
        {
            int r = j - a.LogitCount;
            for (int b = 0; b < a.Batch; b++)
            {
                long hRow = (long)b * h;
                float sum = scoreBias[r];
                for (int c = 0; c < h; c++) sum += hidden[hRow + c] * scoreWeight[r * h + c];
                long xRow = (long)b * a.Features;
                for (int f = 0; f < a.Features; f++) sum += features[xRow + f] * featureWeight[r * a.Features + f];
                scores[b * a.ScoreHeads + r] = sum;
            }
        }
    }

    /// <summary>
    /// Kernel, backward of the fused heads: one thread per hidden index c, then one per feature f. Writes the gradient of the
    /// final-norm hidden state at each sequence's last token ([B, H]), dh = dLm + Σ_r dScore[b,r]·Ws[r] (the LM
    /// part dLm = dLogits·W_lm comes from <see cref="IlgpuMatMulKernels.BackwardInput{TW}"/>), and adds the
    /// score-head gradients dWs[r,c] += Σ_b dScore[b,r]·h[b,c], dBs[r] += Σ_b dScore[b,r] and, for the
    /// feature weights, dV[r,f] += Σ_b dScore[b,r]·x[b,f].
    /// </summary>
    public static void Backward(Index1D index, ArrayView<float> hidden, ArrayView<float> dLmHidden,
        ArrayView<float> scoreWeight, ArrayView<float> dScores, ArrayView<float> dHidden, ArrayView<float> dScoreWeight, ArrayView<float> dScoreBias,
        ArrayView<float> features, ArrayView<float> dFeatureWeight, HeadArgs a)
    {
        int c = index, h = a.Hidden;
        if (c >= h)
        {
            int f = c - h;
            float dv0 = 0f, dv1 = 0f;
            for (int b = 0; b < a.Batch; b++)
            {
                float x = features[(long)b * a.Features + f];
                dv0 += dScores[b * 2] * x;
                dv1 += dScores[b * 2 + 1] * x;
            }
            dFeatureWeight[f] += dv0;
            dFeatureWeight[a.Features + f] += dv1;
            return;
        }
        float dw0 = 0f, dw1 = 0f;
        for (int b = 0; b < a.Batch; b++)
        {
            long row = (long)b * h;
            float grad = dLmHidden.Length > 0 ? dLmHidden[row + c] : 0f;
            if (a.ScoreHeads > 0)
            {
                float d0 = dScores[b * 2], d1 = dScores[b * 2 + 1];
                grad += d0 * scoreWeight[c] + d1 * scoreWeight[h + c];
                dw0 += d0 * hidden[row + c];
                dw1 += d1 * hidden[row + c];
            }
            dHidden[row + c] = grad;
        }
        if (a.ScoreHeads > 0)
        {
            dScoreWeight[c] += dw0;
            dScoreWeight[h + c] += dw1;
            if (c == 0)
            {
                float db0 = 0f, db1 = 0f;
                for (int b = 0; b < a.Batch; b++)
                {
                    db0 += dScores[b * 2];
                    db1 += dScores[b * 2 + 1];
                }
                dScoreBias[0] += db0;
                dScoreBias[1] += db1;
            }
        }
    }
}

internal sealed partial class IlgpuBackend
{
    public void HeadForward<TW>(ArrayView<float> hidden, ArrayView<TW> lmWeight, ArrayView<int> tokenIds, ArrayView<float> scoreWeight, ArrayView<float> scoreBias,
        ArrayView<float> features, ArrayView<float> featureWeight, ArrayView<float> logits, ArrayView<float> scores,
        int batch, int hiddenSize, int vocab, int featureCount, bool frozenWeights) where TW : unmanaged, IWeight
    {
        var kernel = _device.GetKernel($"head.fwd.{typeof(TW).Name}", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<TW>, ArrayView<int>,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, HeadArgs>(IlgpuHeadKernels.Forward));
        var args = new HeadArgs
        {
            Batch = batch, Hidden = hiddenSize,
            LogitCount = tokenIds.Length > 0 ? (int)tokenIds.Length : vocab,
            UseTokenList = tokenIds.Length > 0 ? 1 : 0,
            ScoreHeads = scoreBias.Length > 0 ? 2 : 0,
            Features = featureCount,
        };
        kernel(args.LogitCount + args.ScoreHeads, hidden, lmWeight, tokenIds, scoreWeight, scoreBias, features, featureWeight, logits, scores, args);
    }

    public void HeadBackward(ArrayView<float> hidden, ArrayView<float> dLmHidden, ArrayView<float> scoreWeight, ArrayView<float> dScores, ArrayView<float> dHidden,
        ArrayView<float> dScoreWeight, ArrayView<float> dScoreBias, ArrayView<float> features, ArrayView<float> dFeatureWeight,
        int batch, int hiddenSize, int featureCount)
    {
        var kernel = _device.GetKernel("head.bwd", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, HeadArgs>(IlgpuHeadKernels.Backward));
        var args = new HeadArgs { Batch = batch, Hidden = hiddenSize, ScoreHeads = dScores.Length > 0 ? 2 : 0, Features = featureCount };
        kernel(hiddenSize + featureCount, hidden, dLmHidden, scoreWeight, dScores, dHidden, dScoreWeight, dScoreBias, features, dFeatureWeight, args);
    }
}

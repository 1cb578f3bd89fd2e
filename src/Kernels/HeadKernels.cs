using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>Shape of a fused head projection.</summary>
public struct HeadArgs
{
    /// <summary>Sequences in the batch.</summary>
    public int Batch;
    /// <summary>Padded sequence length.</summary>
    public int SeqLen;
    /// <summary>Hidden size.</summary>
    public int Hidden;
    /// <summary>LM logits per sequence: the vocabulary, or the length of the token list.</summary>
    public int LogitCount;
    /// <summary>1 when <c>tokenIds</c> selects the LM rows; 0 for the full vocabulary.</summary>
    public int UseTokenList;
    /// <summary>Score heads after the logits: 0, or 2 (pointwise, pairwise).</summary>
    public int ScoreHeads;
}

/// <summary>
/// The fused head projection: from the final-norm hidden state at each sequence's last real token
/// (gathered here, by length), one kernel yields the LM logits (full vocabulary or a short list
/// such as the Yes/No tokens) and the pointwise and pairwise scores. Each thread owns one output
/// row and reuses it across the batch, so each weight row is read once.
/// </summary>
public static class HeadKernels
{
    /// <summary>Kernel: one thread per output row (logit rows, then score heads).</summary>
    public static void Forward<TW>(Index1D index, ArrayView<float> hidden, ArrayView<int> lengths, ArrayView<TW> lmWeight, ArrayView<int> tokenIds,
        ArrayView<float> scoreWeight, ArrayView<float> scoreBias, ArrayView<float> logits, ArrayView<float> scores, HeadArgs a)
        where TW : unmanaged, IWeight
    {
        int j = index;
        int h = a.Hidden;
        if (j < a.LogitCount)
        {
            long wRow = (long)(a.UseTokenList != 0 ? tokenIds[j] : j) * h;
            for (int b = 0; b < a.Batch; b++)
            {
                long hRow = ((long)b * a.SeqLen + lengths[b] - 1) * h;
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
                long hRow = ((long)b * a.SeqLen + lengths[b] - 1) * h;
                float sum = scoreBias[r];
                for (int c = 0; c < h; c++) sum += hidden[hRow + c] * scoreWeight[r * h + c];
                scores[b * a.ScoreHeads + r] = sum;
            }
        }
    }

    /// <summary>Launches <see cref="Forward{TW}"/>. Empty <paramref name="tokenIds"/> means the full vocabulary of <paramref name="vocab"/> rows.</summary>
    public static void LaunchForward<TW>(ComputeDevice device, ArrayView<float> hidden, ArrayView<int> lengths, ArrayView<TW> lmWeight, ArrayView<int> tokenIds,
        ArrayView<float> scoreWeight, ArrayView<float> scoreBias, ArrayView<float> logits, ArrayView<float> scores,
        int batch, int seqLen, int hiddenSize, int vocab)
        where TW : unmanaged, IWeight
    {
        var kernel = device.GetKernel($"head.fwd.{typeof(TW).Name}", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<TW>, ArrayView<int>,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, HeadArgs>(Forward));
        var args = new HeadArgs
        {
            Batch = batch, SeqLen = seqLen, Hidden = hiddenSize,
            LogitCount = tokenIds.Length > 0 ? (int)tokenIds.Length : vocab,
            UseTokenList = tokenIds.Length > 0 ? 1 : 0,
            ScoreHeads = scoreBias.Length > 0 ? 2 : 0,
        };
        kernel(args.LogitCount + args.ScoreHeads, hidden, lengths, lmWeight, tokenIds, scoreWeight, scoreBias, logits, scores, args);
    }
}

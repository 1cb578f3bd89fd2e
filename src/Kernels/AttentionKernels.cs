using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>Shape of a causal GQA attention call.</summary>
public struct AttentionArgs
{
    /// <summary>Padded sequence length T.</summary>
    public int SeqLen;
    /// <summary>Query heads.</summary>
    public int Heads;
    /// <summary>Key/value heads (divides <see cref="Heads"/>).</summary>
    public int KvHeads;
    /// <summary>Head dimension (at most <see cref="AttentionKernels.MaxHeadDim"/>).</summary>
    public int HeadDim;
    /// <summary>Key rows staged per step.</summary>
    public int KeyBlock;
    /// <summary>Softmax scale, 1/√headDim.</summary>
    public float Scale;
}

/// <summary>
/// Causal grouped-query attention, flash style: each group owns a block of query rows of one
/// (sequence, head), streams key/value blocks through shared memory and keeps an online softmax
/// (running max and sum) per row, so no T×T matrix is ever written to global memory. Query head
/// h reads key/value head h / (heads / kvHeads). Rows at or past a sequence's length give zeros.
/// </summary>
public static class AttentionKernels
{
    /// <summary>Largest supported head dimension.</summary>
    public const int MaxHeadDim = 256;

    /// <summary>
    /// Kernel: grid (⌈T/BQ⌉, heads, batch), one thread per query row; q/o are [B·T, heads·d],
    /// k/v are [B·T, kvHeads·d]; dynamic shared memory 2·KeyBlock·d floats.
    /// </summary>
    public static void Forward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> lengths, ArrayView<float> o, AttentionArgs a)
    {
        var shared = SharedMemory.GetDynamic<float>();
        var qRow = LocalMemory.Allocate<float>(MaxHeadDim);
        var acc = LocalMemory.Allocate<float>(MaxHeadDim);
        int d = a.HeadDim, bk = a.KeyBlock;
        int head = Grid.IdxY, batch = Grid.IdxZ;
        int kvHead = head / (a.Heads / a.KvHeads);
        int t = Grid.IdxX * Group.DimX + Group.IdxX;
        int len = lengths[batch];
        bool active = t < len;
        long qOffset = (((long)batch * a.SeqLen + t) * a.Heads + head) * d;

        if (active)
        {
            for (int i = 0; i < d; i++)
            {
                qRow[i] = q[qOffset + i] * a.Scale;
                acc[i] = 0f;
            }
        }
        float runningMax = float.NegativeInfinity, runningSum = 0f;
        // Block-uniform bound: the last key any row of this block needs.
        int lastKey = Math.Min(Grid.IdxX * Group.DimX + Group.DimX, len) - 1;
        for (int k0 = 0; k0 <= lastKey; k0 += bk)
        {
            for (int i = Group.IdxX; i < bk * d; i += Group.DimX)
            {
                int j = i / d, c = i - j * d, key = k0 + j;
                long kv = (((long)batch * a.SeqLen + key) * a.KvHeads + kvHead) * d + c;
                bool inside = key < len;
                shared[i] = inside ? k[kv] : 0f;
                shared[bk * d + i] = inside ? v[kv] : 0f;
            }
            Group.Barrier();
            if (active)
            {
                int keys = Math.Min(bk, t - k0 + 1);
                for (int j = 0; j < keys; j++)
                {
                    float score = 0f;
                    for (int c = 0; c < d; c++) score += qRow[c] * shared[j * d + c];
                    if (score > runningMax)
                    {
                        float correction = MathF.Exp(runningMax - score);
                        runningSum *= correction;
                        for (int c = 0; c < d; c++) acc[c] *= correction;
                        runningMax = score;
                    }
                    float p = MathF.Exp(score - runningMax);
                    runningSum += p;
                    for (int c = 0; c < d; c++) acc[c] += p * shared[bk * d + j * d + c];
                }
            }
            Group.Barrier();
        }
        if (t < a.SeqLen)
        {
            float inv = active ? 1f / runningSum : 0f;
            for (int i = 0; i < d; i++) o[qOffset + i] = active ? acc[i] * inv : 0f;
        }
    }

    /// <summary>Launches <see cref="Forward"/> for a right-padded batch.</summary>
    public static void LaunchForward(ComputeDevice device, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> lengths, ArrayView<float> o,
        int batch, int seqLen, int heads, int kvHeads, int headDim)
    {
        if (headDim > MaxHeadDim) throw new ArgumentOutOfRangeException(nameof(headDim), $"head dimension {headDim} exceeds {MaxHeadDim}");
        var kernel = device.GetKernel("attention.fwd", acc =>
            acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, AttentionArgs>(Forward));
        int bq = device.Shapes.AttentionQueryBlock, bk = device.Shapes.AttentionKeyBlock;
        var args = new AttentionArgs { SeqLen = seqLen, Heads = heads, KvHeads = kvHeads, HeadDim = headDim, KeyBlock = bk, Scale = 1f / MathF.Sqrt(headDim) };
        var config = new KernelConfig(new Index3D((seqLen + bq - 1) / bq, heads, batch), new Index3D(bq, 1, 1),
            SharedMemoryConfig.RequestDynamic<float>(2 * bk * headDim));
        kernel(config, q, k, v, lengths, o, args);
    }
}

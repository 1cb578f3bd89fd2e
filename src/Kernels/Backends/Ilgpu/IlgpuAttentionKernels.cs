using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>Shape of a causal GQA attention call.</summary>
internal struct AttentionArgs
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
internal static class IlgpuAttentionKernels
{
    /// <summary>
    /// Kernel: grid (⌈T/BQ⌉, heads, batch), one thread per query row; q/o are [B·T, heads·d],
    /// k/v are [B·T, kvHeads·d]; dynamic shared memory 2·KeyBlock·d floats.
    /// </summary>
    public static void Forward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> lengths, ArrayView<float> o, ArrayView<float> lse, AttentionArgs a)
    {
        var shared = SharedMemory.GetDynamic<float>();
        var qRow = LocalMemory.Allocate<float>(AttentionKernels.MaxHeadDim);
        var acc = LocalMemory.Allocate<float>(AttentionKernels.MaxHeadDim);
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
            StageKeyValueTile(shared, k, v, batch, kvHead, k0, len, a);
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
            // Log-sum-exp of the scaled scores, kept for the backward pass.
            if (lse.Length > 0) lse[((long)batch * a.SeqLen + t) * a.Heads + head] = active ? runningMax + MathF.Log(runningSum) : 0f;
        }
    }

    /// <summary>
    /// Kernel, backward for queries: one thread per query row (grid as <see cref="Forward"/>). Recomputes
    /// p = exp(s − lse) per key, writes dq = scale·Σ_j p·(dO·v_j − D)·k_j and D = dO·o for the key pass.
    /// </summary>
    public static void BackwardQuery(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> lengths, ArrayView<float> o,
        ArrayView<float> lse, ArrayView<float> dO, ArrayView<float> dq, ArrayView<float> dotOut, AttentionArgs a)
    {
        var shared = SharedMemory.GetDynamic<float>();
        var qRow = LocalMemory.Allocate<float>(AttentionKernels.MaxHeadDim);
        var dORow = LocalMemory.Allocate<float>(AttentionKernels.MaxHeadDim);
        var acc = LocalMemory.Allocate<float>(AttentionKernels.MaxHeadDim);
        int d = a.HeadDim, bk = a.KeyBlock;
        int head = Grid.IdxY, batch = Grid.IdxZ;
        int kvHead = head / (a.Heads / a.KvHeads);
        int t = Grid.IdxX * Group.DimX + Group.IdxX;
        int len = lengths[batch];
        bool active = t < len;
        long qOffset = (((long)batch * a.SeqLen + t) * a.Heads + head) * d;
        long rowHead = ((long)batch * a.SeqLen + t) * a.Heads + head;
        float rowLse = 0f, rowDot = 0f;
        if (active)
        {
            rowLse = lse[rowHead];
            for (int i = 0; i < d; i++)
            {
                qRow[i] = q[qOffset + i] * a.Scale;
                dORow[i] = dO[qOffset + i];
                rowDot += dORow[i] * o[qOffset + i];
                acc[i] = 0f;
            }
        }
        int lastKey = Math.Min(Grid.IdxX * Group.DimX + Group.DimX, len) - 1;
        for (int k0 = 0; k0 <= lastKey; k0 += bk)
        {
            StageKeyValueTile(shared, k, v, batch, kvHead, k0, len, a);
            Group.Barrier();
            if (active)
            {
                int keys = Math.Min(bk, t - k0 + 1);
                for (int j = 0; j < keys; j++)
                {
                    float score = 0f, dp = 0f;
                    for (int c = 0; c < d; c++)
                    {
                        score += qRow[c] * shared[j * d + c];
                        dp += dORow[c] * shared[bk * d + j * d + c];
                    }
                    float ds = MathF.Exp(score - rowLse) * (dp - rowDot);
                    for (int c = 0; c < d; c++) acc[c] += ds * shared[j * d + c];
                }
            }
            Group.Barrier();
        }
        if (t < a.SeqLen)
        {
            for (int i = 0; i < d; i++) dq[qOffset + i] = active ? acc[i] * a.Scale : 0f;
            dotOut[rowHead] = rowDot;
        }
    }

    /// <summary>
    /// Kernel, backward for keys and values: grid (⌈T/B⌉, kvHeads, batch), one thread per key row of a
    /// KV head; streams the rows i ≥ j of q, dO, lse and D of every query head in the group through
    /// shared memory: dv = Σ p·dO_i, dk = scale·Σ p·(dO_i·v − D_i)·q_i. Writes, does not accumulate.
    /// </summary>
    public static void BackwardKeyValue(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> lengths,
        ArrayView<float> lse, ArrayView<float> dotOut, ArrayView<float> dO, ArrayView<float> dk, ArrayView<float> dv, AttentionArgs a)
    {
        var shared = SharedMemory.GetDynamic<float>();
        var kRow = LocalMemory.Allocate<float>(AttentionKernels.MaxHeadDim);
        var vRow = LocalMemory.Allocate<float>(AttentionKernels.MaxHeadDim);
        var dkAcc = LocalMemory.Allocate<float>(AttentionKernels.MaxHeadDim);
        var dvAcc = LocalMemory.Allocate<float>(AttentionKernels.MaxHeadDim);
        int d = a.HeadDim, bq = a.KeyBlock;
        int kvHead = Grid.IdxY, batch = Grid.IdxZ, group = a.Heads / a.KvHeads;
        int j = Grid.IdxX * Group.DimX + Group.IdxX;
        int len = lengths[batch];
        bool active = j < len;
        long kvOffset = (((long)batch * a.SeqLen + j) * a.KvHeads + kvHead) * d;
        if (active)
        {
            for (int c = 0; c < d; c++)
            {
                kRow[c] = k[kvOffset + c];
                vRow[c] = v[kvOffset + c];
                dkAcc[c] = 0f;
                dvAcc[c] = 0f;
            }
        }
        int qsBase = 0, dOBase = bq * d, lseBase = 2 * bq * d, dotBase = 2 * bq * d + bq;
        int firstQuery = Grid.IdxX * Group.DimX;
        for (int g = 0; g < group; g++)
        {
            int head = kvHead * group + g;
            for (int i0 = firstQuery; i0 < len; i0 += bq)
            {
                for (int idx = Group.IdxX; idx < bq * d; idx += Group.DimX)
                {
                    int r = idx / d, c = idx - r * d, query = i0 + r;
                    long qo = (((long)batch * a.SeqLen + query) * a.Heads + head) * d + c;
                    bool inside = query < len;
                    shared[qsBase + idx] = inside ? q[qo] * a.Scale : 0f;
                    shared[dOBase + idx] = inside ? dO[qo] : 0f;
                }
                for (int r = Group.IdxX; r < bq; r += Group.DimX)
                {
                    int query = i0 + r;
                    long rh = ((long)batch * a.SeqLen + query) * a.Heads + head;
                    shared[lseBase + r] = query < len ? lse[rh] : 0f;
                    shared[dotBase + r] = query < len ? dotOut[rh] : 0f;
                }
                Group.Barrier();
                if (active)
                {
                    int rows = Math.Min(bq, len - i0);
                    for (int r = 0; r < rows; r++)
                    {
                        if (i0 + r < j) continue;
                        float score = 0f, dp = 0f;
                        for (int c = 0; c < d; c++)
                        {
                            score += shared[qsBase + r * d + c] * kRow[c];
                            dp += shared[dOBase + r * d + c] * vRow[c];
                        }
                        float p = MathF.Exp(score - shared[lseBase + r]);
                        float ds = p * (dp - shared[dotBase + r]);
                        for (int c = 0; c < d; c++)
                        {
                            dvAcc[c] += p * shared[dOBase + r * d + c];
                            dkAcc[c] += ds * shared[qsBase + r * d + c];
                        }
                    }
                }
                Group.Barrier();
            }
        }
        if (j < a.SeqLen)
        {
            // q was staged pre-scaled, so dk already carries the softmax scale.
            for (int c = 0; c < d; c++)
            {
                dk[kvOffset + c] = active ? dkAcc[c] : 0f;
                dv[kvOffset + c] = active ? dvAcc[c] : 0f;
            }
        }
    }

    /// <summary>Copies keys and values k0..k0+KeyBlock of one KV head into shared memory (keys, then values); zeros past the length.</summary>
    private static void StageKeyValueTile(ArrayView<float> shared, ArrayView<float> k, ArrayView<float> v, int batch, int kvHead, int k0, int len, AttentionArgs a)
    {
        int d = a.HeadDim, bk = a.KeyBlock;
        for (int i = Group.IdxX; i < bk * d; i += Group.DimX)
        {
            int j = i / d, c = i - j * d, key = k0 + j;
            long kv = (((long)batch * a.SeqLen + key) * a.KvHeads + kvHead) * d + c;
            bool inside = key < len;
            shared[i] = inside ? k[kv] : 0f;
            shared[bk * d + i] = inside ? v[kv] : 0f;
        }
    }

    /// <summary>
    /// Dynamic shared memory of a group, in floats: the staged key and value tile (2 × key block × head dim), and for
    /// <see cref="BackwardKeyValue"/> two more floats per key.
    /// </summary>
    internal static int SharedFloats(int keyBlock, int headDim, bool keyValueBackward = false) => 2 * keyBlock * headDim + (keyValueBackward ? 2 * keyBlock : 0);

    internal static (AttentionArgs Args, int QueryBlock) Shape(ComputeDevice device, int seqLen, int heads, int kvHeads, int headDim)
    {
        int bk = device.Shapes.AttentionKeyBlock;
        return (new AttentionArgs { SeqLen = seqLen, Heads = heads, KvHeads = kvHeads, HeadDim = headDim, KeyBlock = bk, Scale = 1f / MathF.Sqrt(headDim) },
            device.Shapes.AttentionQueryBlock);
    }
}

internal sealed partial class IlgpuBackend
{
    public void AttentionForward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> lengths, ArrayView<float> o, ArrayView<float> lse,
        int batch, int seqLen, int heads, int kvHeads, int headDim)
    {
        var (args, bq) = IlgpuAttentionKernels.Shape(_device, seqLen, heads, kvHeads, headDim);
        if (_device.TensorCores && headDim % 16 == 0 && headDim <= IlgpuTensorCoreKernels.AttentionMaxHeadDim)
        {
            TensorCoreAttentionForward(q, k, v, lengths, o, lse, batch, args);
            return;
        }
        var kernel = _device.GetKernel("attention.fwd", acc =>
            acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, AttentionArgs>(IlgpuAttentionKernels.Forward));
        var config = new KernelConfig(new Index3D((seqLen + bq - 1) / bq, heads, batch), new Index3D(bq, 1, 1),
            SharedMemoryConfig.RequestDynamic<float>(IlgpuAttentionKernels.SharedFloats(args.KeyBlock, headDim)));
        kernel(config, q, k, v, lengths, o, lse, args);
    }

    public void AttentionBackward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> lengths, ArrayView<float> o, ArrayView<float> lse,
        ArrayView<float> dO, ArrayView<float> dq, ArrayView<float> dk, ArrayView<float> dv, ArrayView<float> dotScratch,
        int batch, int seqLen, int heads, int kvHeads, int headDim)
    {
        var (args, bq) = IlgpuAttentionKernels.Shape(_device, seqLen, heads, kvHeads, headDim);
        var queryKernel = _device.GetKernel("attention.bwd_query", acc =>
            acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionArgs>(IlgpuAttentionKernels.BackwardQuery));
        queryKernel(new KernelConfig(new Index3D((seqLen + bq - 1) / bq, heads, batch), new Index3D(bq, 1, 1),
                SharedMemoryConfig.RequestDynamic<float>(IlgpuAttentionKernels.SharedFloats(args.KeyBlock, headDim))),
            q, k, v, lengths, o, lse, dO, dq, dotScratch, args);
        var keyKernel = _device.GetKernel("attention.bwd_kv", acc =>
            acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionArgs>(IlgpuAttentionKernels.BackwardKeyValue));
        keyKernel(new KernelConfig(new Index3D((seqLen + bq - 1) / bq, kvHeads, batch), new Index3D(bq, 1, 1),
                SharedMemoryConfig.RequestDynamic<float>(IlgpuAttentionKernels.SharedFloats(args.KeyBlock, headDim, keyValueBackward: true))),
            q, k, v, lengths, lse, dotScratch, dO, dk, dv, args);
    }
}

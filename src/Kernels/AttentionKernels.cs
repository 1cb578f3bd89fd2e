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
    public static void Forward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> lengths, ArrayView<float> o, ArrayView<float> lse, AttentionArgs a)
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
        var qRow = LocalMemory.Allocate<float>(MaxHeadDim);
        var dORow = LocalMemory.Allocate<float>(MaxHeadDim);
        var acc = LocalMemory.Allocate<float>(MaxHeadDim);
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
        var kRow = LocalMemory.Allocate<float>(MaxHeadDim);
        var vRow = LocalMemory.Allocate<float>(MaxHeadDim);
        var dkAcc = LocalMemory.Allocate<float>(MaxHeadDim);
        var dvAcc = LocalMemory.Allocate<float>(MaxHeadDim);
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

    private static (AttentionArgs Args, int QueryBlock) Shape(ComputeDevice device, int seqLen, int heads, int kvHeads, int headDim)
    {
        if (headDim > MaxHeadDim) throw new ArgumentOutOfRangeException(nameof(headDim), $"head dimension {headDim} exceeds {MaxHeadDim}");
        int bk = device.Shapes.AttentionKeyBlock;
        return (new AttentionArgs { SeqLen = seqLen, Heads = heads, KvHeads = kvHeads, HeadDim = headDim, KeyBlock = bk, Scale = 1f / MathF.Sqrt(headDim) },
            device.Shapes.AttentionQueryBlock);
    }

    /// <summary>
    /// Launches <see cref="Forward"/> for a right-padded batch. <paramref name="lse"/> ([B·T, heads])
    /// receives the log-sum-exp per row for training; pass an empty view for inference.
    /// </summary>
    public static void LaunchForward(ComputeDevice device, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> lengths, ArrayView<float> o,
        ArrayView<float> lse, int batch, int seqLen, int heads, int kvHeads, int headDim)
    {
        using var timer = device.Time("attention.forward", 2.0 * batch * heads * seqLen * (seqLen + 1.0) * headDim, 4.0 * batch * seqLen * (2 * heads + 2 * kvHeads) * headDim);
        if (device.UsesSimd)
        {
            SimdForward(device, q, k, v, lengths, o, lse, batch, seqLen, heads, kvHeads, headDim);
            return;
        }
        var (args, bq) = Shape(device, seqLen, heads, kvHeads, headDim);
        var kernel = device.GetKernel("attention.fwd", acc =>
            acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, AttentionArgs>(Forward));
        var config = new KernelConfig(new Index3D((seqLen + bq - 1) / bq, heads, batch), new Index3D(bq, 1, 1),
            SharedMemoryConfig.RequestDynamic<float>(2 * args.KeyBlock * headDim));
        kernel(config, q, k, v, lengths, o, lse, args);
    }

    /// <summary>
    /// Launches the backward pass: dq, dk, dv (written) from dO, given the forward's q, k, v, o and
    /// lse. <paramref name="dotScratch"/> holds [B·T, heads] floats.
    /// </summary>
    public static void LaunchBackward(ComputeDevice device, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> lengths,
        ArrayView<float> o, ArrayView<float> lse, ArrayView<float> dO, ArrayView<float> dq, ArrayView<float> dk, ArrayView<float> dv,
        ArrayView<float> dotScratch, int batch, int seqLen, int heads, int kvHeads, int headDim)
    {
        using var timer = device.Time("attention.backward", 5.0 * batch * heads * seqLen * (seqLen + 1.0) * headDim, 4.0 * batch * seqLen * (4 * heads + 4 * kvHeads) * headDim);
        if (device.UsesSimd)
        {
            SimdBackward(device, q, k, v, lengths, o, lse, dO, dq, dk, dv, batch, seqLen, heads, kvHeads, headDim);
            return;
        }
        var (args, bq) = Shape(device, seqLen, heads, kvHeads, headDim);
        var queryKernel = device.GetKernel("attention.bwd_query", acc =>
            acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionArgs>(BackwardQuery));
        queryKernel(new KernelConfig(new Index3D((seqLen + bq - 1) / bq, heads, batch), new Index3D(bq, 1, 1),
                SharedMemoryConfig.RequestDynamic<float>(2 * args.KeyBlock * headDim)),
            q, k, v, lengths, o, lse, dO, dq, dotScratch, args);
        var keyKernel = device.GetKernel("attention.bwd_kv", acc =>
            acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionArgs>(BackwardKeyValue));
        keyKernel(new KernelConfig(new Index3D((seqLen + bq - 1) / bq, kvHeads, batch), new Index3D(bq, 1, 1),
                SharedMemoryConfig.RequestDynamic<float>(2 * args.KeyBlock * headDim + 2 * args.KeyBlock)),
            q, k, v, lengths, lse, dotScratch, dO, dk, dv, args);
    }

    /// <summary>Query rows per block of the SIMD attention: scores are [block, keys so far], never T×T.</summary>
    private const int SimdQueryBlock = 64;

    /// <summary>
    /// SIMD CPU forward. First each (sequence, KV head) packs its kᵀ and v once as matrix-product operands,
    /// where packing them per query block and head had cost a sixth of the time at 2,000 tokens. Then one
    /// task per (sequence, head): per block of query rows, S = q·kᵀ over the keys up to the block's last
    /// row and O = softmax(S)·v as two blocked products over prefixes of the packed operands, the causal
    /// mask and softmax vectorised over rows in between.
    /// </summary>
    private static void SimdForward(ComputeDevice device, ArrayView<float> qView, ArrayView<float> kView, ArrayView<float> vView, ArrayView<int> lengthView,
        ArrayView<float> oView, ArrayView<float> lseView, int batch, int seqLen, int heads, int kvHeads, int d)
    {
        var (q, len, o, lse) = (device.Host(qView), device.Host(lengthView), device.Host(oView), device.Host(lseView));
        var (k, v) = (device.Host(kView.Cast<F32>()), device.Host(vView.Cast<F32>()));
        float scale = 1f / MathF.Sqrt(d);
        int group = heads / kvHeads;
        long qStride = (long)heads * d, kvStride = (long)kvHeads * d;
        int keySize = SimdGemm.PackedLength(seqLen, d), valueSize = SimdGemm.PackedLength(d, seqLen);
        var operands = Simd.Scratch(2, checked(batch * kvHeads * (keySize + valueSize)));
        var packedKeys = new PackedPanels[batch * kvHeads];
        var packedValues = new PackedPanels[batch * kvHeads];
        CoreTeam.For(batch * kvHeads, bk =>
        {
            int b = bk / kvHeads, length = len[b], at = bk * (keySize + valueSize);
            long kv0 = (long)b * seqLen * kvStride + (long)(bk % kvHeads) * d;
            packedKeys[bk] = SimdGemm.PackAll(new Strided<F32>(k, kv0, 1, kvStride), length, d, operands, at, parallel: false);
            packedValues[bk] = SimdGemm.PackAll(new Strided<F32>(v, kv0, kvStride, 1), d, length, operands, at + keySize, parallel: false);
        });
        CoreTeam.For(batch * heads, bh =>
        {
            int b = bh / heads, head = bh % heads, kvHead = head / group, length = len[b];
            long q0 = (long)b * seqLen * qStride + (long)head * d, kv0 = (long)b * seqLen * kvStride + (long)kvHead * d;
            var (keys, values) = (packedKeys[b * kvHeads + kvHead], packedValues[b * kvHeads + kvHead]);
            var scores = Simd.Scratch(0, SimdQueryBlock * length);
            var scoreSpan = HostSpan<float>.Pinned(scores);
            Span<float> sums = stackalloc float[SimdQueryBlock];
            for (int r0 = 0; r0 < length; r0 += SimdQueryBlock)
            {
                int rows = Math.Min(SimdQueryBlock, length - r0), keyCount = r0 + rows;
                SimdGemm.Multiply(new Strided<float>(q, q0 + r0 * qStride, qStride, 1), new Strided<F32>(k, kv0, 1, kvStride),
                    scoreSpan, 0, keyCount, rows, keyCount, d, scale, accumulate: false, parallel: false, packed: keys);
                // Unnormalised softmax numerators; each output row is divided by its sum after P·v (d values, not keys).
                for (int r = 0; r < rows; r++)
                {
                    var row = scores.AsSpan(r * keyCount, r0 + r + 1);
                    scores.AsSpan(r * keyCount + r0 + r + 1, keyCount - r0 - r - 1).Clear();
                    float max = System.Numerics.Tensors.TensorPrimitives.Max(row);
                    sums[r] = SimdMath.ExpShiftedSum(row, max);
                    if (lse.Length > 0) lse[((long)b * seqLen + r0 + r) * heads + head] = max + MathF.Log(sums[r]);
                }
                SimdGemm.Multiply(Strided<float>.RowMajor(scoreSpan, keyCount), new Strided<F32>(v, kv0, kvStride, 1),
                    o, q0 + r0 * qStride, (int)qStride, rows, d, keyCount, 1f, accumulate: false, parallel: false, packed: values);
                for (int r = 0; r < rows; r++)
                {
                    var outRow = o.Slice(q0 + (r0 + r) * qStride, d);
                    System.Numerics.Tensors.TensorPrimitives.Multiply(outRow, 1f / sums[r], outRow);
                }
            }
            for (int t = length; t < seqLen; t++)
            {
                o.Slice(q0 + t * qStride, d).Clear();
                if (lse.Length > 0) lse[((long)b * seqLen + t) * heads + head] = 0f;
            }
        });
    }

    /// <summary>
    /// SIMD CPU backward: one task per (sequence, KV head) owns dk and dv of that head, so they
    /// accumulate over its query heads without races, and packs kᵀ, vᵀ and k once for all of them (see
    /// <see cref="SimdForward"/>). Per block of query rows, as blocked products:
    /// P = exp(q·kᵀ·scale − lse) (causal), dP = dO·vᵀ, dS = P ⊙ (dP − rowsum(dO ⊙ o)), then
    /// dq = scale·dS·k, dk += scale·dSᵀ·q, dv += Pᵀ·dO.
    /// </summary>
    private static void SimdBackward(ComputeDevice device, ArrayView<float> qView, ArrayView<float> kView, ArrayView<float> vView, ArrayView<int> lengthView,
        ArrayView<float> oView, ArrayView<float> lseView, ArrayView<float> dOView, ArrayView<float> dqView, ArrayView<float> dkView, ArrayView<float> dvView,
        int batch, int seqLen, int heads, int kvHeads, int d)
    {
        var (q, len, o, lse, dO, dq, dk, dv) = (device.Host(qView), device.Host(lengthView), device.Host(oView), device.Host(lseView),
            device.Host(dOView), device.Host(dqView), device.Host(dkView), device.Host(dvView));
        var (k, v) = (device.Host(kView.Cast<F32>()), device.Host(vView.Cast<F32>()));
        var (qF, dOF) = (device.Host(qView.Cast<F32>()), device.Host(dOView.Cast<F32>()));
        float scale = 1f / MathF.Sqrt(d);
        int group = heads / kvHeads;
        long qStride = (long)heads * d, kvStride = (long)kvHeads * d;
        CoreTeam.For(batch * kvHeads, bk =>
        {
            int b = bk / kvHeads, kvHead = bk % kvHeads, length = len[b];
            long kv0 = (long)b * seqLen * kvStride + (long)kvHead * d;
            for (int t = 0; t < seqLen; t++)
            {
                dk.Slice(kv0 + t * kvStride, d).Clear();
                dv.Slice(kv0 + t * kvStride, d).Clear();
            }
            var keysT = SimdGemm.PackAll(new Strided<F32>(k, kv0, 1, kvStride), length, d, Simd.Scratch(2, SimdGemm.PackedLength(length, d)), parallel: false);
            var valuesT = SimdGemm.PackAll(new Strided<F32>(v, kv0, 1, kvStride), length, d, Simd.Scratch(3, SimdGemm.PackedLength(length, d)), parallel: false);
            var keys = SimdGemm.PackAll(new Strided<F32>(k, kv0, kvStride, 1), d, length, Simd.Scratch(4, SimdGemm.PackedLength(d, length)), parallel: false);
            var (probabilities, scoreGradients) = (Simd.Scratch(0, SimdQueryBlock * length), Simd.Scratch(1, SimdQueryBlock * length));
            var (pSpan, dsSpan) = (HostSpan<float>.Pinned(probabilities), HostSpan<float>.Pinned(scoreGradients));
            for (int g = 0; g < group; g++)
            {
                int head = kvHead * group + g;
                long q0 = (long)b * seqLen * qStride + (long)head * d;
                for (int r0 = 0; r0 < length; r0 += SimdQueryBlock)
                {
                    int rows = Math.Min(SimdQueryBlock, length - r0), keyCount = r0 + rows;
                    SimdGemm.Multiply(new Strided<float>(q, q0 + r0 * qStride, qStride, 1), new Strided<F32>(k, kv0, 1, kvStride),
                        pSpan, 0, keyCount, rows, keyCount, d, scale, accumulate: false, parallel: false, packed: keysT);
                    SimdGemm.Multiply(new Strided<float>(dO, q0 + r0 * qStride, qStride, 1), new Strided<F32>(v, kv0, 1, kvStride),
                        dsSpan, 0, keyCount, rows, keyCount, d, 1f, accumulate: false, parallel: false, packed: valuesT);
                    for (int r = 0; r < rows; r++)
                    {
                        long t = r0 + r;
                        Span<float> pRow = probabilities.AsSpan(r * keyCount, keyCount), dsRow = scoreGradients.AsSpan(r * keyCount, keyCount);
                        Span<float> live = pRow[..(int)(t + 1)], masked = dsRow[..(int)(t + 1)];
                        pRow[(int)(t + 1)..].Clear();
                        dsRow[(int)(t + 1)..].Clear();
                        SimdMath.ExpShiftedSum(live, lse[((long)b * seqLen + t) * heads + head]);
                        float rowDot = System.Numerics.Tensors.TensorPrimitives.Dot(dO.Slice(q0 + t * qStride, d), o.Slice(q0 + t * qStride, d));
                        System.Numerics.Tensors.TensorPrimitives.AddMultiply(masked, -rowDot, live, masked);
                    }
                    SimdGemm.Multiply(Strided<float>.RowMajor(dsSpan, keyCount), new Strided<F32>(k, kv0, kvStride, 1), dq, q0 + r0 * qStride, (int)qStride, rows, d, keyCount, scale,
                        accumulate: false, parallel: false, packed: keys);
                    SimdGemm.Multiply(Strided<float>.Transposed(dsSpan, keyCount), new Strided<F32>(qF, q0 + r0 * qStride, qStride, 1), dk, kv0, (int)kvStride,
                        keyCount, d, rows, scale, accumulate: true, parallel: false);
                    SimdGemm.Multiply(Strided<float>.Transposed(pSpan, keyCount), new Strided<F32>(dOF, q0 + r0 * qStride, qStride, 1), dv, kv0, (int)kvStride,
                        keyCount, d, rows, 1f, accumulate: true, parallel: false);
                }
                for (int t = length; t < seqLen; t++) dq.Slice(q0 + t * qStride, d).Clear();
            }
        });
    }
}

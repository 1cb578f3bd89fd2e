using ILGPU;

namespace LeadEngine.Kernels;

internal sealed partial class SimdBackend
{
    public void AttentionForward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> lengths, ArrayView<float> o, ArrayView<float> lse,
        int batch, int seqLen, int heads, int kvHeads, int headDim)
    {
        SimdAttentionForward(q, k, v, lengths, o, lse, batch, seqLen, heads, kvHeads, headDim);
    }

    public void AttentionBackward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> lengths, ArrayView<float> o, ArrayView<float> lse,
        ArrayView<float> dO, ArrayView<float> dq, ArrayView<float> dk, ArrayView<float> dv, ArrayView<float> dotScratch,
        int batch, int seqLen, int heads, int kvHeads, int headDim)
    {
        SimdAttentionBackward(q, k, v, lengths, o, lse, dO, dq, dk, dv, batch, seqLen, heads, kvHeads, headDim);
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
    private void SimdAttentionForward(ArrayView<float> qView, ArrayView<float> kView, ArrayView<float> vView, ArrayView<int> lengthView,
        ArrayView<float> oView, ArrayView<float> lseView, int batch, int seqLen, int heads, int kvHeads, int d)
    {
        var (q, len, o, lse) = (Host(qView), Host(lengthView), Host(oView), Host(lseView));
        var (k, v) = (Host(kView.Cast<F32>()), Host(vView.Cast<F32>()));
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
    /// <see cref="SimdAttentionForward"/>). Per block of query rows, as blocked products:
    /// P = exp(q·kᵀ·scale − lse) (causal), dP = dO·vᵀ, dS = P ⊙ (dP − rowsum(dO ⊙ o)), then
    /// dq = scale·dS·k, dk += scale·dSᵀ·q, dv += Pᵀ·dO.
    /// </summary>
    private void SimdAttentionBackward(ArrayView<float> qView, ArrayView<float> kView, ArrayView<float> vView, ArrayView<int> lengthView,
        ArrayView<float> oView, ArrayView<float> lseView, ArrayView<float> dOView, ArrayView<float> dqView, ArrayView<float> dkView, ArrayView<float> dvView,
        int batch, int seqLen, int heads, int kvHeads, int d)
    {
        var (q, len, o, lse, dO, dq, dk, dv) = (Host(qView), Host(lengthView), Host(oView), Host(lseView),
            Host(dOView), Host(dqView), Host(dkView), Host(dvView));
        var (k, v) = (Host(kView.Cast<F32>()), Host(vView.Cast<F32>()));
        var (qF, dOF) = (Host(qView.Cast<F32>()), Host(dOView.Cast<F32>()));
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

using System.Runtime.Intrinsics;

namespace LeadEngine.Kernels;

/// <summary>
/// The SIMD backend's products with one side as narrow as the LoRA rank: u = x·Aᵀ, du = dy·B,
/// dA += duᵀ·x and dB += dyᵀ·u. In <see cref="SimdGemm"/> they wasted most of the register tile (an
/// output 8 wide fills a quarter of a 32-column strip, or 8 rows of a 6-row tile) and re-packed the wide
/// operand every call for only 16 FLOPs per packed value: 14–34 GFLOP/s, 5% of a 0.5B training step.
/// Here the wide operand streams straight from memory and the narrow one stays in registers or L1.
/// </summary>
internal static class SimdRankProducts
{
    private const int DotRows = 2, DotColumns = 4, OuterRanks = 4, OuterWidth = 2 * 8, OuterRows = 16;

    /// <summary>
    /// out[i, j] = α·Σ_p X[i, p]·R[j, p] (+ out): each row of X [m, d] dotted with the r rows of R [r, d],
    /// out [m, r]; all row-major.
    /// </summary>
    public static unsafe void RowDots(HostSpan<float> x, HostSpan<float> r, HostSpan<float> output, int m, int rank, int d, float alpha, bool accumulate)
    {
        int blocks = (m + 31) / 32;
        void Block(int block)
        {
            float* xp = (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref x[0]);
            float* rp = (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref r[0]);
            float* op = (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref output[0]);
            for (int i = block * 32; i < Math.Min(m, block * 32 + 32); i += DotRows)
                for (int j = 0; j < rank; j += DotColumns)
                    DotTile(xp, rp, op, m, rank, d, i, j, alpha, accumulate);
        }
        if ((long)m * rank * d > 1 << 19) CoreTeam.For(blocks, Block);
        else for (int block = 0; block < blocks; block++) Block(block);
    }

    /// <summary>Rows i, i+1 of X against rows j..j+3 of R: eight vector accumulators over d, then their sums.</summary>
    private static unsafe void DotTile(float* x, float* r, float* output, int m, int rank, int d, int i, int j, float alpha, bool accumulate)
    {
        // Past the edge, tiles read the last valid row again and do not store it.
        float* x0 = x + (long)i * d, x1 = x + (long)Math.Min(i + 1, m - 1) * d;
        float* r0 = r + (long)j * d, r1 = r + (long)Math.Min(j + 1, rank - 1) * d;
        float* r2 = r + (long)Math.Min(j + 2, rank - 1) * d, r3 = r + (long)Math.Min(j + 3, rank - 1) * d;
        var (a00, a01, a02, a03) = (Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero);
        var (a10, a11, a12, a13) = (a00, a01, a02, a03);
        int p = 0;
        for (; p + Vector256<float>.Count <= d; p += Vector256<float>.Count)
        {
            var (u, v) = (Vector256.Load(x0 + p), Vector256.Load(x1 + p));
            var w = Vector256.Load(r0 + p);
            a00 = Vector256.FusedMultiplyAdd(u, w, a00); a10 = Vector256.FusedMultiplyAdd(v, w, a10);
            w = Vector256.Load(r1 + p);
            a01 = Vector256.FusedMultiplyAdd(u, w, a01); a11 = Vector256.FusedMultiplyAdd(v, w, a11);
            w = Vector256.Load(r2 + p);
            a02 = Vector256.FusedMultiplyAdd(u, w, a02); a12 = Vector256.FusedMultiplyAdd(v, w, a12);
            w = Vector256.Load(r3 + p);
            a03 = Vector256.FusedMultiplyAdd(u, w, a03); a13 = Vector256.FusedMultiplyAdd(v, w, a13);
        }
        Span<float> sums = [Vector256.Sum(a00), Vector256.Sum(a01), Vector256.Sum(a02), Vector256.Sum(a03),
            Vector256.Sum(a10), Vector256.Sum(a11), Vector256.Sum(a12), Vector256.Sum(a13)];
        for (; p < d; p++)
        {
            float u = x0[p], v = x1[p];
            sums[0] += u * r0[p]; sums[1] += u * r1[p]; sums[2] += u * r2[p]; sums[3] += u * r3[p];
            sums[4] += v * r0[p]; sums[5] += v * r1[p]; sums[6] += v * r2[p]; sums[7] += v * r3[p];
        }
        for (int row = 0; row < Math.Min(DotRows, m - i); row++)
            for (int c = 0; c < Math.Min(DotColumns, rank - j); c++)
            {
                float* target = output + (long)(i + row) * rank + j + c;
                *target = alpha * sums[row * DotColumns + c] + (accumulate ? *target : 0f);
            }
    }

    /// <summary>
    /// out[j, q] = α·Σ_i Y[i, j]·X[i, q] (+ out): the r columns of Y [m, r] against X [m, w], summed over
    /// the m rows; out is [r, w], or [w, r] when <paramref name="transposedOutput"/>; all row-major. Tasks
    /// own column ranges and sum into their own [r, range] buffer; each walks X in chunks of
    /// <see cref="OuterRows"/> rows (L1-sized, so each row's stretch is read in order across the tiles), a
    /// register tile of 16 columns × 4 ranks summing the chunk's rows. Tiles running down all m rows
    /// of one 16-column strip read X a line per row, a new page each time: 11–21 GFLOP/s.
    /// </summary>
    public static unsafe void SumOuter(HostSpan<float> y, HostSpan<float> x, HostSpan<float> output, int m, int rank, int w, float alpha,
        bool accumulate, bool transposedOutput)
    {
        int tiles = (w + OuterWidth - 1) / OuterWidth;
        bool parallel = (long)m * rank * w > 1 << 19;
        int tasks = parallel ? Math.Min(tiles, Math.Max(2 * Environment.ProcessorCount, (w + 511) / 512)) : 1;
        void Task(int task)
        {
            float* yp = (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref y[0]);
            float* xp = (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref x[0]);
            int t0 = task * tiles / tasks, t1 = (task + 1) * tiles / tasks, q0 = t0 * OuterWidth, width = (t1 - t0) * OuterWidth;
            var sums = Simd.Scratch(0, rank * width);
            Array.Clear(sums, 0, rank * width);
            float* edge = stackalloc float[OuterRows * OuterWidth];
            fixed (float* sp = sums)
            {
                for (int i = 0; i < m; i += OuterRows)
                    for (int q = q0; q < q0 + width; q += OuterWidth)
                    {
                        int rows = Math.Min(OuterRows, m - i), cols = Math.Min(OuterWidth, w - q);
                        // The right edge's rows are copied out, zero-padded, so the tile's loads stay inside X.
                        var (tileX, stride) = ((nint)(xp + (long)i * w + q), (long)w);
                        if (cols < OuterWidth)
                        {
                            new Span<float>(edge, OuterRows * OuterWidth).Clear();
                            for (int r = 0; r < rows; r++) new ReadOnlySpan<float>(xp + (long)(i + r) * w + q, cols).CopyTo(new Span<float>(edge + r * OuterWidth, cols));
                            (tileX, stride) = ((nint)edge, OuterWidth);
                        }
                        for (int j = 0; j < rank; j += OuterRanks)
                            OuterTile((float*)tileX, stride, yp + (long)i * rank, rows, rank, j, sp + (long)j * width + q - q0, width);
                    }
                for (int j = 0; j < rank; j++)
                    for (int q = q0; q < Math.Min(w, q0 + width); q++)
                    {
                        ref float target = ref output[transposedOutput ? (long)q * rank + j : (long)j * w + q];
                        target = alpha * sp[(long)j * width + q - q0] + (accumulate ? target : 0f);
                    }
            }
        }
        if (parallel) CoreTeam.For(tasks, Task);
        else Task(0);
    }

    /// <summary>
    /// <paramref name="rows"/> rows of a 16-column block of X (row stride <paramref name="xStride"/>) × ranks
    /// j..j+3 of the same rows of Y, summed in eight vector accumulators and added to <paramref name="sums"/>
    /// (rank rows <paramref name="stride"/> apart). No calls in the loop: across one, the accumulators
    /// went to the stack every row.
    /// </summary>
    private static unsafe void OuterTile(float* x, long xStride, float* y, int rows, int rank, int j, float* sums, int stride)
    {
        int ranks = Math.Min(OuterRanks, rank - j);
        float* y0 = y + j, y1 = y + j + Math.Min(1, ranks - 1), y2 = y + j + Math.Min(2, ranks - 1), y3 = y + j + Math.Min(3, ranks - 1);
        Vector256<float> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
        for (int i = 0; i < rows; i++, x += xStride)
        {
            var lo = Vector256.Load(x);
            var hi = Vector256.Load(x + Vector256<float>.Count);
            long at = (long)i * rank;
            var s = Vector256.Create(y0[at]);
            a0 = Vector256.FusedMultiplyAdd(s, lo, a0); b0 = Vector256.FusedMultiplyAdd(s, hi, b0);
            s = Vector256.Create(y1[at]);
            a1 = Vector256.FusedMultiplyAdd(s, lo, a1); b1 = Vector256.FusedMultiplyAdd(s, hi, b1);
            s = Vector256.Create(y2[at]);
            a2 = Vector256.FusedMultiplyAdd(s, lo, a2); b2 = Vector256.FusedMultiplyAdd(s, hi, b2);
            s = Vector256.Create(y3[at]);
            a3 = Vector256.FusedMultiplyAdd(s, lo, a3); b3 = Vector256.FusedMultiplyAdd(s, hi, b3);
        }
        // Ranks past the edge repeat the last one; they are not added.
        (a0 + Vector256.Load(sums)).Store(sums);
        (b0 + Vector256.Load(sums + 8)).Store(sums + 8);
        if (ranks > 1) { (a1 + Vector256.Load(sums + stride)).Store(sums + stride); (b1 + Vector256.Load(sums + stride + 8)).Store(sums + stride + 8); }
        if (ranks > 2) { (a2 + Vector256.Load(sums + 2 * stride)).Store(sums + 2 * stride); (b2 + Vector256.Load(sums + 2 * stride + 8)).Store(sums + 2 * stride + 8); }
        if (ranks > 3) { (a3 + Vector256.Load(sums + 3 * stride)).Store(sums + 3 * stride); (b3 + Vector256.Load(sums + 3 * stride + 8)).Store(sums + 3 * stride + 8); }
    }
}

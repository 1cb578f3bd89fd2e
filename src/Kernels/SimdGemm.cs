using System.Runtime.Intrinsics;

namespace LeadEngine.Kernels;

/// <summary>A strided host matrix operand: element (i, j) at <c>Offset + i·RowStride + j·ColumnStride</c>.</summary>
internal readonly record struct Strided<T>(HostSpan<T> Data, long Offset, long RowStride, long ColumnStride) where T : unmanaged
{
    /// <summary>Row-major [rows, columns] from <paramref name="offset"/>.</summary>
    public static Strided<T> RowMajor(HostSpan<T> data, long columns, long offset = 0) => new(data, offset, columns, 1);

    /// <summary>The transpose of a row-major [rows, columns] matrix.</summary>
    public static Strided<T> Transposed(HostSpan<T> data, long columns, long offset = 0) => new(data, offset, 1, columns);
}

/// <summary>
/// The SIMD CPU backend's matrix product, <c>C[M,N] = α·A[M,K]·B[K,N] (+ C)</c>, behind every SIMD
/// matmul and LoRA launcher. A is fp32, B is stored weights widened while packing, both strided so
/// that transposes cost nothing. Blocked the way BLAS is: B is packed once per (column block, K block)
/// into a contiguous fp32 panel, and a 6×16 register tile (12 Vector256 accumulators, one broadcast
/// of A and two panel loads per K step) does the arithmetic. Tasks own column blocks, and row chunks
/// too when there are fewer column blocks than cores.
/// </summary>
internal static class SimdGemm
{
    private const int TileRows = 6, TileColumns = 16, BlockColumns = 64, BlockDepth = 256;

    /// <summary>C (+)= α·A·B over M×N outputs with inner dimension K.</summary>
    public static void Multiply<TW>(Strided<float> a, Strided<TW> b, HostSpan<float> c, long cOffset, int ldc,
        int m, int n, int k, float alpha, bool accumulate)
        where TW : unmanaged, IWeight
    {
        if (m == 0 || n == 0) return;
        int columnBlocks = (n + BlockColumns - 1) / BlockColumns;
        int rowChunks = Math.Clamp((4 * Environment.ProcessorCount + columnBlocks - 1) / columnBlocks, 1, (m + TileRows - 1) / TileRows);
        int chunkRows = ((m + rowChunks - 1) / rowChunks + TileRows - 1) / TileRows * TileRows;
        rowChunks = (m + chunkRows - 1) / chunkRows;
        Parallel.For(0, columnBlocks * rowChunks, task =>
        {
            int j0 = task / rowChunks * BlockColumns, i0 = task % rowChunks * chunkRows;
            int cols = Math.Min(BlockColumns, n - j0), rows = Math.Min(chunkRows, m - i0);
            var panel = new float[BlockDepth * BlockColumns];
            var column = new float[BlockDepth];
            if (k == 0 && !accumulate)
            {
                for (int i = 0; i < rows; i++) c.Slice(cOffset + (long)(i0 + i) * ldc + j0, cols).Clear();
                return;
            }
            for (int p0 = 0; p0 < k; p0 += BlockDepth)
            {
                int depth = Math.Min(BlockDepth, k - p0);
                Pack(b, p0, j0, depth, cols, panel, column);
                bool add = accumulate || p0 > 0;
                for (int i = 0; i < rows; i += TileRows)
                    for (int j = 0; j < cols; j += TileColumns)
                        Tile(a, i0 + i, p0, Math.Min(TileRows, rows - i), depth, panel, j, Math.Min(TileColumns, cols - j),
                            c, cOffset + (long)(i0 + i) * ldc + j0 + j, ldc, alpha, add);
            }
        });
    }

    /// <summary>Widens B[p0.., j0..] into panel[p, j] (row length <see cref="BlockColumns"/>), zero past <paramref name="cols"/>.</summary>
    private static void Pack<TW>(Strided<TW> b, int p0, int j0, int depth, int cols, float[] panel, float[] column)
        where TW : unmanaged, IWeight
    {
        if (cols < BlockColumns) Array.Clear(panel);
        if (b.ColumnStride == 1)
        {
            for (int p = 0; p < depth; p++)
                WeightRows.Widen(b.Data, b.Offset + (p0 + p) * b.RowStride + j0, panel.AsSpan(p * BlockColumns, cols));
        }
        else if (b.RowStride == 1)
        {
            for (int j = 0; j < cols; j++)
            {
                WeightRows.Widen(b.Data, b.Offset + (j0 + j) * b.ColumnStride + p0, column.AsSpan(0, depth));
                for (int p = 0; p < depth; p++) panel[p * BlockColumns + j] = column[p];
            }
        }
        else
        {
            for (int p = 0; p < depth; p++)
                for (int j = 0; j < cols; j++)
                    panel[p * BlockColumns + j] = b.Data[b.Offset + (p0 + p) * b.RowStride + (j0 + j) * b.ColumnStride].ToFloat();
        }
    }

    /// <summary>
    /// One register tile: C[rows ≤ 6, cols ≤ 16] (+)= α·A[i.., p0..p0+depth]·panel[.., j..]. Rows past
    /// <paramref name="rows"/> read A's last valid row and are not stored.
    /// </summary>
    private static unsafe void Tile(Strided<float> a, int i, int p0, int rows, int depth, float[] panel, int j, int cols,
        HostSpan<float> c, long cStart, int ldc, float alpha, bool add)
    {
        var (s0, s1, s2, s3, s4, s5) = (Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero);
        var (t0, t1, t2, t3, t4, t5) = (s0, s1, s2, s3, s4, s5);
        long cs = a.ColumnStride;
        ref float origin = ref a.Data[a.Offset + (long)i * a.RowStride + p0 * cs];
        fixed (float* a0 = &origin, b = panel)
        {
            long rs = a.RowStride;
            float* a1 = a0 + Math.Min(1, rows - 1) * rs, a2 = a0 + Math.Min(2, rows - 1) * rs, a3 = a0 + Math.Min(3, rows - 1) * rs;
            float* a4 = a0 + Math.Min(4, rows - 1) * rs, a5 = a0 + Math.Min(5, rows - 1) * rs;
            float* bp = b + j;
            for (long p = 0, q = 0; p < depth; p++, q += cs, bp += BlockColumns)
            {
                var lo = Vector256.Load(bp);
                var hi = Vector256.Load(bp + 8);
                var x = Vector256.Create(a0[q]);
                s0 = Vector256.FusedMultiplyAdd(x, lo, s0); t0 = Vector256.FusedMultiplyAdd(x, hi, t0);
                x = Vector256.Create(a1[q]);
                s1 = Vector256.FusedMultiplyAdd(x, lo, s1); t1 = Vector256.FusedMultiplyAdd(x, hi, t1);
                x = Vector256.Create(a2[q]);
                s2 = Vector256.FusedMultiplyAdd(x, lo, s2); t2 = Vector256.FusedMultiplyAdd(x, hi, t2);
                x = Vector256.Create(a3[q]);
                s3 = Vector256.FusedMultiplyAdd(x, lo, s3); t3 = Vector256.FusedMultiplyAdd(x, hi, t3);
                x = Vector256.Create(a4[q]);
                s4 = Vector256.FusedMultiplyAdd(x, lo, s4); t4 = Vector256.FusedMultiplyAdd(x, hi, t4);
                x = Vector256.Create(a5[q]);
                s5 = Vector256.FusedMultiplyAdd(x, lo, s5); t5 = Vector256.FusedMultiplyAdd(x, hi, t5);
            }
        }
        var scale = Vector256.Create(alpha);
        Span<Vector256<float>> tile = [s0 * scale, t0 * scale, s1 * scale, t1 * scale, s2 * scale, t2 * scale, s3 * scale, t3 * scale, s4 * scale, t4 * scale, s5 * scale, t5 * scale];
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<Vector256<float>, float>(tile);
        for (int r = 0; r < rows; r++)
        {
            var target = c.Slice(cStart + (long)r * ldc, cols);
            var source = values.Slice(r * TileColumns, cols);
            if (add) System.Numerics.Tensors.TensorPrimitives.Add(target, source, target);
            else source.CopyTo(target);
        }
    }
}

using System.Runtime.CompilerServices;
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

/// <summary>A second product E[M, Depth]·F[Depth, N]·Scale summed into a <see cref="SimdGemm"/> output (in the same registers when Depth ≤ 256).</summary>
internal readonly record struct ExtraProduct(Strided<float> A, Strided<F32> B, int Depth, float Scale);

/// <summary>
/// B[Depth, Columns] packed once by <see cref="SimdGemm.PackAll{TW}"/> into <see cref="Data"/> from
/// <see cref="Offset"/>. A product may read any leading part of it (k ≤ Depth, n ≤ Columns): attention
/// packs a sequence's keys and values once and multiplies by growing prefixes of them.
/// </summary>
internal sealed record PackedPanels(float[] Data, int Offset, int Depth, int Columns);

/// <summary>
/// The SIMD CPU backend's fp32 matrix product, <c>C[M,N] = α·A[M,K]·B[K,N] (+ C)</c>, behind every fp32
/// projection and attention product (bf16 and int8 frozen projections go through <see cref="ReducedGemm"/>, the
/// rank-wide LoRA products through <see cref="SimdRankProducts"/>). A is fp32, B is stored weights widened while packing, both strided so
/// that transposes cost nothing. Blocked the way BLAS is: B is packed once per (column block, K block)
/// into a contiguous fp32 panel, and a register tile of 6 rows × two vectors (6×32 with 512-bit vectors,
/// 6×16 with 256-bit ones; 12 accumulators, one broadcast of A and two panel loads per K step) does
/// the arithmetic. Tasks own column blocks, and row chunks
/// too when there are fewer column blocks than cores.
/// </summary>
internal static class SimdGemm
{
    // The panel's strip width is the register tile's: two vectors, 512-bit where the CPU has them.
    private static readonly int StripColumns = 2 * (Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256<float>.Count);
    private const int TileRows = 6, BlockColumns = 64, BlockDepth = 256;
    /// <summary>Rows whose slices of A and C stay in L2 while they run through all of K (packed weights).</summary>
    internal const int RowBlock = 32 * TileRows;

    // Packing buffers per thread: tasks never nest, so one set per thread suffices.
    [ThreadStatic] private static float[]? t_panel, t_column, t_extraPanel;

    /// <summary>
    /// C (+)= α·A·B over M×N outputs with inner dimension K, C row-major from <paramref name="cOffset"/>
    /// with row length <paramref name="ldc"/>. <paramref name="parallel"/> false keeps it on the calling
    /// thread (for callers that already run one product per core). <paramref name="packed"/> is B already
    /// packed by <see cref="PackAll{TW}"/> (frozen weights, attention's keys and values; then
    /// <paramref name="b"/> is not read), or null to pack per call. <paramref name="extra"/>
    /// adds a second, shallow product into the same output registers (a LoRA up-projection).
    /// </summary>
    public static void Multiply<TW>(Strided<float> a, Strided<TW> b, HostSpan<float> c, long cOffset, int ldc,
        int m, int n, int k, float alpha, bool accumulate, bool parallel = true, PackedPanels? packed = null, ExtraProduct? extra = null)
        where TW : unmanaged, IWeight
    {
        if (m == 0 || n == 0) return;
        if (packed is { } p && (k > p.Depth || n > p.Columns))
            throw new ArgumentException($"a {k}×{n} product reads past B packed as {p.Depth}×{p.Columns}");
        if (extra is { Depth: > BlockDepth } deep)
        {
            // Deeper than one panel (a LoRA rank over 256): the second product runs on its own.
            Multiply(a, b, c, cOffset, ldc, m, n, k, alpha, accumulate, parallel, packed);
            Multiply(deep.A, deep.B, c, cOffset, ldc, m, n, deep.Depth, deep.Scale, accumulate: true, parallel);
            return;
        }
        // Products under ~1 MFLOP run on one core (measured: a lower bar did not speed up the tiny model).
        parallel &= (double)m * n * k > 1 << 19;
        int columnBlocks = (n + BlockColumns - 1) / BlockColumns;
        var (rowChunks, chunkTiles) = RowChunks(columnBlocks, (m + TileRows - 1) / TileRows, parallel);
        int chunkRows = chunkTiles * TileRows;
        int depthBlocks = (k + BlockDepth - 1) / BlockDepth, cores = Environment.ProcessorCount;
        if (parallel && packed is null && extra is null && columnBlocks * rowChunks < 4 * cores && depthBlocks >= 4 * cores && (long)m * n <= 1 << 16)
        {
            SplitDepth(a, b, c, cOffset, ldc, m, n, k, alpha, accumulate, Math.Min(depthBlocks, 4 * cores));
            return;
        }
        if (parallel) CoreTeam.For(columnBlocks * rowChunks, Task);
        else for (int task = 0; task < columnBlocks * rowChunks; task++) Task(task);

        void Task(int task)
        {
            int j0 = task / rowChunks * BlockColumns, i0 = task % rowChunks * chunkRows;
            int cols = Math.Min(BlockColumns, n - j0), rows = Math.Min(chunkRows, m - i0);
            var panel = t_panel ??= new float[BlockDepth * BlockColumns];
            var column = t_column ??= new float[Math.Max(BlockDepth, BlockColumns)];
            float[]? extraPanel = null;
            if (extra is { } e)
            {
                extraPanel = t_extraPanel ??= new float[BlockDepth * BlockColumns];
                Pack(e.B, 0, j0, e.Depth, cols, extraPanel, 0, BlockDepth, column);
                if (e.Scale != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(extraPanel, e.Scale / alpha, extraPanel);
            }
            if (k == 0 && !accumulate)
            {
                for (int i = 0; i < rows; i++) c.Slice(cOffset + (long)(i0 + i) * ldc + j0, cols).Clear();
                return;
            }
            // Packed panels cost nothing to revisit, so then each L2-sized row block (192 rows) runs through
            // all of K while its slice of C stays in L2; panels packed here are packed once per K block
            // and serve all rows. Within a row block: column strip outer, rows inner, so the strip's
            // 16–32 KB of panel stays in L1/L2 while the rows of A stream by.
            int outerRows = packed is null ? rows : RowBlock;
            for (int ob = 0; ob < rows; ob += outerRows)
                for (int p0 = 0; p0 < k; p0 += BlockDepth)
                {
                    int depth = Math.Min(BlockDepth, k - p0);
                    var (source, at, panelDepth) = (panel, 0, BlockDepth);
                    if (packed is { } pk)
                        (source, at, panelDepth) = (pk.Data, pk.Offset + PanelIndex(j0 / BlockColumns, p0 / BlockDepth, pk.Depth), PanelDepth(pk.Depth));
                    else
                        Pack(b, p0, j0, depth, cols, panel, 0, BlockDepth, column);
                    bool add = accumulate || p0 > 0, last = p0 + BlockDepth >= k;
                    for (int ib = ob; ib < Math.Min(rows, ob + outerRows); ib += RowBlock)
                        for (int j = 0; j < cols; j += StripColumns)
                        {
                            int stripRows = Math.Min(RowBlock, Math.Min(rows, ob + outerRows) - ib), stripColumns = Math.Min(StripColumns, cols - j);
                            long cStart = cOffset + (long)(i0 + ib) * ldc + j0 + j;
                            var (extraA, extraDepth) = last && extra is { } x ? (x.A, x.Depth) : (default, 0);
                            if (Vector512.IsHardwareAccelerated)
                                Strip<Lanes512, Vector512<float>>(a, i0 + ib, stripRows, p0, depth, source, at + j / StripColumns * panelDepth * StripColumns, j, stripColumns, c, cStart, ldc, alpha, add, extraA, extraPanel, extraDepth);
                            else
                                Strip<Lanes256, Vector256<float>>(a, i0 + ib, stripRows, p0, depth, source, at + j / StripColumns * panelDepth * StripColumns, j, stripColumns, c, cStart, ldc, alpha, add, extraA, extraPanel, extraDepth);
                        }
                }
        }
    }

    /// <summary>
    /// How a product's rows split among tasks that each own a column block: enough row chunks for about four tasks per
    /// core (one when not <paramref name="parallel"/>), each a whole number of register tiles; <paramref name="tiles"/>
    /// is the rows' count in tiles. The bf16 product splits its rows the same way.
    /// </summary>
    internal static (int Chunks, int TilesPerChunk) RowChunks(int columnBlocks, int tiles, bool parallel = true)
    {
        int chunks = parallel ? Math.Clamp((4 * Environment.ProcessorCount + columnBlocks - 1) / columnBlocks, 1, tiles) : 1;
        int perChunk = (tiles + chunks - 1) / chunks;
        return ((tiles + perChunk - 1) / perChunk, perChunk);
    }

    /// <summary>
    /// Small outputs with a deep K (the LM head's input gradient: 16 rows × hidden over the vocabulary)
    /// have too few output blocks to keep the cores busy: split K instead, each task into its own
    /// partial output (in the calling thread's scratch slot 0), then sum the partials.
    /// </summary>
    private static void SplitDepth<TW>(Strided<float> a, Strided<TW> b, HostSpan<float> c, long cOffset, int ldc,
        int m, int n, int k, float alpha, bool accumulate, int splits)
        where TW : unmanaged, IWeight
    {
        int depthBlocks = (k + BlockDepth - 1) / BlockDepth;
        var partials = Simd.Scratch(0, splits * m * n);
        var partialSpan = HostSpan<float>.Pinned(partials);
        CoreTeam.For(splits, split =>
        {
            int p0 = split * depthBlocks / splits * BlockDepth, p1 = Math.Min(k, (split + 1) * depthBlocks / splits * BlockDepth);
            Multiply(a with { Offset = a.Offset + p0 * a.ColumnStride }, b with { Offset = b.Offset + p0 * b.RowStride },
                partialSpan, (long)split * m * n, n, m, n, p1 - p0, alpha, accumulate: false, parallel: false);
        });
        for (int i = 0; i < m; i++)
        {
            var target = c.Slice(cOffset + (long)i * ldc, n);
            if (!accumulate) target.Clear();
            for (int split = 0; split < splits; split++)
                System.Numerics.Tensors.TensorPrimitives.Add(target, partials.AsSpan((split * m + i) * n, n), target);
        }
    }

    /// <summary>
    /// Every panel of a K×N operand B, packed once: what <see cref="Multiply{TW}"/> takes as
    /// <c>packed</c>, so repeated products skip the widening and transposing. Packs into a new array, or
    /// into <paramref name="into"/> from <paramref name="offset"/> (<see cref="PackedLength"/> floats).
    /// </summary>
    public static PackedPanels PackAll<TW>(Strided<TW> b, int n, int k, float[]? into = null, int offset = 0, bool parallel = true)
        where TW : unmanaged, IWeight
    {
        int columnBlocks = (n + BlockColumns - 1) / BlockColumns, depthBlocks = (k + BlockDepth - 1) / BlockDepth;
        var packed = into ?? new float[PackedLength(n, k)];
        if (packed.Length - offset < PackedLength(n, k)) throw new ArgumentException($"{packed.Length - offset} floats cannot hold a {k}×{n} packed operand");
        if (parallel) CoreTeam.For(columnBlocks * depthBlocks, PackBlock);
        else for (int block = 0; block < columnBlocks * depthBlocks; block++) PackBlock(block);
        return new PackedPanels(packed, offset, k, n);

        void PackBlock(int block)
        {
            int cb = block / depthBlocks, kb = block % depthBlocks;
            int j0 = cb * BlockColumns, p0 = kb * BlockDepth;
            Pack(b, p0, j0, Math.Min(BlockDepth, k - p0), Math.Min(BlockColumns, n - j0), packed, offset + PanelIndex(cb, kb, k), PanelDepth(k),
                t_column ??= new float[Math.Max(BlockDepth, BlockColumns)]);
        }
    }

    /// <summary>Floats that <see cref="PackAll{TW}"/> writes for a K×N operand.</summary>
    public static int PackedLength(int n, int k) =>
        checked((n + BlockColumns - 1) / BlockColumns * ((k + BlockDepth - 1) / BlockDepth) * PanelDepth(k) * BlockColumns);

    // A packed operand shallower than one block (attention's head dim, a small model's hidden size) gets
    // panels of its own depth rather than BlockDepth rows, most of them unused.
    private static int PanelDepth(int k) => Math.Min(BlockDepth, k);

    private static int PanelIndex(int columnBlock, int depthBlock, int k) =>
        (columnBlock * ((k + BlockDepth - 1) / BlockDepth) + depthBlock) * PanelDepth(k) * BlockColumns;

    /// <summary>
    /// Widens B[p0.., j0..] into the panel at <paramref name="at"/> as strips of <see cref="StripColumns"/>
    /// columns (the register tile's width), each strip [<paramref name="panelDepth"/>, width] contiguous,
    /// of which the first <paramref name="depth"/> rows are written; zero past <paramref name="cols"/>.
    /// </summary>
    private static void Pack<TW>(Strided<TW> b, int p0, int j0, int depth, int cols, float[] panel, int at, int panelDepth, float[] scratch)
        where TW : unmanaged, IWeight
    {
        int stripSize = panelDepth * StripColumns;
        if (cols % StripColumns != 0) Array.Clear(panel, at + cols / StripColumns * stripSize, stripSize);
        if (b.ColumnStride == 1)
        {
            for (int p = 0; p < depth; p++)
            {
                WeightRows.Widen(b.Data, b.Offset + (p0 + p) * b.RowStride + j0, scratch.AsSpan(0, cols));
                for (int j = 0; j < cols; j += StripColumns)
                    scratch.AsSpan(j, Math.Min(StripColumns, cols - j)).CopyTo(panel.AsSpan(at + j / StripColumns * stripSize + p * StripColumns));
            }
        }
        else if (b.RowStride == 1)
        {
            for (int j = 0; j < cols; j++)
            {
                WeightRows.Widen(b.Data, b.Offset + (j0 + j) * b.ColumnStride + p0, scratch.AsSpan(0, depth));
                int column = at + j / StripColumns * stripSize + j % StripColumns;
                for (int p = 0; p < depth; p++) panel[column + p * StripColumns] = scratch[p];
            }
        }
        else
        {
            for (int p = 0; p < depth; p++)
                for (int j = 0; j < cols; j++)
                    panel[at + j / StripColumns * stripSize + p * StripColumns + j % StripColumns] = b.Data[b.Offset + (p0 + p) * b.RowStride + (j0 + j) * b.ColumnStride].ToFloat();
        }
    }

    /// <summary>
    /// One column strip of the output, six rows (one register tile) at a time:
    /// C[i.., j..][rowCount, cols ≤ strip width] (+)= α·(A[i.., p0..p0+depth]·panel[.., j..] + E[i..]·extraPanel[.., j..]),
    /// the strip of B starting at <paramref name="stripOffset"/> in <paramref name="panel"/>,
    /// the second product (depth <paramref name="extraDepth"/>, 0 for none) summed in the same registers.
    /// A whole strip per call keeps the call and setup cost off each tile, which matters at the shallow
    /// depths of attention (the head dim, 16–128). The tile is two vectors of <typeparamref name="L"/> per row.
    /// </summary>
    private static unsafe void Strip<L, V>(Strided<float> a, int i, int rowCount, int p0, int depth, float[] panel, int stripOffset, int j, int cols,
        HostSpan<float> c, long cStart, int ldc, float alpha, bool add, Strided<float> extra, float[]? extraPanel, int extraDepth)
        where L : struct, ILanes<V> where V : unmanaged
    {
        float* aStart = (float*)Unsafe.AsPointer(ref a.Data[a.Offset + (long)i * a.RowStride + p0 * a.ColumnStride]);
        float* eStart = extraDepth > 0 ? (float*)Unsafe.AsPointer(ref extra.Data[extra.Offset + (long)i * extra.RowStride]) : null;
        float* target = (float*)Unsafe.AsPointer(ref c[cStart]);
        float* edge = stackalloc float[TileRows * 2 * Vector512<float>.Count]; // the right edge's tile, row stride 2·L.Count
        fixed (float* mainB = panel, extraB = extraPanel ?? panel)
        {
            float* panelStrip = mainB + stripOffset;
            float* extraStrip = extraB + j / StripColumns * BlockDepth * StripColumns;
            for (int r = 0; r < rowCount; r += TileRows, target += TileRows * (long)ldc)
            {
                int rows = Math.Min(TileRows, rowCount - r);
                var (s0, s1, s2, s3, s4, s5) = (L.Zero, L.Zero, L.Zero, L.Zero, L.Zero, L.Zero);
                var (t0, t1, t2, t3, t4, t5) = (s0, s1, s2, s3, s4, s5);
                Accumulate<L, V>(aStart + r * a.RowStride, a.RowStride, a.ColumnStride, rows, panelStrip, depth,
                    ref s0, ref t0, ref s1, ref t1, ref s2, ref t2, ref s3, ref t3, ref s4, ref t4, ref s5, ref t5);
                if (extraDepth > 0)
                    Accumulate<L, V>(eStart + r * extra.RowStride, extra.RowStride, extra.ColumnStride, rows, extraStrip, extraDepth,
                        ref s0, ref t0, ref s1, ref t1, ref s2, ref t2, ref s3, ref t3, ref s4, ref t4, ref s5, ref t5);
                // Full-width tiles (all but the right edge) store straight from registers.
                bool full = cols == StripColumns;
                float* rowTarget = full ? target : edge;
                long stride = full ? ldc : StripColumns;
                bool addHere = add && full;
                StoreRow<L, V>(rowTarget, s0, t0, alpha, addHere);
                if (rows > 1) StoreRow<L, V>(rowTarget + stride, s1, t1, alpha, addHere);
                if (rows > 2) StoreRow<L, V>(rowTarget + 2 * stride, s2, t2, alpha, addHere);
                if (rows > 3) StoreRow<L, V>(rowTarget + 3 * stride, s3, t3, alpha, addHere);
                if (rows > 4) StoreRow<L, V>(rowTarget + 4 * stride, s4, t4, alpha, addHere);
                if (rows > 5) StoreRow<L, V>(rowTarget + 5 * stride, s5, t5, alpha, addHere);
                if (full) continue;
                for (int row = 0; row < rows; row++)
                {
                    var output = new Span<float>(target + (long)row * ldc, cols);
                    var source = new ReadOnlySpan<float>(edge + row * StripColumns, cols);
                    if (add) System.Numerics.Tensors.TensorPrimitives.Add(output, source, output);
                    else source.CopyTo(output);
                }
            }
        }
    }

    /// <summary>
    /// The register tile's inner loop: rows ≤ 6 of A (row stride <paramref name="rs"/>, column stride
    /// <paramref name="cs"/>) times a [depth, 2·L.Count] panel strip into the 12 accumulators. Rows past
    /// <paramref name="rows"/> read A's last valid row and are not stored. Two K steps per iteration: with
    /// one, the loop's own overhead held the tile to ~75% of FMA peak in L1; with two it reaches ~95%.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Accumulate<L, V>(float* a0, long rs, long cs, int rows, float* bp, int depth,
        ref V s0, ref V t0, ref V s1, ref V t1, ref V s2, ref V t2, ref V s3, ref V t3, ref V s4, ref V t4, ref V s5, ref V t5)
        where L : struct, ILanes<V> where V : unmanaged
    {
        float* a1 = a0 + Math.Min(1, rows - 1) * rs, a2 = a0 + Math.Min(2, rows - 1) * rs, a3 = a0 + Math.Min(3, rows - 1) * rs;
        float* a4 = a0 + Math.Min(4, rows - 1) * rs, a5 = a0 + Math.Min(5, rows - 1) * rs;
        int p = 0;
        long q = 0;
        for (; p + 1 < depth; p += 2, q += 2 * cs, bp += 4 * L.Count)
        {
            Step<L, V>(a0, a1, a2, a3, a4, a5, q, bp, ref s0, ref t0, ref s1, ref t1, ref s2, ref t2, ref s3, ref t3, ref s4, ref t4, ref s5, ref t5);
            Step<L, V>(a0, a1, a2, a3, a4, a5, q + cs, bp + 2 * L.Count, ref s0, ref t0, ref s1, ref t1, ref s2, ref t2, ref s3, ref t3, ref s4, ref t4, ref s5, ref t5);
        }
        if (p < depth) Step<L, V>(a0, a1, a2, a3, a4, a5, q, bp, ref s0, ref t0, ref s1, ref t1, ref s2, ref t2, ref s3, ref t3, ref s4, ref t4, ref s5, ref t5);
    }

    /// <summary>One K step: accumulator pair r += A[r, q]·(two vectors of panel values at <paramref name="bp"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Step<L, V>(float* a0, float* a1, float* a2, float* a3, float* a4, float* a5, long q, float* bp,
        ref V s0, ref V t0, ref V s1, ref V t1, ref V s2, ref V t2, ref V s3, ref V t3, ref V s4, ref V t4, ref V s5, ref V t5)
        where L : struct, ILanes<V> where V : unmanaged
    {
        var lo = L.Load(bp);
        var hi = L.Load(bp + L.Count);
        var x = L.Broadcast(a0[q]);
        s0 = L.FusedMultiplyAdd(x, lo, s0); t0 = L.FusedMultiplyAdd(x, hi, t0);
        x = L.Broadcast(a1[q]);
        s1 = L.FusedMultiplyAdd(x, lo, s1); t1 = L.FusedMultiplyAdd(x, hi, t1);
        x = L.Broadcast(a2[q]);
        s2 = L.FusedMultiplyAdd(x, lo, s2); t2 = L.FusedMultiplyAdd(x, hi, t2);
        x = L.Broadcast(a3[q]);
        s3 = L.FusedMultiplyAdd(x, lo, s3); t3 = L.FusedMultiplyAdd(x, hi, t3);
        x = L.Broadcast(a4[q]);
        s4 = L.FusedMultiplyAdd(x, lo, s4); t4 = L.FusedMultiplyAdd(x, hi, t4);
        x = L.Broadcast(a5[q]);
        s5 = L.FusedMultiplyAdd(x, lo, s5); t5 = L.FusedMultiplyAdd(x, hi, t5);
    }

    /// <summary>Stores (or adds) α·(lo, hi): one register-tile row of 2·Count values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow<L, V>(float* target, V lo, V hi, float alpha, bool add)
        where L : struct, ILanes<V> where V : unmanaged
    {
        var scale = L.Broadcast(alpha);
        (lo, hi) = (L.Multiply(lo, scale), L.Multiply(hi, scale));
        if (add) (lo, hi) = (L.Add(lo, L.Load(target)), L.Add(hi, L.Load(target + L.Count)));
        L.Store(lo, target);
        L.Store(hi, target + L.Count);
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace LeadEngine.Kernels;

/// <summary>
/// B[Depth, Columns] packed by <see cref="Bf16Gemm.PackAll{TW}"/>: bf16 pairs along the depth (the low half the even k),
/// half the bytes of fp32 panels. Panels of 64 columns × up to 128 pairs, each two strips of 32 columns,
/// a strip [pairs][32 columns] of 32-bit pairs: one pair step of a strip is two 512-bit vectors.
/// </summary>
internal sealed record PackedBf16Panels(uint[] Data, int Depth, int Columns)
{
    /// <summary>Pairs per panel: <see cref="Bf16Gemm.BlockPairs"/>, or all of a shallower operand.</summary>
    public int PanelPairs => Math.Min(Bf16Gemm.BlockPairs, (Depth + 1) / 2);

    /// <summary>Pair blocks along the depth.</summary>
    public int DepthBlocks => ((Depth + 1) / 2 + Bf16Gemm.BlockPairs - 1) / Bf16Gemm.BlockPairs;
}

/// <summary>
/// The SIMD backend's bf16 product for scoring (<see cref="Precision.Bf16"/>): <c>C[M,N] = A[M,K]·B[K,N]</c> with B's
/// bf16 panels packed once and A rounded to bf16 per call; products accumulate in fp32. The register tile is 6 rows × 32
/// columns (12 accumulators), one pair step of k per iteration: two panel loads and twelve <c>vdpbf16ps</c>, each 16 lanes
/// × 2 products, so twice the products per instruction of the fp32 tile's FMAs. .NET has no intrinsic for
/// <c>vdpbf16ps</c>, so the tile is assembled at run time (<see cref="ExecutableCode"/>); CPUs without AVX-512 BF16 run a
/// managed tile that widens the pairs and uses FMAs (same results up to summation order).
/// </summary>
internal static unsafe class Bf16Gemm
{
    /// <summary>Rows of the register tile.</summary>
    public const int TileRows = 6;
    /// <summary>Columns of the register tile and of a panel strip.</summary>
    public const int StripColumns = 32;
    /// <summary>Columns of a panel.</summary>
    public const int BlockColumns = 64;
    /// <summary>Pairs of k per panel (256 k, as the fp32 panels).</summary>
    public const int BlockPairs = 128;

    /// <summary>True when the CPU has AVX-512 BF16 (CPUID leaf 7, sub-leaf 1, EAX bit 5).</summary>
    public static bool HasInstruction { get; } = X86Base.IsSupported && Avx512F.IsSupported && (X86Base.CpuId(7, 1).Eax & (1 << 5)) != 0;

    // The tiles: (A row 0, A's row stride in bytes, panel strip, C row 0, C's row stride in bytes, pair steps);
    // one writes C = A·B, the other C += A·B.
    private static readonly delegate* unmanaged[Cdecl]<uint*, long, uint*, float*, long, long, void> s_store = AssembleTile(accumulate: false);
    private static readonly delegate* unmanaged[Cdecl]<uint*, long, uint*, float*, long, long, void> s_add = AssembleTile(accumulate: true);

    /// <summary>True when products run on the assembled <c>vdpbf16ps</c> tile (<c>LEADENGINE_BF16_MANAGED=1</c> forces the managed one).</summary>
    public static bool UsesInstruction => s_store != null && s_add != null;

    // One pair buffer per calling thread: A rounded to bf16 pairs.
    [ThreadStatic] private static uint[]? t_pairs;
    [ThreadStatic] private static float[]? t_column;

    /// <summary>
    /// The tile in machine code. System V arguments: rdi = A row 0, rsi = A's row stride, rdx = the panel strip, rcx = C
    /// row 0, r8 = C's row stride (both in bytes), r9 = pair steps. Accumulators: row r in zmm 2r (columns 0..15) and
    /// 2r + 1 (16..31). Rows 3..5 of A are addressed from r11 = rdi + 3·rsi, of C from r10 = rcx + 3·r8.
    /// </summary>
    private static delegate* unmanaged[Cdecl]<uint*, long, uint*, float*, long, long, void> AssembleTile(bool accumulate)
    {
        if (!HasInstruction || Environment.GetEnvironmentVariable("LEADENGINE_BF16_MANAGED") == "1") return null;
        var c = new Assembler(64);
        AssemblerRegisterZMM[] acc = [zmm0, zmm1, zmm2, zmm3, zmm4, zmm5, zmm6, zmm7, zmm8, zmm9, zmm10, zmm11];
        c.lea(r11, __[rdi + rsi * 2]);
        c.add(r11, rsi);
        c.lea(r10, __[rcx + r8 * 2]);
        c.add(r10, r8);
        // Row r of C, from byte offset `bytes` on.
        static AssemblerMemoryOperand OutputRow(int r, int bytes) => r switch
        {
            0 => __zmmword_ptr[rcx + bytes],
            1 => __zmmword_ptr[rcx + r8 + bytes],
            2 => __zmmword_ptr[rcx + r8 * 2 + bytes],
            3 => __zmmword_ptr[r10 + bytes],
            4 => __zmmword_ptr[r10 + r8 + bytes],
            _ => __zmmword_ptr[r10 + r8 * 2 + bytes],
        };
        for (int r = 0; r < TileRows; r++)
        {
            if (accumulate)
            {
                c.vmovups(acc[2 * r], OutputRow(r, 0));
                c.vmovups(acc[2 * r + 1], OutputRow(r, 64));
            }
            else
            {
                c.vxorps(acc[2 * r], acc[2 * r], acc[2 * r]);
                c.vxorps(acc[2 * r + 1], acc[2 * r + 1], acc[2 * r + 1]);
            }
        }
        var loop = c.CreateLabel();
        var done = c.CreateLabel();
        c.test(r9, r9);
        c.jz(done);
        c.Label(ref loop);
        c.vmovups(zmm12, __zmmword_ptr[rdx]);
        c.vmovups(zmm13, __zmmword_ptr[rdx + 64]);
        AssemblerMemoryOperand[] rows = [__dword_bcst[rdi], __dword_bcst[rdi + rsi], __dword_bcst[rdi + rsi * 2],
            __dword_bcst[r11], __dword_bcst[r11 + rsi], __dword_bcst[r11 + rsi * 2]];
        for (int r = 0; r < TileRows; r++)
        {
            c.vdpbf16ps(acc[2 * r], zmm12, rows[r]);
            c.vdpbf16ps(acc[2 * r + 1], zmm13, rows[r]);
        }
        c.add(rdi, 4);
        c.add(r11, 4);
        c.add(rdx, 4 * StripColumns);
        c.dec(r9);
        c.jnz(loop);
        c.Label(ref done);
        for (int r = 0; r < TileRows; r++)
        {
            c.vmovups(OutputRow(r, 0), acc[2 * r]);
            c.vmovups(OutputRow(r, 64), acc[2 * r + 1]);
        }
        c.vzeroupper();
        c.ret();
        return ExecutableCode.Create(c) is { } code ? (delegate* unmanaged[Cdecl]<uint*, long, uint*, float*, long, long, void>)code : null;
    }

    /// <summary>The managed tile, for CPUs without AVX-512 BF16: the same arguments, pairs widened to fp32 (a 16-bit shift).</summary>
    private static void ManagedTile(uint* a, long aStrideBytes, uint* strip, float* c, long cStrideBytes, long pairs, bool accumulate)
    {
        long stride = aStrideBytes / sizeof(uint), ldc = cStrideBytes / sizeof(float);
        var high = Vector256.Create(0xFFFF0000u);
        for (int r = 0; r < TileRows; r++)
        {
            uint* row = a + r * stride;
            for (int v = 0; v < StripColumns; v += Vector256<float>.Count)
            {
                float* target = c + r * ldc + v;
                var sum = accumulate ? Vector256.Load(target) : Vector256<float>.Zero;
                for (long p = 0; p < pairs; p++)
                {
                    var b = Vector256.Load(strip + p * StripColumns + v);
                    sum = Vector256.FusedMultiplyAdd(Vector256.Create(Widen(row[p] << 16)), (b << 16).AsSingle(), sum);
                    sum = Vector256.FusedMultiplyAdd(Vector256.Create(Widen(row[p] & 0xFFFF0000u)), (b & high).AsSingle(), sum);
                }
                sum.Store(target);
            }
        }

        static float Widen(uint bits) => BitConverter.UInt32BitsToSingle(bits);
    }

    /// <summary>
    /// A row of fp32 as bf16 pairs (rounded to nearest, ties to even; quiet NaNs stay NaN), 32 values a step: rounded
    /// values keep their top halves, which narrowing the 32-bit lanes to 16 bits gathers in order.
    /// </summary>
    private static void ToPairs(ReadOnlySpan<float> row, Span<uint> pairs)
    {
        var bits = MemoryMarshal.Cast<float, uint>(row);
        var halves = MemoryMarshal.Cast<uint, ushort>(pairs);
        int i = 0;
        for (; i + 2 * Vector512<uint>.Count <= bits.Length; i += 2 * Vector512<uint>.Count)
            Vector512.Narrow(Round(Vector512.Create(bits.Slice(i))), Round(Vector512.Create(bits.Slice(i + Vector512<uint>.Count)))).CopyTo(halves.Slice(i));
        for (; i < bits.Length; i++) halves[i] = Bf16.FromFloat(row[i]).Bits;
        if (bits.Length % 2 == 1) halves[bits.Length] = 0;

        static Vector512<uint> Round(Vector512<uint> b) => (b + Vector512.Create(0x7FFFu) + ((b >> 16) & Vector512<uint>.One)) >> 16;
    }

    /// <summary>Packs every panel of a K×N operand B (stored weights, rounded to bf16) for <see cref="Multiply"/>.</summary>
    public static PackedBf16Panels PackAll<TW>(Strided<TW> b, int n, int k) where TW : unmanaged, IWeight
    {
        int columnBlocks = (n + BlockColumns - 1) / BlockColumns;
        var layout = new PackedBf16Panels([], k, n);
        int panelPairs = layout.PanelPairs, depthBlocks = layout.DepthBlocks;
        var data = GC.AllocateArray<uint>(checked(columnBlocks * depthBlocks * panelPairs * BlockColumns), pinned: true);
        CoreTeam.For(columnBlocks * depthBlocks, block =>
        {
            int cb = block / depthBlocks, db = block % depthBlocks;
            int j0 = cb * BlockColumns, k0 = db * 2 * BlockPairs, depth = Math.Min(2 * BlockPairs, k - k0);
            int at = block * panelPairs * BlockColumns;
            var column = t_column ??= new float[2 * BlockPairs + 1];
            for (int j = 0; j < Math.Min(BlockColumns, n - j0); j++)
            {
                if (b.RowStride == 1) WeightRows.Widen(b.Data, b.Offset + (j0 + j) * b.ColumnStride + k0, column.AsSpan(0, depth));
                else for (int p = 0; p < depth; p++) column[p] = b.Data[b.Offset + (k0 + p) * b.RowStride + (j0 + j) * b.ColumnStride].ToFloat();
                column[depth] = 0f; // an odd depth's last pair
                int strip = at + j / StripColumns * panelPairs * StripColumns + j % StripColumns;
                for (int p = 0; p < (depth + 1) / 2; p++) data[strip + p * StripColumns] = Bf16.Pair(column[2 * p], column[2 * p + 1]);
            }
        });
        return layout with { Data = data };
    }

    /// <summary>
    /// C[M,N] = A[M,K]·B with A row-major fp32 (rounded to bf16 pairs first, once per call) and B packed by
    /// <see cref="PackAll{TW}"/>; C row-major with rows of <paramref name="n"/>. Tasks own column blocks, and row chunks too
    /// when there are fewer blocks than cores; within a task each panel strip stays in L1 while the rows' tiles stream by.
    /// <paramref name="instruction"/> false runs the managed tile even where the assembled one exists (the tests compare them).
    /// </summary>
    public static void Multiply(HostSpan<float> a, PackedBf16Panels b, HostSpan<float> c, int m, int n, int k, bool instruction = true)
    {
        var store = instruction ? s_store : null;
        var add = instruction ? s_add : null;
        if (k > b.Depth || n > b.Columns) throw new ArgumentException($"a {k}×{n} product reads past B packed as {b.Depth}×{b.Columns}");
        if (m == 0 || n == 0) return;
        int pairs = (k + 1) / 2, paddedRows = (m + TileRows - 1) / TileRows * TileRows;
        var aPairs = t_pairs is { } held && held.Length >= paddedRows * pairs ? held : t_pairs = GC.AllocateArray<uint>(paddedRows * pairs, pinned: true);
        var pairSpan = HostSpan<uint>.Pinned(aPairs);
        CoreTeam.For(paddedRows / TileRows, tile =>
        {
            for (int i = tile * TileRows; i < tile * TileRows + TileRows; i++)
            {
                var target = pairSpan.Slice((long)i * pairs, pairs);
                if (i >= m) { target.Clear(); continue; }
                ToPairs(a.Slice((long)i * k, k), target);
            }
        });

        int columnBlocks = (n + BlockColumns - 1) / BlockColumns, tiles = paddedRows / TileRows;
        var (rowChunks, chunkTiles) = SimdGemm.RowChunks(columnBlocks, tiles);
        int panelPairs = b.PanelPairs, depthBlocks = b.DepthBlocks;
        float* output = (float*)Unsafe.AsPointer(ref c[0]);
        CoreTeam.For(columnBlocks * rowChunks, task =>
        {
            int cb = task / rowChunks, firstTile = task % rowChunks * chunkTiles, lastTile = Math.Min(tiles, firstTile + chunkTiles);
            int j0 = cb * BlockColumns, cols = Math.Min(BlockColumns, n - j0);
            float* edge = stackalloc float[TileRows * StripColumns]; // the edge tiles' output, row stride 32
            fixed (uint* panels = b.Data, aBase = aPairs)
            {
                for (int db = 0; db < depthBlocks; db++)
                {
                    int q0 = db * BlockPairs, steps = Math.Min(BlockPairs, pairs - q0);
                    bool accumulate = db > 0;
                    uint* panel = panels + (cb * depthBlocks + db) * panelPairs * BlockColumns;
                    for (int s = 0; s * StripColumns < cols; s++)
                    {
                        int j = j0 + s * StripColumns, width = Math.Min(StripColumns, cols - s * StripColumns);
                        uint* strip = panel + s * panelPairs * StripColumns;
                        for (int t = firstTile; t < lastTile; t++)
                        {
                            uint* rows = aBase + (long)t * TileRows * pairs + q0;
                            int i = t * TileRows, height = Math.Min(TileRows, m - i);
                            if (height == TileRows && width == StripColumns)
                            {
                                Tile(rows, strip, output + (long)i * n + j, (long)n * sizeof(float), steps, accumulate);
                                continue;
                            }
                            // A ragged edge: through a full-size buffer, then its valid part.
                            for (int r = 0; r < TileRows; r++)
                            {
                                var buffered = new Span<float>(edge + r * StripColumns, StripColumns);
                                buffered.Clear();
                                if (accumulate && r < height) new ReadOnlySpan<float>(output + (long)(i + r) * n + j, width).CopyTo(buffered);
                            }
                            Tile(rows, strip, edge, StripColumns * sizeof(float), steps, accumulate: true);
                            for (int r = 0; r < height; r++)
                                new ReadOnlySpan<float>(edge + r * StripColumns, width).CopyTo(new Span<float>(output + (long)(i + r) * n + j, width));
                        }
                    }
                }
            }

            void Tile(uint* rows, uint* strip, float* target, long ldc, int steps, bool accumulate)
            {
                var code = accumulate ? add : store;
                if (code != null) code(rows, (long)pairs * sizeof(uint), strip, target, ldc, steps);
                else ManagedTile(rows, (long)pairs * sizeof(uint), strip, target, ldc, steps, accumulate);
            }
        });
    }
}

using Iced.Intel;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Iced.Intel.AssemblerRegisters;

namespace LeadEngine.Kernels;

/// <summary>
/// B[Depth, Columns] packed by <see cref="ReducedGemm.PackAll{TW}"/> in 32-bit words along the depth: two bf16 (the low
/// half the even k) or four int8 (the lowest byte the first k). Panels of 64 columns × up to 128 words, each two strips
/// of 32 columns, a strip [words][32 columns]: one word step of a strip is two 512-bit vectors. Int8 words hold
/// <c>q + 128</c> (unsigned, as <c>vpdpbusd</c> takes its vector operand) with <c>w ≈ q·scale</c>, one scale per output column
/// and depth block, <c>ColumnScales[block·ScaleStride + j]</c> (padded with zeros to whole panels); bf16 has no scales.
/// </summary>
internal sealed record PackedReducedPanels(uint[] Data, int Depth, int Columns, Precision Precision, float[] ColumnScales)
{
    /// <summary>Values of k per 32-bit word.</summary>
    public int KPerWord => ReducedGemm.KPerWord(Precision);

    /// <summary>Words along the depth.</summary>
    public int Words => (Depth + KPerWord - 1) / KPerWord;

    /// <summary>Words per panel: <see cref="ReducedGemm.BlockWords"/>, or all of a shallower operand.</summary>
    public int PanelWords => Math.Min(ReducedGemm.BlockWords, Words);

    /// <summary>Word blocks along the depth.</summary>
    public int DepthBlocks => (Words + ReducedGemm.BlockWords - 1) / ReducedGemm.BlockWords;

    /// <summary>Columns padded to whole panels: the stride of <see cref="ColumnScales"/> between depth blocks.</summary>
    public int ScaleStride => (Columns + ReducedGemm.BlockColumns - 1) / ReducedGemm.BlockColumns * ReducedGemm.BlockColumns;
}

/// <summary>
/// The SIMD backend's reduced-precision products for scoring: <c>C[M,N] = A[M,K]·B[K,N]</c> with B packed once and A
/// converted per call, in one of two formats that share the packing, tiling and edges and differ in the word:
/// <list type="bullet">
/// <item><see cref="Precision.Bf16"/>: A rounded to bf16 pairs, <c>vdpbf16ps</c> (AVX-512 BF16), fp32 sums.</item>
/// <item><see cref="Precision.Int8"/>: weights in int8 per output column and 512-deep block (scale max|w|/127), A quantized
/// to int8 per row and the same blocks (scale max|x|/127, rounded to nearest even), <c>vpdpbusd</c> (AVX-512 VNNI) summing four u8×s8
/// products per lane into exact int32. Since the weights are stored as <c>q + 128</c>, a block's sum carries
/// <c>z_i = 128·Σq_a</c> too: the tile's epilogue makes <c>C (+)= sw_j·sa_i·float(acc − z_i)</c>, subtracting in
/// integers, so the only rounding is fp32's and C is fp32 between blocks.</item>
/// </list>
/// The register tile is 6 rows × 32 columns (12 accumulators), one word step of k per iteration: two panel loads, six
/// broadcasts of A's words into registers and twelve dot-product instructions: 2 (bf16) or 4 (int8) times the products
/// per instruction of the fp32 tile's FMAs. (With A's words as embedded-broadcast memory operands instead, the int8 tile
/// ran at 65% of <c>vpdpbusd</c>'s peak on one core in L1 here, against 89% with <c>vpbroadcastd</c> into registers.) .NET has no intrinsic for either 512-bit instruction, so the tiles are assembled
/// at run time (<see cref="ExecutableCode"/>); CPUs without them run managed tiles with the same results (bf16: up to
/// summation order; int8: exactly, the sums being integers).
/// </summary>
internal static unsafe class ReducedGemm
{
    /// <summary>Rows of the register tile.</summary>
    public const int TileRows = 6;
    /// <summary>Columns of the register tile and of a panel strip.</summary>
    public const int StripColumns = 32;
    /// <summary>Columns of a panel.</summary>
    public const int BlockColumns = 64;
    /// <summary>Words of k per panel: 256 k in bf16 (as the fp32 panels), 512 in int8 (one activation scale each).</summary>
    public const int BlockWords = 128;
    /// <summary>Register tiles per row block: the fp32 product's <see cref="SimdGemm.RowBlock"/> rows.</summary>
    private const int RowBlockTiles = SimdGemm.RowBlock / TileRows;

    /// <summary>Values of k per 32-bit word in a format.</summary>
    public static int KPerWord(Precision precision) => precision switch
    {
        Precision.Bf16 => 2,
        Precision.Int8 => 4,
        _ => throw new ArgumentException($"{precision} is not a reduced format"),
    };

    private static readonly bool s_managedBf16 = Environment.GetEnvironmentVariable("LEADENGINE_BF16_MANAGED") == "1";
    private static readonly bool s_managedInt8 = Environment.GetEnvironmentVariable("LEADENGINE_INT8_MANAGED") == "1";

    /// <summary>True when the CPU has AVX-512 BF16 (CPUID leaf 7, sub-leaf 1, EAX bit 5).</summary>
    public static bool HasBf16Instruction { get; } = X86Base.IsSupported && Avx512F.IsSupported && (X86Base.CpuId(7, 1).Eax & (1 << 5)) != 0;

    /// <summary>True when the CPU has AVX-512 VNNI (CPUID leaf 7, sub-leaf 0, ECX bit 11).</summary>
    public static bool HasInt8Instruction { get; } = X86Base.IsSupported && Avx512F.IsSupported && (X86Base.CpuId(7, 0).Ecx & (1 << 11)) != 0;

    // The tiles: (A row 0, A's row stride in bytes, panel strip, C row 0, C's row stride in bytes, word steps, row
    // factors (scale and correction per row; int8), column scales (32; int8)); one writes C = A·B, the other C += A·B.
    private static readonly Tile s_bf16Store = AssembleTile(Precision.Bf16, accumulate: false);
    private static readonly Tile s_bf16Add = AssembleTile(Precision.Bf16, accumulate: true);
    private static readonly Tile s_int8Store = AssembleTile(Precision.Int8, accumulate: false);
    private static readonly Tile s_int8Add = AssembleTile(Precision.Int8, accumulate: true);

    /// <summary>True when <paramref name="precision"/>'s products run on its assembled tile (<c>LEADENGINE_BF16_MANAGED=1</c> or <c>LEADENGINE_INT8_MANAGED=1</c> force the managed one).</summary>
    public static bool UsesInstruction(Precision precision) => precision == Precision.Bf16
        ? s_bf16Store.Code != null && s_bf16Add.Code != null
        : s_int8Store.Code != null && s_int8Add.Code != null;

    // Per calling thread: A in words, and int8's row factors.
    [ThreadStatic] private static uint[]? t_words;
    [ThreadStatic] private static float[]? t_factors;
    [ThreadStatic] private static float[]? t_column;

    private readonly struct Tile(delegate* unmanaged[Cdecl]<uint*, long, uint*, float*, long, long, float*, float*, void> code)
    {
        public readonly delegate* unmanaged[Cdecl]<uint*, long, uint*, float*, long, long, float*, float*, void> Code = code;
    }

    /// <summary>
    /// A tile in machine code. System V arguments: rdi = A row 0, rsi = A's row stride, rdx = the panel strip, rcx = C
    /// row 0, r8 = C's row stride (both in bytes), r9 = word steps; on the stack the row factors and the column scales.
    /// Accumulators: row r in zmm 2r (columns 0..15) and 2r + 1 (16..31); A's broadcast words in zmm 14..19. Rows 3..5 of
    /// A are addressed from r11 = rdi + 3·rsi, of C from r10 = rcx + 3·r8.
    /// </summary>
    private static Tile AssembleTile(Precision precision, bool accumulate)
    {
        bool int8 = precision == Precision.Int8;
        if (int8 ? !HasInt8Instruction || s_managedInt8 : !HasBf16Instruction || s_managedBf16) return default;
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
            if (accumulate && !int8)
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
        AssemblerMemoryOperand[] rows = [__dword_ptr[rdi], __dword_ptr[rdi + rsi], __dword_ptr[rdi + rsi * 2],
            __dword_ptr[r11], __dword_ptr[r11 + rsi], __dword_ptr[r11 + rsi * 2]];
        AssemblerRegisterZMM[] broadcast = [zmm14, zmm15, zmm16, zmm17, zmm18, zmm19];
        for (int r = 0; r < TileRows; r++) c.vpbroadcastd(broadcast[r], rows[r]);
        for (int r = 0; r < TileRows; r++)
            for (int half = 0; half < 2; half++)
            {
                var weights = half == 0 ? zmm12 : zmm13;
                if (int8) c.vpdpbusd(acc[2 * r + half], weights, broadcast[r]); // u8 weights × s8 activations
                else c.vdpbf16ps(acc[2 * r + half], weights, broadcast[r]);
            }
        c.add(rdi, 4);
        c.add(r11, 4);
        c.add(rdx, 4 * StripColumns);
        c.dec(r9);
        c.jnz(loop);
        c.Label(ref done);
        if (int8)
        {
            // acc = α_r·float(acc − z_r) (z_r an exact integer), then C = sw·acc (+ C).
            c.mov(rax, __qword_ptr[rsp + 8]);
            for (int r = 0; r < TileRows; r++)
                for (int half = 0; half < 2; half++)
                {
                    c.vpsubd(acc[2 * r + half], acc[2 * r + half], __dword_bcst[rax + 8 * r + 4]);
                    c.vcvtdq2ps(acc[2 * r + half], acc[2 * r + half]);
                    c.vmulps(acc[2 * r + half], acc[2 * r + half], __dword_bcst[rax + 8 * r]);
                }
            c.mov(rax, __qword_ptr[rsp + 16]);
            c.vmovups(zmm12, __zmmword_ptr[rax]);
            c.vmovups(zmm13, __zmmword_ptr[rax + 64]);
            for (int r = 0; r < TileRows; r++)
                for (int half = 0; half < 2; half++)
                {
                    var scales = half == 0 ? zmm12 : zmm13;
                    if (accumulate) c.vfmadd213ps(acc[2 * r + half], scales, OutputRow(r, 64 * half));
                    else c.vmulps(acc[2 * r + half], acc[2 * r + half], scales);
                }
        }
        for (int r = 0; r < TileRows; r++)
        {
            c.vmovups(OutputRow(r, 0), acc[2 * r]);
            c.vmovups(OutputRow(r, 64), acc[2 * r + 1]);
        }
        c.vzeroupper();
        c.ret();
        return ExecutableCode.Create(c) is { } code
            ? new Tile((delegate* unmanaged[Cdecl]<uint*, long, uint*, float*, long, long, float*, float*, void>)code)
            : default;
    }

    /// <summary>The managed bf16 tile, for CPUs without AVX-512 BF16: the same arguments, pairs widened to fp32 (a 16-bit shift).</summary>
    private static void ManagedBf16Tile(uint* a, long aStrideBytes, uint* strip, float* c, long cStrideBytes, long pairs, bool accumulate)
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
    /// The managed int8 tile, for CPUs without AVX-512 VNNI: the same arguments and the same integer sums (each byte of
    /// a weight word, unsigned, times the same byte of the activation word, signed), then the same epilogue.
    /// </summary>
    private static void ManagedInt8Tile(uint* a, long aStrideBytes, uint* strip, float* c, long cStrideBytes, long words, bool accumulate,
        float* rowFactors, float* columnScales)
    {
        long stride = aStrideBytes / sizeof(uint), ldc = cStrideBytes / sizeof(float);
        var low = Vector256.Create(0xFFu);
        for (int r = 0; r < TileRows; r++)
        {
            uint* row = a + r * stride;
            for (int v = 0; v < StripColumns; v += Vector256<int>.Count)
            {
                var sum = Vector256<int>.Zero;
                for (long p = 0; p < words; p++)
                {
                    var b = Vector256.Load(strip + p * StripColumns + v);
                    for (int q = 0; q < 4; q++)
                        sum += ((b >> (8 * q)) & low).AsInt32() * Vector256.Create((int)(sbyte)(row[p] >> (8 * q)));
                }
                var value = Vector256.ConvertToSingle(sum - Vector256.Create(((int*)rowFactors)[2 * r + 1])) * rowFactors[2 * r];
                float* target = c + r * ldc + v;
                var scaled = value * Vector256.Load(columnScales + v);
                (accumulate ? scaled + Vector256.Load(target) : scaled).Store(target);
            }
        }
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

    /// <summary>
    /// A row of fp32 as int8 words, one scale per 512-deep block: q = round(x·127/max|x|) (to nearest, ties to even),
    /// 64 values a step (narrowed int32 → int16 → int8 in order). Writes each block's scale and, as the bits of an
    /// int32, its zero-point correction <c>128·Σq</c> to <paramref name="factors"/> at stride <paramref name="factorStride"/>.
    /// </summary>
    private static void Quantize(ReadOnlySpan<float> row, Span<uint> words, Span<float> factors, int factorStride)
    {
        var bytes = MemoryMarshal.Cast<uint, sbyte>(words);
        bytes.Slice(row.Length).Clear(); // the last word's padding
        for (int block = 0, k0 = 0; k0 < row.Length; block++, k0 += 4 * BlockWords)
        {
            var values = row.Slice(k0, Math.Min(4 * BlockWords, row.Length - k0));
            float max = TensorPrimitives.MaxMagnitude(values), scale = Math.Abs(max) / 127f;
            float inverse = scale > 0 ? 127f / Math.Abs(max) : 0f;
            var target = bytes.Slice(k0);
            var sums = Vector512<int>.Zero;
            int i = 0;
            for (; i + 4 * Vector512<float>.Count <= values.Length; i += 4 * Vector512<float>.Count)
            {
                var q0 = Level(values.Slice(i)); var q1 = Level(values.Slice(i + 16));
                var q2 = Level(values.Slice(i + 32)); var q3 = Level(values.Slice(i + 48));
                sums += q0 + q1 + q2 + q3;
                Vector512.Narrow(Vector512.Narrow(q0, q1), Vector512.Narrow(q2, q3)).CopyTo(target.Slice(i));
            }
            int sum = Vector512.Sum(sums);
            for (; i < values.Length; i++)
            {
                int q = (int)MathF.Round(values[i] * inverse);
                target[i] = (sbyte)q;
                sum += q;
            }
            factors[block * factorStride] = scale;
            factors[block * factorStride + 1] = BitConverter.Int32BitsToSingle(128 * sum);

            Vector512<int> Level(ReadOnlySpan<float> x) => Vector512.ConvertToInt32(Vector512.Round(Vector512.Create(x) * inverse));
        }
    }

    /// <summary>Packs every panel of a K×N operand B (stored weights) in <paramref name="precision"/>'s format for <see cref="Multiply"/>.</summary>
    public static PackedReducedPanels PackAll<TW>(Strided<TW> b, int n, int k, Precision precision) where TW : unmanaged, IWeight
    {
        int kPerWord = KPerWord(precision), blockDepth = kPerWord * BlockWords;
        int columnBlocks = (n + BlockColumns - 1) / BlockColumns;
        var layout = new PackedReducedPanels([], k, n, precision, []);
        int panelWords = layout.PanelWords, depthBlocks = layout.DepthBlocks, scaleStride = layout.ScaleStride;
        var scales = new float[precision == Precision.Int8 ? depthBlocks * scaleStride : 0];
        var data = GC.AllocateArray<uint>(checked(columnBlocks * depthBlocks * panelWords * BlockColumns), pinned: true);
        CoreTeam.For(columnBlocks * depthBlocks, block =>
        {
            int cb = block / depthBlocks, db = block % depthBlocks;
            int j0 = cb * BlockColumns, k0 = db * blockDepth, depth = Math.Min(blockDepth, k - k0), words = (depth + kPerWord - 1) / kPerWord;
            int at = block * panelWords * BlockColumns;
            var column = t_column ??= new float[4 * BlockWords + 4]; // the deepest block of either format, and a word's padding
            for (int j = 0; j < Math.Min(BlockColumns, n - j0); j++)
            {
                ReadColumn(j0 + j, k0, depth, column);
                column.AsSpan(depth, kPerWord).Clear(); // the last word's padding
                int strip = at + j / StripColumns * panelWords * StripColumns + j % StripColumns;
                float inverse = 0f;
                if (precision == Precision.Int8 && TensorPrimitives.MaxMagnitude(column.AsSpan(0, depth)) is var max && max != 0)
                {
                    scales[db * scaleStride + j0 + j] = Math.Abs(max) / 127f;
                    inverse = 127f / Math.Abs(max);
                }
                for (int p = 0; p < words; p++)
                    data[strip + p * StripColumns] = precision == Precision.Bf16
                        ? Bf16.Pair(column[2 * p], column[2 * p + 1])
                        : WeightQuad(column.AsSpan(4 * p, 4), inverse);
            }
        });
        return layout with { Data = data, ColumnScales = scales };

        // Column j of B over k0..k0+depth, as fp32.
        void ReadColumn(int j, int k0, int depth, float[] column)
        {
            if (b.RowStride == 1) WeightRows.Widen(b.Data, b.Offset + j * b.ColumnStride + k0, column.AsSpan(0, depth));
            else for (int p = 0; p < depth; p++) column[p] = b.Data[b.Offset + (k0 + p) * b.RowStride + j * b.ColumnStride].ToFloat();
        }

        // Four weights as q + 128 in bytes, the first k lowest.
        static uint WeightQuad(ReadOnlySpan<float> w, float inverse)
        {
            uint word = 0;
            for (int q = 0; q < 4; q++) word |= (uint)(byte)((int)MathF.Round(w[q] * inverse) + 128) << (8 * q);
            return word;
        }
    }

    /// <summary>
    /// C[M,N] = A[M,K]·B with A row-major fp32 (converted to B's format first, once per call) and B packed by
    /// <see cref="PackAll{TW}"/>; C row-major with rows of <paramref name="n"/>. Tasks own column blocks, and row chunks too
    /// when there are fewer blocks than cores; within a task each panel strip stays in L1 while the rows' tiles stream by.
    /// <paramref name="instruction"/> false runs the managed tile even where the assembled one exists (the tests compare them).
    /// </summary>
    public static void Multiply(HostSpan<float> a, PackedReducedPanels b, HostSpan<float> c, int m, int n, int k, bool instruction = true)
    {
        var precision = b.Precision;
        bool int8 = precision == Precision.Int8;
        var store = !instruction ? default : int8 ? s_int8Store : s_bf16Store;
        var add = !instruction ? default : int8 ? s_int8Add : s_bf16Add;
        if (k > b.Depth || n > b.Columns) throw new ArgumentException($"a {k}×{n} product reads past B packed as {b.Depth}×{b.Columns}");
        if (m == 0 || n == 0) return;
        int kPerWord = b.KPerWord, words = (k + kPerWord - 1) / kPerWord, paddedRows = (m + TileRows - 1) / TileRows * TileRows;
        int depthBlocks = (words + BlockWords - 1) / BlockWords;
        var aWords = t_words is { } held && held.Length >= paddedRows * words ? held : t_words = GC.AllocateArray<uint>(paddedRows * words, pinned: true);
        // int8: (scale, correction) per depth block and row, [block][row][2], so a tile's rows are 12 consecutive words.
        var factors = !int8 ? null : t_factors is { } f && f.Length >= depthBlocks * paddedRows * 2 ? f : t_factors = GC.AllocateArray<float>(depthBlocks * paddedRows * 2, pinned: true);
        var wordSpan = HostSpan<uint>.Pinned(aWords);
        CoreTeam.For(paddedRows / TileRows, tile =>
        {
            for (int i = tile * TileRows; i < tile * TileRows + TileRows; i++)
            {
                var target = wordSpan.Slice((long)i * words, words);
                if (i >= m)
                {
                    target.Clear();
                    if (int8) for (int db = 0; db < depthBlocks; db++) factors.AsSpan((db * paddedRows + i) * 2, 2).Clear();
                    continue;
                }
                if (int8) Quantize(a.Slice((long)i * k, k), target, factors.AsSpan(i * 2), paddedRows * 2);
                else ToPairs(a.Slice((long)i * k, k), target);
            }
        });

        int columnBlocks = (n + BlockColumns - 1) / BlockColumns, tiles = paddedRows / TileRows;
        var (rowChunks, chunkTiles) = SimdGemm.RowChunks(columnBlocks, tiles);
        int panelWords = b.PanelWords, panelBlocks = b.DepthBlocks;
        float* output = (float*)Unsafe.AsPointer(ref c[0]);
        CoreTeam.For(columnBlocks * rowChunks, task =>
        {
            int cb = task / rowChunks, firstTile = task % rowChunks * chunkTiles, lastTile = Math.Min(tiles, firstTile + chunkTiles);
            int j0 = cb * BlockColumns, cols = Math.Min(BlockColumns, n - j0);
            float* edge = stackalloc float[TileRows * StripColumns]; // the edge tiles' output, row stride 32 floats
            fixed (uint* panels = b.Data, aBase = aWords)
            fixed (float* factorBase = factors, scaleBase = b.ColumnScales)
            {
                // As in the fp32 product: each L2-sized row block runs through all of K while its slices of A and C stay in
                // L2 (at 16,000 rows a whole chunk's slice of A is 8 MB per depth block, and the product ran at 60% of its
                // speed at 2,000 rows); within a block, strip outer and rows inner keep the strip's panel in L1.
                for (int firstInBlock = firstTile; firstInBlock < lastTile; firstInBlock += RowBlockTiles)
                    for (int db = 0; db < depthBlocks; db++)
                    {
                        int q0 = db * BlockWords, steps = Math.Min(BlockWords, words - q0);
                        bool accumulate = db > 0;
                        uint* panel = panels + (cb * panelBlocks + db) * panelWords * BlockColumns;
                        for (int s = 0; s * StripColumns < cols; s++)
                        {
                            int j = j0 + s * StripColumns, width = Math.Min(StripColumns, cols - s * StripColumns);
                            uint* strip = panel + s * panelWords * StripColumns;
                            float* columnScales = int8 ? scaleBase + db * b.ScaleStride + j : null;
                            for (int t = firstInBlock; t < Math.Min(lastTile, firstInBlock + RowBlockTiles); t++)
                            {
                                uint* rows = aBase + (long)t * TileRows * words + q0;
                                int i = t * TileRows, height = Math.Min(TileRows, m - i);
                                float* rowFactors = int8 ? factorBase + (db * paddedRows + i) * 2 : null;
                                if (height == TileRows && width == StripColumns)
                                {
                                    RunTile(rows, strip, output + (long)i * n + j, (long)n * sizeof(float), steps, accumulate, rowFactors, columnScales);
                                    continue;
                                }
                                // A ragged edge: through a full-size buffer, then its valid part.
                                for (int r = 0; r < TileRows; r++)
                                {
                                    var buffered = new Span<float>(edge + r * StripColumns, StripColumns);
                                    buffered.Clear();
                                    if (accumulate && r < height) new ReadOnlySpan<float>(output + (long)(i + r) * n + j, width).CopyTo(buffered);
                                }
                                RunTile(rows, strip, edge, StripColumns * sizeof(float), steps, accumulate: true, rowFactors, columnScales);
                                for (int r = 0; r < height; r++)
                                    new ReadOnlySpan<float>(edge + r * StripColumns, width).CopyTo(new Span<float>(output + (long)(i + r) * n + j, width));
                            }
                        }
                    }
            }

            void RunTile(uint* rows, uint* strip, float* target, long ldc, int steps, bool accumulate, float* rowFactors, float* columnScales)
            {
                var code = (accumulate ? add : store).Code;
                long stride = (long)words * sizeof(uint);
                if (code != null) code(rows, stride, strip, target, ldc, steps, rowFactors, columnScales);
                else if (int8) ManagedInt8Tile(rows, stride, strip, target, ldc, steps, accumulate, rowFactors, columnScales);
                else ManagedBf16Tile(rows, stride, strip, target, ldc, steps, accumulate);
            }
        });
    }
}

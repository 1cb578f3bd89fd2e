using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace LeadEngine.Kernels;

/// <summary>One lane's share of a 16×8 f32 tile of an m16n8k16 product: c0..c3 at <see cref="MmaFragments.CRow"/>, <see cref="MmaFragments.CColumn"/>.</summary>
internal struct Fragment4
{
    public float E0, E1, E2, E3;

    /// <summary>Element <paramref name="i"/> (0..3).</summary>
    public readonly float Get(int i) => i == 0 ? E0 : i == 1 ? E1 : i == 2 ? E2 : E3;
}

/// <summary>
/// One warp's <c>mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32</c>: <c>d += A·B</c> with A 16×16 and B 16×8 in
/// bf16, D 16×8 in f32. Each lane passes its fragments as the instruction takes them (<see cref="MmaFragments"/>):
/// A as four registers of bf16 pairs, B as two. Every lane of every warp of the group calls it the same number of
/// times (the emulation synchronises the group).
/// </summary>
internal interface IWarpMma
{
    /// <summary>Shared-memory words a warp needs for the instruction (0 on the GPU).</summary>
    int ScratchWordsPerWarp { get; }

    /// <summary><c>d += A·B</c> for this lane's fragments; <paramref name="scratch"/> is the warp's <see cref="ScratchWordsPerWarp"/> words.</summary>
    void MultiplyAdd(ArrayView<uint> scratch, int lane, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1, ref Fragment4 d);
}

/// <summary>The tensor-core instruction itself, as inline PTX (CUDA only; sm_80 and later).</summary>
internal readonly struct PtxMma : IWarpMma
{
    public int ScratchWordsPerWarp => 0;

    public void MultiplyAdd(ArrayView<uint> scratch, int lane, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1, ref Fragment4 d)
    {
        // D and C are the same four registers: read, then written.
        Ref<float> d0 = d.E0, d1 = d.E1, d2 = d.E2, d3 = d.E3;
        Input<uint> ia0 = a0, ia1 = a1, ia2 = a2, ia3 = a3, ib0 = b0, ib1 = b1;
        CudaAsm.EmitRef(
            "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};",
            ref d0, ref d1, ref d2, ref d3, ref ia0, ref ia1, ref ia2, ref ia3, ref ib0, ref ib1);
        d.E0 = d0.Value; d.E1 = d1.Value; d.E2 = d2.Value; d.E3 = d3.Value;
    }
}

/// <summary>
/// The instruction in software, for ILGPU's CPU accelerator: each lane posts its fragments to shared memory, and each
/// computes its four D elements from the tiles the warp posted, found through the inverse fragment maps. The kernels
/// around it (staging, fragment loads, softmax, stores) are the GPU's code, so their index arithmetic is tested on the CPU.
/// </summary>
internal readonly struct EmulatedMma : IWarpMma
{
    /// <summary>Words a lane posts: four A registers and two B registers.</summary>
    private const int LaneWords = 6;

    public int ScratchWordsPerWarp => MmaFragments.Lanes * LaneWords;

    public void MultiplyAdd(ArrayView<uint> scratch, int lane, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1, ref Fragment4 d)
    {
        int own = lane * LaneWords;
        scratch[own] = a0; scratch[own + 1] = a1; scratch[own + 2] = a2; scratch[own + 3] = a3;
        scratch[own + 4] = b0; scratch[own + 5] = b1;
        Group.Barrier();
        float e0 = Dot(scratch, lane, 0), e1 = Dot(scratch, lane, 1), e2 = Dot(scratch, lane, 2), e3 = Dot(scratch, lane, 3);
        Group.Barrier();
        d.E0 += e0; d.E1 += e1; d.E2 += e2; d.E3 += e3;
    }

    /// <summary>Σ_k A[row, k]·B[k, col] for this lane's C element <paramref name="i"/>.</summary>
    private static float Dot(ArrayView<uint> scratch, int lane, int i)
    {
        int row = MmaFragments.CRow(lane, i), col = MmaFragments.CColumn(lane, i);
        float sum = 0f;
        for (int k = 0; k < 16; k++)
        {
            int ae = MmaFragments.AElement(row, k), be = MmaFragments.BElement(k);
            float a = Half(scratch[MmaFragments.ALane(row, k) * LaneWords + (ae >> 1)], ae & 1);
            float b = Half(scratch[MmaFragments.BLane(k, col) * LaneWords + 4 + (be >> 1)], be & 1);
            sum += a * b;
        }
        return sum;
    }

    private static float Half(uint word, int high) => Interop.IntAsFloat(high == 0 ? word << 16 : word & 0xFFFF0000u);
}

/// <summary>
/// BF16 tensor-core kernels (<see cref="IWarpMma"/>): the forward projection and causal attention for scoring, off by
/// default (<see cref="ComputeDevice.TensorCores"/>) until a GPU run has checked them against the C# references
/// (<c>bench/gpu-run.sh</c> runs that check first). Operands are rounded to bf16 as they are staged in shared memory,
/// as bf16 pairs along k (<see cref="MmaFragments"/>: "words"); products accumulate in f32. Rows of staged tiles are
/// padded by four words so the eight groups of a warp read different banks.
/// </summary>
internal static class IlgpuTensorCoreKernels
{
    /// <summary>Threads of a matmul group: four warps, 2×2 over a 64×64 output block, each warp 32×32 (2×4 mma tiles).</summary>
    public const int MatMulGroup = 128;
    /// <summary>Rows and columns of a matmul group's output block.</summary>
    public const int MatMulBlock = 64;
    /// <summary>Depth of one staged slice: two m16n8k16 steps.</summary>
    private const int MatMulDepth = 32;
    /// <summary>Words per staged matmul row: 16 pairs plus 4 of padding.</summary>
    private const int MatMulStride = MatMulDepth / 2 + 4;

    /// <summary>Query rows of an attention group: two warps of 16.</summary>
    public const int AttentionQueryBlock = 32;
    /// <summary>Threads of an attention group.</summary>
    public const int AttentionGroup = 64;
    /// <summary>Keys staged per step: four 8-key mma tiles of scores, two 16-key steps of P·V.</summary>
    public const int AttentionKeyBlock = 32;
    /// <summary>The largest head dimension whose attention group fits the 48 KB of shared memory a launch gets without opting in.</summary>
    public const int AttentionMaxHeadDim = 128;
    /// <summary>Words per staged row of Vᵀ (one head dimension, its keys in pairs): 16 pairs plus 4 of padding.</summary>
    private const int ValueStride = AttentionKeyBlock / 2 + 4;

    /// <summary>Dynamic shared memory of a matmul group, in 32-bit words: the x and W slices and the mma's scratch.</summary>
    public static int MatMulSharedWords(int scratchWordsPerWarp) => 2 * MatMulBlock * MatMulStride + MatMulGroup / MmaFragments.Lanes * scratchWordsPerWarp;

    /// <summary>
    /// Kernel: <c>y[M,N] = x·Wᵀ + bias</c> and the LoRA down projection <c>u = x·Aᵀ</c> (A's rows as virtual output
    /// rows N..N+r, as in <see cref="IlgpuMatMulKernels.Forward"/>). Grid (⌈(N+r)/64⌉, ⌈M/64⌉), group 128, dynamic shared
    /// memory <see cref="MatMulSharedWords"/>. Warp w computes rows 32·(w / 2).., columns 32·(w mod 2).. of the block.
    /// </summary>
    public static void MatMulForward<TW, TMma>(
        ArrayView<float> x, ArrayView<TW> w, ArrayView<TW> bias, ArrayView<float> loraA,
        ArrayView<float> y, ArrayView<float> loraU, MatMulArgs a)
        where TW : unmanaged, IWeight
        where TMma : struct, IWarpMma
    {
        var mma = default(TMma);
        var shared = SharedMemory.GetDynamic<uint>();
        int tid = Group.IdxX, warp = tid / MmaFragments.Lanes, lane = tid % MmaFragments.Lanes;
        int row0 = Grid.IdxY * MatMulBlock, col0 = Grid.IdxX * MatMulBlock;
        int xsBase = 0, wsBase = MatMulBlock * MatMulStride;
        var scratch = shared.SubView(2 * MatMulBlock * MatMulStride + warp * mma.ScratchWordsPerWarp, mma.ScratchWordsPerWarp);
        int warpRows = (warp >> 1) * 32, warpCols = (warp & 1) * 32;

        var tile = default(WarpTile);
        for (int k0 = 0; k0 < a.K; k0 += MatMulDepth)
        {
            // 64 rows × 16 pairs of each operand; consecutive threads read consecutive pairs of a row.
            for (int i = tid; i < MatMulBlock * (MatMulDepth / 2); i += MatMulGroup)
            {
                int r = i / (MatMulDepth / 2), pair = i - r * (MatMulDepth / 2);
                int m = row0 + r, k = k0 + 2 * pair;
                long at = (long)m * a.K + k;
                shared[xsBase + r * MatMulStride + pair] = Bf16.Pair(
                    m < a.M && k < a.K ? x[at] : 0f, m < a.M && k + 1 < a.K ? x[at + 1] : 0f);
                int n = col0 + r;
                shared[wsBase + r * MatMulStride + pair] = Bf16.Pair(
                    IlgpuMatMulKernels.WeightOrAdapter(w, loraA, n, k, a), IlgpuMatMulKernels.WeightOrAdapter(w, loraA, n, k + 1, a));
            }
            Group.Barrier();
            for (int word = 0; word < MatMulDepth / 2; word += 8)
                tile.Step(mma, scratch, lane, shared, xsBase + warpRows * MatMulStride + word, wsBase + warpCols * MatMulStride + word);
            Group.Barrier();
        }
        tile.Store(new IlgpuMatMulKernels.ForwardSink<TW>(y, bias, loraU, a), lane, row0 + warpRows, col0 + warpCols);
    }

    /// <summary>A warp's 32×32 block of the product: two 16-row A tiles by four 8-column B tiles.</summary>
    private struct WarpTile
    {
        private Fragment4 _c00, _c01, _c02, _c03, _c10, _c11, _c12, _c13;

        /// <summary>One k16 step: A rows at <paramref name="aBase"/>, B rows (output columns) at <paramref name="bBase"/>, both already offset to the step's first word.</summary>
        public void Step<TMma>(TMma mma, ArrayView<uint> scratch, int lane, ArrayView<uint> s, int aBase, int bBase) where TMma : struct, IWarpMma
        {
            int a1Base = aBase + 16 * MatMulStride;
            uint a00 = ARegister(s, aBase, MatMulStride, lane, 0), a01 = ARegister(s, aBase, MatMulStride, lane, 1);
            uint a02 = ARegister(s, aBase, MatMulStride, lane, 2), a03 = ARegister(s, aBase, MatMulStride, lane, 3);
            uint a10 = ARegister(s, a1Base, MatMulStride, lane, 0), a11 = ARegister(s, a1Base, MatMulStride, lane, 1);
            uint a12 = ARegister(s, a1Base, MatMulStride, lane, 2), a13 = ARegister(s, a1Base, MatMulStride, lane, 3);
            for (int j = 0; j < 4; j++)
            {
                int nBase = bBase + 8 * j * MatMulStride;
                uint b0 = BRegister(s, nBase, MatMulStride, lane, 0), b1 = BRegister(s, nBase, MatMulStride, lane, 1);
                if (j == 0) { mma.MultiplyAdd(scratch, lane, a00, a01, a02, a03, b0, b1, ref _c00); mma.MultiplyAdd(scratch, lane, a10, a11, a12, a13, b0, b1, ref _c10); }
                else if (j == 1) { mma.MultiplyAdd(scratch, lane, a00, a01, a02, a03, b0, b1, ref _c01); mma.MultiplyAdd(scratch, lane, a10, a11, a12, a13, b0, b1, ref _c11); }
                else if (j == 2) { mma.MultiplyAdd(scratch, lane, a00, a01, a02, a03, b0, b1, ref _c02); mma.MultiplyAdd(scratch, lane, a10, a11, a12, a13, b0, b1, ref _c12); }
                else { mma.MultiplyAdd(scratch, lane, a00, a01, a02, a03, b0, b1, ref _c03); mma.MultiplyAdd(scratch, lane, a10, a11, a12, a13, b0, b1, ref _c13); }
            }
        }

        /// <summary>Hands the warp's 32×32 values to <paramref name="sink"/>, rows from <paramref name="m0"/>, columns from <paramref name="n0"/>.</summary>
        public readonly void Store<TSink>(TSink sink, int lane, int m0, int n0) where TSink : struct, IlgpuMatMulKernels.ITileSink
        {
            StoreTile(sink, _c00, lane, m0, n0); StoreTile(sink, _c01, lane, m0, n0 + 8); StoreTile(sink, _c02, lane, m0, n0 + 16); StoreTile(sink, _c03, lane, m0, n0 + 24);
            StoreTile(sink, _c10, lane, m0 + 16, n0); StoreTile(sink, _c11, lane, m0 + 16, n0 + 8); StoreTile(sink, _c12, lane, m0 + 16, n0 + 16); StoreTile(sink, _c13, lane, m0 + 16, n0 + 24);
        }

        private static void StoreTile<TSink>(TSink sink, Fragment4 c, int lane, int m0, int n0) where TSink : struct, IlgpuMatMulKernels.ITileSink
        {
            for (int i = 0; i < 4; i++) sink.Store(m0 + MmaFragments.CRow(lane, i), n0 + MmaFragments.CColumn(lane, i), c.Get(i));
        }
    }

    /// <summary>A register <paramref name="register"/> of this lane from rows at <paramref name="rowsBase"/> (row stride <paramref name="stride"/> words).</summary>
    private static uint ARegister(ArrayView<uint> s, int rowsBase, int stride, int lane, int register) =>
        s[rowsBase + MmaFragments.ARow(lane, register) * stride + MmaFragments.AWord(lane, register)];

    /// <summary>B register <paramref name="register"/> of this lane from n-rows at <paramref name="rowsBase"/> (row stride <paramref name="stride"/> words).</summary>
    private static uint BRegister(ArrayView<uint> s, int rowsBase, int stride, int lane, int register) =>
        s[rowsBase + MmaFragments.BColumn(lane) * stride + MmaFragments.BWord(lane, register)];

    /// <summary>
    /// Dynamic shared memory of an attention group, in words: Q (32 rows), K (32 keys) as pairs along the head
    /// dimension, Vᵀ as key pairs, each warp's output accumulators (f32 bits, lane-private), and the mma's scratch.
    /// At head dimension 128: 11,008 words (43 KB) on the GPU, under the 48 KB a group gets without opting in.
    /// </summary>
    public static int AttentionSharedWords(int headDim, int scratchWordsPerWarp) =>
        (AttentionQueryBlock + AttentionKeyBlock) * (headDim / 2 + 4) + headDim * ValueStride + AttentionQueryBlock * headDim
        + AttentionGroup / MmaFragments.Lanes * scratchWordsPerWarp;

    /// <summary>
    /// Kernel: causal GQA attention forward on tensor cores, flash style (as <see cref="IlgpuAttentionKernels.Forward"/>:
    /// q/o [B·T, heads·d], k/v [B·T, kvHeads·d], lse of the scaled scores, zeros at and past a sequence's length).
    /// Grid (⌈T/32⌉, heads, batch), group 64; head dimension a multiple of 16. Per key block each warp forms its 16×32
    /// scores S = Q·Kᵀ (d/16 steps × 4 tiles), masks and scales them, updates its rows' running max m (the four lanes
    /// of a row group exchange by shuffles) and lane-partial sums l, and adds P·V with P taken straight from the score
    /// registers: the C fragments of two adjacent 8-key tiles are the A fragment of a 16-key step.
    /// </summary>
    public static void AttentionForward<TMma>(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> lengths,
        ArrayView<float> o, ArrayView<float> lse, AttentionArgs a)
        where TMma : struct, IWarpMma
    {
        var mma = default(TMma);
        var shared = SharedMemory.GetDynamic<uint>();
        int d = a.HeadDim, pairs = d / 2, stride = pairs + 4, tiles = d / 8;
        int tid = Group.IdxX, warp = tid / MmaFragments.Lanes, lane = tid % MmaFragments.Lanes;
        int head = Grid.IdxY, batch = Grid.IdxZ, kvHead = head / (a.Heads / a.KvHeads);
        int q0 = Grid.IdxX * AttentionQueryBlock, len = lengths[batch];
        int qsBase = 0, ksBase = AttentionQueryBlock * stride, vtBase = ksBase + AttentionKeyBlock * stride;
        int accBase = vtBase + d * ValueStride + warp * 16 * d;
        var scratch = shared.SubView(vtBase + d * ValueStride + AttentionQueryBlock * d + warp * mma.ScratchWordsPerWarp, mma.ScratchWordsPerWarp);
        int warpRows = warp * 16;

        for (int i = tid; i < AttentionQueryBlock * pairs; i += AttentionGroup)
        {
            int r = i / pairs, pair = i - r * pairs, t = q0 + r;
            long at = (((long)batch * a.SeqLen + t) * a.Heads + head) * d + 2 * pair;
            shared[qsBase + r * stride + pair] = t < len ? Bf16.Pair(q[at], q[at + 1]) : 0u;
        }
        // Output accumulators: lane-private, tile-major, so a warp's 32 lanes hit 32 banks.
        for (int tile = 0; tile < tiles; tile++)
            for (int e = 0; e < 4; e++) shared[accBase + (tile * 4 + e) * MmaFragments.Lanes + lane] = 0u;

        // Rows g and g + 8 of the warp's 16 (g = lane / 4): running max and this lane's part of the sum.
        float max0 = float.NegativeInfinity, max1 = float.NegativeInfinity, sum0 = 0f, sum1 = 0f;
        int lastKey = Math.Min(q0 + AttentionQueryBlock, len) - 1;
        int row0 = q0 + warpRows + MmaFragments.CRow(lane, 0), row1 = row0 + 8;
        for (int k0 = 0; k0 <= lastKey; k0 += AttentionKeyBlock)
        {
            Group.Barrier();
            for (int i = tid; i < AttentionKeyBlock * pairs; i += AttentionGroup)
            {
                int r = i / pairs, pair = i - r * pairs, key = k0 + r;
                long at = (((long)batch * a.SeqLen + key) * a.KvHeads + kvHead) * d + 2 * pair;
                shared[ksBase + r * stride + pair] = key < len ? Bf16.Pair(k[at], k[at + 1]) : 0u;
            }
            // Vᵀ: row c holds the block's keys in pairs for head dimension c; consecutive threads read consecutive c.
            for (int i = tid; i < AttentionKeyBlock / 2 * d; i += AttentionGroup)
            {
                int pair = i / d, c = i - pair * d, key = k0 + 2 * pair;
                long at = (((long)batch * a.SeqLen + key) * a.KvHeads + kvHead) * d + c;
                long next = at + (long)a.KvHeads * d;
                shared[vtBase + c * ValueStride + pair] = Bf16.Pair(key < len ? v[at] : 0f, key + 1 < len ? v[next] : 0f);
            }
            Group.Barrier();

            var s0 = default(Fragment4); var s1 = default(Fragment4); var s2 = default(Fragment4); var s3 = default(Fragment4);
            for (int word = 0; word < pairs; word += 8)
            {
                int qBase = qsBase + warpRows * stride + word;
                uint a0 = ARegister(shared, qBase, stride, lane, 0), a1 = ARegister(shared, qBase, stride, lane, 1);
                uint a2 = ARegister(shared, qBase, stride, lane, 2), a3 = ARegister(shared, qBase, stride, lane, 3);
                int kBase = ksBase + word;
                mma.MultiplyAdd(scratch, lane, a0, a1, a2, a3, BRegister(shared, kBase, stride, lane, 0), BRegister(shared, kBase, stride, lane, 1), ref s0);
                kBase += 8 * stride;
                mma.MultiplyAdd(scratch, lane, a0, a1, a2, a3, BRegister(shared, kBase, stride, lane, 0), BRegister(shared, kBase, stride, lane, 1), ref s1);
                kBase += 8 * stride;
                mma.MultiplyAdd(scratch, lane, a0, a1, a2, a3, BRegister(shared, kBase, stride, lane, 0), BRegister(shared, kBase, stride, lane, 1), ref s2);
                kBase += 8 * stride;
                mma.MultiplyAdd(scratch, lane, a0, a1, a2, a3, BRegister(shared, kBase, stride, lane, 0), BRegister(shared, kBase, stride, lane, 1), ref s3);
            }
            MaskAndScale(ref s0, lane, k0, row0, len, a.Scale); MaskAndScale(ref s1, lane, k0 + 8, row0, len, a.Scale);
            MaskAndScale(ref s2, lane, k0 + 16, row0, len, a.Scale); MaskAndScale(ref s3, lane, k0 + 24, row0, len, a.Scale);

            float block0 = MathF.Max(MathF.Max(MathF.Max(s0.E0, s0.E1), MathF.Max(s1.E0, s1.E1)), MathF.Max(MathF.Max(s2.E0, s2.E1), MathF.Max(s3.E0, s3.E1)));
            float block1 = MathF.Max(MathF.Max(MathF.Max(s0.E2, s0.E3), MathF.Max(s1.E2, s1.E3)), MathF.Max(MathF.Max(s2.E2, s2.E3), MathF.Max(s3.E2, s3.E3)));
            float next0 = MathF.Max(max0, RowGroupMax(block0)), next1 = MathF.Max(max1, RowGroupMax(block1));
            // A row with no key yet keeps −∞; subtracting 0 then keeps exp finite (every p is 0).
            float base0 = next0 == float.NegativeInfinity ? 0f : next0, base1 = next1 == float.NegativeInfinity ? 0f : next1;
            float scale0 = MathF.Exp(max0 - base0), scale1 = MathF.Exp(max1 - base1);
            max0 = next0; max1 = next1;
            Exponentiate(ref s0, base0, base1); Exponentiate(ref s1, base0, base1); Exponentiate(ref s2, base0, base1); Exponentiate(ref s3, base0, base1);
            sum0 = sum0 * scale0 + s0.E0 + s0.E1 + s1.E0 + s1.E1 + s2.E0 + s2.E1 + s3.E0 + s3.E1;
            sum1 = sum1 * scale1 + s0.E2 + s0.E3 + s1.E2 + s1.E3 + s2.E2 + s2.E3 + s3.E2 + s3.E3;

            // P as A fragments of the two 16-key steps: registers (row g, keys 2t..), (row g + 8, keys 2t..), then the same 8 keys on.
            uint p00 = Bf16.Pair(s0.E0, s0.E1), p01 = Bf16.Pair(s0.E2, s0.E3), p02 = Bf16.Pair(s1.E0, s1.E1), p03 = Bf16.Pair(s1.E2, s1.E3);
            uint p10 = Bf16.Pair(s2.E0, s2.E1), p11 = Bf16.Pair(s2.E2, s2.E3), p12 = Bf16.Pair(s3.E0, s3.E1), p13 = Bf16.Pair(s3.E2, s3.E3);
            for (int tile = 0; tile < tiles; tile++)
            {
                int accAt = accBase + tile * 4 * MmaFragments.Lanes + lane;
                var acc = new Fragment4
                {
                    E0 = Interop.IntAsFloat(shared[accAt]) * scale0,
                    E1 = Interop.IntAsFloat(shared[accAt + MmaFragments.Lanes]) * scale0,
                    E2 = Interop.IntAsFloat(shared[accAt + 2 * MmaFragments.Lanes]) * scale1,
                    E3 = Interop.IntAsFloat(shared[accAt + 3 * MmaFragments.Lanes]) * scale1,
                };
                int vBase = vtBase + 8 * tile * ValueStride;
                mma.MultiplyAdd(scratch, lane, p00, p01, p02, p03, BRegister(shared, vBase, ValueStride, lane, 0), BRegister(shared, vBase, ValueStride, lane, 1), ref acc);
                mma.MultiplyAdd(scratch, lane, p10, p11, p12, p13, BRegister(shared, vBase + 8, ValueStride, lane, 0), BRegister(shared, vBase + 8, ValueStride, lane, 1), ref acc);
                shared[accAt] = Interop.FloatAsInt(acc.E0);
                shared[accAt + MmaFragments.Lanes] = Interop.FloatAsInt(acc.E1);
                shared[accAt + 2 * MmaFragments.Lanes] = Interop.FloatAsInt(acc.E2);
                shared[accAt + 3 * MmaFragments.Lanes] = Interop.FloatAsInt(acc.E3);
            }
        }

        float total0 = RowGroupSum(sum0), total1 = RowGroupSum(sum1);
        for (int tile = 0; tile < tiles; tile++)
            for (int e = 0; e < 4; e++)
            {
                int row = e < 2 ? row0 : row1;
                if (row >= a.SeqLen) continue;
                float value = Interop.IntAsFloat(shared[accBase + (tile * 4 + e) * MmaFragments.Lanes + lane]);
                o[(((long)batch * a.SeqLen + row) * a.Heads + head) * d + 8 * tile + MmaFragments.CColumn(lane, e)] =
                    row < len ? value / (e < 2 ? total0 : total1) : 0f;
            }
        if (lse.Length > 0 && (lane & 3) == 0)
        {
            if (row0 < a.SeqLen) lse[((long)batch * a.SeqLen + row0) * a.Heads + head] = row0 < len ? max0 + MathF.Log(total0) : 0f;
            if (row1 < a.SeqLen) lse[((long)batch * a.SeqLen + row1) * a.Heads + head] = row1 < len ? max1 + MathF.Log(total1) : 0f;
        }
    }

    /// <summary>Scales a score tile (keys from <paramref name="key0"/>) and sets −∞ where the key is in the future or past the length.</summary>
    private static void MaskAndScale(ref Fragment4 s, int lane, int key0, int row0, int len, float scale)
    {
        int key = key0 + MmaFragments.CColumn(lane, 0);
        s.E0 = key > row0 || key >= len ? float.NegativeInfinity : s.E0 * scale;
        s.E1 = key + 1 > row0 || key + 1 >= len ? float.NegativeInfinity : s.E1 * scale;
        s.E2 = key > row0 + 8 || key >= len ? float.NegativeInfinity : s.E2 * scale;
        s.E3 = key + 1 > row0 + 8 || key + 1 >= len ? float.NegativeInfinity : s.E3 * scale;
    }

    private static void Exponentiate(ref Fragment4 s, float base0, float base1)
    {
        s.E0 = MathF.Exp(s.E0 - base0); s.E1 = MathF.Exp(s.E1 - base0);
        s.E2 = MathF.Exp(s.E2 - base1); s.E3 = MathF.Exp(s.E3 - base1);
    }

    /// <summary>Max over the four lanes holding one row (lanes 4g..4g + 3).</summary>
    private static float RowGroupMax(float value)
    {
        value = MathF.Max(value, Warp.ShuffleXor(value, 1));
        return MathF.Max(value, Warp.ShuffleXor(value, 2));
    }

    /// <summary>Sum over the four lanes holding one row.</summary>
    private static float RowGroupSum(float value)
    {
        value += Warp.ShuffleXor(value, 1);
        return value + Warp.ShuffleXor(value, 2);
    }
}

internal sealed partial class IlgpuBackend
{
    /// <summary>The tensor-core projection: the instruction on CUDA, emulated elsewhere.</summary>
    private void TensorCoreMatMulForward<TW>(ArrayView<float> x, ArrayView<TW> w, ArrayView<TW> bias, ArrayView<float> loraA, ArrayView<float> y,
        ArrayView<float> loraU, MatMulArgs args) where TW : unmanaged, IWeight
    {
        if (_device.Kind == DeviceKind.Cuda) TensorCoreMatMulForward<TW, PtxMma>(x, w, bias, loraA, y, loraU, args);
        else TensorCoreMatMulForward<TW, EmulatedMma>(x, w, bias, loraA, y, loraU, args);
    }

    private void TensorCoreMatMulForward<TW, TMma>(ArrayView<float> x, ArrayView<TW> w, ArrayView<TW> bias, ArrayView<float> loraA, ArrayView<float> y,
        ArrayView<float> loraU, MatMulArgs args) where TW : unmanaged, IWeight where TMma : struct, IWarpMma
    {
        var kernel = _device.GetKernel($"matmul.fwd.tensor_cores.{typeof(TW).Name}", acc =>
            acc.LoadStreamKernel<ArrayView<float>, ArrayView<TW>, ArrayView<TW>, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, MatMulArgs>(IlgpuTensorCoreKernels.MatMulForward<TW, TMma>));
        int block = IlgpuTensorCoreKernels.MatMulBlock;
        var grid = new Index2D((args.N + args.LoraRank + block - 1) / block, (args.M + block - 1) / block);
        var config = new KernelConfig(grid, new Index2D(IlgpuTensorCoreKernels.MatMulGroup, 1),
            SharedMemoryConfig.RequestDynamic<uint>(IlgpuTensorCoreKernels.MatMulSharedWords(default(TMma).ScratchWordsPerWarp)));
        kernel(config, x, w, bias, loraA, y, loraU, args);
    }

    /// <summary>The tensor-core attention forward: the instruction on CUDA, emulated elsewhere.</summary>
    private void TensorCoreAttentionForward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> lengths, ArrayView<float> o,
        ArrayView<float> lse, int batch, AttentionArgs args)
    {
        if (_device.Kind == DeviceKind.Cuda) TensorCoreAttentionForward<PtxMma>(q, k, v, lengths, o, lse, batch, args);
        else TensorCoreAttentionForward<EmulatedMma>(q, k, v, lengths, o, lse, batch, args);
    }

    private void TensorCoreAttentionForward<TMma>(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> lengths, ArrayView<float> o,
        ArrayView<float> lse, int batch, AttentionArgs args) where TMma : struct, IWarpMma
    {
        var kernel = _device.GetKernel("attention.fwd.tensor_cores", acc =>
            acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, AttentionArgs>(
                IlgpuTensorCoreKernels.AttentionForward<TMma>));
        int block = IlgpuTensorCoreKernels.AttentionQueryBlock;
        var config = new KernelConfig(new Index3D((args.SeqLen + block - 1) / block, args.Heads, batch), new Index3D(IlgpuTensorCoreKernels.AttentionGroup, 1, 1),
            SharedMemoryConfig.RequestDynamic<uint>(IlgpuTensorCoreKernels.AttentionSharedWords(args.HeadDim, default(TMma).ScratchWordsPerWarp)));
        kernel(config, q, k, v, lengths, o, lse, args);
    }
}

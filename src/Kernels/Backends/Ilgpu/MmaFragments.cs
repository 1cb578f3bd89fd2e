namespace LeadEngine.Kernels;

/// <summary>
/// Which lane of a warp holds which elements of the operands of PTX <c>mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32</c>,
/// the tensor-core instruction the BF16 GEMM and attention kernels are to use (PTX ISA, "Matrix Fragments for
/// mma.m16n8k16"). With g = lane / 4 (the group) and t = lane % 4 (the thread in it):
/// <list type="bullet">
/// <item>A, 16×16 (row-major, M×K): eight bf16 a0..a7 in four registers; row g for a0, a1, a4, a5 and g + 8 for a2, a3, a6, a7;
/// column 2t + (i &amp; 1), plus 8 for a4..a7;</item>
/// <item>B, 16×8 (K×N, "col"): four bf16 b0..b3 in two registers; row (k) 2t + (i &amp; 1), plus 8 for b2, b3; column (n) g;</item>
/// <item>C and D, 16×8 (f32): c0..c3; row g for c0, c1 and g + 8 for c2, c3; column 2t + (i &amp; 1).</item>
/// </list>
/// <see cref="Multiply"/> runs one warp's instruction on the host through these maps (gather each lane's fragments,
/// let the "hardware" form D = A·B + C, scatter D back through the C map), so the index arithmetic a kernel uses to
/// load and store fragments is checked against a plain matmul before any GPU runs it.
/// </summary>
public static class MmaFragments
{
    /// <summary>Threads in a warp.</summary>
    public const int Lanes = 32;

    /// <summary>The (row, column) of A element a<paramref name="i"/> (0..7) held by <paramref name="lane"/>.</summary>
    public static (int Row, int Col) A(int lane, int i) => (lane / 4 + 8 * ((i >> 1) & 1), 2 * (lane % 4) + (i & 1) + 8 * (i >> 2));

    /// <summary>The (row k, column n) of B element b<paramref name="i"/> (0..3) held by <paramref name="lane"/>.</summary>
    public static (int Row, int Col) B(int lane, int i) => (2 * (lane % 4) + (i & 1) + 8 * (i >> 1), lane / 4);

    /// <summary>The (row, column) of C (and D) element c<paramref name="i"/> (0..3) held by <paramref name="lane"/>.</summary>
    public static (int Row, int Col) C(int lane, int i) => (lane / 4 + 8 * (i >> 1), 2 * (lane % 4) + (i & 1));

    // The kernels load fragments as 32-bit registers, each a pair of bf16 along k (the low half first), from tiles staged
    // in shared memory as such pairs ("words": word w of a row holds columns 2w and 2w + 1). These are the maps above,
    // one register at a time; the tests check them against the element maps.

    /// <summary>The row of A's register <paramref name="register"/> (0..3; elements a[2·register], a[2·register + 1]) held by <paramref name="lane"/>.</summary>
    public static int ARow(int lane, int register) => (lane >> 2) + 8 * (register & 1);

    /// <summary>The k word (column pair) of A's register <paramref name="register"/> held by <paramref name="lane"/>.</summary>
    public static int AWord(int lane, int register) => (lane & 3) + 4 * (register >> 1);

    /// <summary>The column n of every B element <paramref name="lane"/> holds: B is staged as rows of n, words along k.</summary>
    public static int BColumn(int lane) => lane >> 2;

    /// <summary>The k word of B's register <paramref name="register"/> (0..1) held by <paramref name="lane"/>.</summary>
    public static int BWord(int lane, int register) => (lane & 3) + 4 * register;

    /// <summary>The row of C element <paramref name="i"/> (0..3) held by <paramref name="lane"/>.</summary>
    public static int CRow(int lane, int i) => (lane >> 2) + 8 * (i >> 1);

    /// <summary>The column of C element <paramref name="i"/> (0..3) held by <paramref name="lane"/>.</summary>
    public static int CColumn(int lane, int i) => 2 * (lane & 3) + (i & 1);

    // The inverse maps: which lane, and which element of its registers, holds a given element. The software mma of
    // the CPU emulation gathers a warp's tiles through them.

    /// <summary>The lane holding A[row, col].</summary>
    public static int ALane(int row, int col) => 4 * (row & 7) + ((col & 7) >> 1);

    /// <summary>The element index a_i (0..7) of A[row, col] in its lane.</summary>
    public static int AElement(int row, int col) => (col & 1) + 2 * (row >> 3) + 4 * (col >> 3);

    /// <summary>The lane holding B[row k, column n].</summary>
    public static int BLane(int row, int col) => 4 * col + ((row & 7) >> 1);

    /// <summary>The element index b_i (0..3) of B[row k, column n] in its lane.</summary>
    public static int BElement(int row) => (row & 1) + 2 * (row >> 3);

    /// <summary>
    /// D = A·B + C for one m16n8k16 tile, the way a warp computes it: each lane loads its fragments through <see cref="A"/>,
    /// <see cref="B"/> and <see cref="C"/>, the instruction combines the warp's fragments, and each lane stores its d0..d3
    /// through <see cref="C"/>. <paramref name="a"/> is 16×16 and <paramref name="b"/> 16×8 (K×N), <paramref name="c"/> 16×8, row-major.
    /// </summary>
    public static float[] Multiply(float[] a, float[] b, float[] c)
    {
        // Each lane's registers, loaded through the maps.
        var fa = new float[Lanes, 8];
        var fb = new float[Lanes, 4];
        var fc = new float[Lanes, 4];
        for (int lane = 0; lane < Lanes; lane++)
        {
            for (int i = 0; i < 8; i++) { var (r, k) = A(lane, i); fa[lane, i] = a[r * 16 + k]; }
            for (int i = 0; i < 4; i++) { var (k, n) = B(lane, i); fb[lane, i] = b[k * 8 + n]; }
            for (int i = 0; i < 4; i++) { var (r, n) = C(lane, i); fc[lane, i] = c[r * 8 + n]; }
        }
        // The instruction sees the whole warp's fragments: reassemble the tiles from them, as the hardware does.
        var ta = new float[16 * 16];
        var tb = new float[16 * 8];
        for (int lane = 0; lane < Lanes; lane++)
        {
            for (int i = 0; i < 8; i++) { var (r, k) = A(lane, i); ta[r * 16 + k] = fa[lane, i]; }
            for (int i = 0; i < 4; i++) { var (k, n) = B(lane, i); tb[k * 8 + n] = fb[lane, i]; }
        }
        var d = new float[16 * 8];
        for (int lane = 0; lane < Lanes; lane++)
            for (int i = 0; i < 4; i++)
            {
                var (r, n) = C(lane, i);
                float sum = fc[lane, i];
                for (int k = 0; k < 16; k++) sum += ta[r * 16 + k] * tb[k * 8 + n];
                d[r * 8 + n] = sum; // lane's d_i, stored through the C map
            }
        return d;
    }
}

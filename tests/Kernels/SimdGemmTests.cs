using LeadEngine.Kernels;

namespace LeadEngine.Tests.Kernels;

/// <summary>The SIMD backend's blocked product with B packed once (<see cref="SimdGemm.PackAll{TW}"/>), read whole and by its leading rows and columns.</summary>
public class SimdGemmTests
{
    // (packed depth, packed columns, product depth, product columns): within one panel, past one panel's
    // depth (256) and width (64), prefixes that end inside a strip, and a shallow operand (panels of its own depth).
    public static IEnumerable<object[]> Shapes() =>
        [[300, 100, 300, 100], [300, 100, 200, 70], [300, 100, 257, 33], [72, 300, 72, 130], [16, 40, 9, 40]];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void PackedPrefixMatchesReference(int packedDepth, int packedColumns, int k, int n)
    {
        const int m = 13;
        var a = Pinned(m * packedDepth, 1);
        var b = Pinned(packedDepth * packedColumns, 2);
        var c = Pinned(m * n, 3);
        var expected = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++) sum += (double)a[i * packedDepth + p] * b[p * packedColumns + j];
                expected[i * n + j] = (float)(0.5 * sum + c[i * n + j]);
            }
        var bOperand = Strided<F32>.RowMajor(HostSpan<float>.Pinned(b).As<F32>(), packedColumns);
        // Packed into a larger buffer at an offset, as attention packs every (sequence, KV head) into one.
        var into = new float[SimdGemm.PackedLength(packedColumns, packedDepth) + 5];
        var packed = SimdGemm.PackAll(bOperand, packedColumns, packedDepth, into, offset: 5);
        SimdGemm.Multiply(Strided<float>.RowMajor(HostSpan<float>.Pinned(a), packedDepth), bOperand, HostSpan<float>.Pinned(c), 0, n,
            m, n, k, 0.5f, accumulate: true, packed: packed);
        Close.Check(expected, c, 1e-5, $"packed {packedDepth}×{packedColumns} read as {k}×{n}");
    }

    [Fact]
    public void ProductPastThePackedOperandIsRefused()
    {
        var b = Pinned(8 * 8, 4);
        var bOperand = Strided<F32>.RowMajor(HostSpan<float>.Pinned(b).As<F32>(), 8);
        var packed = SimdGemm.PackAll(bOperand, 8, 8);
        var error = Assert.Throws<ArgumentException>(() => SimdGemm.Multiply(Strided<float>.RowMajor(HostSpan<float>.Pinned(Pinned(2 * 9, 5)), 9), bOperand,
            HostSpan<float>.Pinned(Pinned(2 * 8, 6)), 0, 8, 2, 8, 9, 1f, accumulate: false, packed: packed));
        Assert.Contains("packed as 8×8", error.Message, StringComparison.Ordinal);
    }

    private static float[] Pinned(int count, int seed) => KernelTestData.RandomPinned(count, seed);
}

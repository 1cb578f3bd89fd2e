using LeadEngine.Kernels;

namespace LeadEngine.Tests.Kernels;

/// <summary>The SIMD backend's rank-narrow products against double-precision loops, across tile, block and vector edges.</summary>
public class SimdRankProductsTests
{
    // (m, rank, depth or width): edges of every tile dimension; the last shapes run in parallel.
    public static IEnumerable<object[]> Shapes() =>
        [[1, 1, 1], [7, 5, 19], [70, 8, 37], [33, 3, 16], [300, 8, 300], [129, 16, 520]];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RowDotsMatchesReference(int m, int rank, int d)
    {
        var (x, r, output) = (Pinned(m * d, 1), Pinned(rank * d, 2), Pinned(m * rank, 3));
        var expected = new float[m * rank];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < rank; j++)
            {
                double sum = 0;
                for (int p = 0; p < d; p++) sum += (double)x[i * d + p] * r[j * d + p];
                expected[i * rank + j] = (float)(0.5 * sum + output[i * rank + j]);
            }
        SimdRankProducts.RowDots(Span(x), Span(r), Span(output), m, rank, d, 0.5f, accumulate: true);
        Close.Check(expected, output, 1e-5, $"RowDots {m}×{rank}×{d}");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void SumOuterMatchesReference(int m, int rank, int w)
    {
        foreach (bool transposed in new[] { false, true })
        {
            var (y, x, output) = (Pinned(m * rank, 4), Pinned(m * w, 5), Pinned(rank * w, 6));
            var expected = new float[rank * w];
            for (int j = 0; j < rank; j++)
                for (int q = 0; q < w; q++)
                {
                    double sum = 0;
                    for (int i = 0; i < m; i++) sum += (double)y[i * rank + j] * x[i * w + q];
                    int at = transposed ? q * rank + j : j * w + q;
                    expected[at] = (float)(2.0 * sum + output[at]);
                }
            SimdRankProducts.SumOuter(Span(y), Span(x), Span(output), m, rank, w, 2f, accumulate: true, transposedOutput: transposed);
            Close.Check(expected, output, 1e-5, $"SumOuter {m}×{rank}×{w} transposed {transposed}");
        }
    }

    private static float[] Pinned(int count, int seed) => KernelTestData.RandomPinned(count, seed);

    private static HostSpan<float> Span(float[] pinned) => HostSpan<float>.Pinned(pinned);
}

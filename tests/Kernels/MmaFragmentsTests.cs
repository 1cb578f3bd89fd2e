using LeadEngine.Kernels;

namespace LeadEngine.Tests.Kernels;

/// <summary>The m16n8k16 fragment maps, checked on the CPU before a tensor-core kernel uses them.</summary>
public sealed class MmaFragmentsTests
{
    /// <summary>Every element of A (16×16), B (16×8) and C (16×8) is held by exactly one (lane, register element).</summary>
    [Fact]
    public void EachMapCoversItsTileOnce()
    {
        static void Covers(Func<int, int, (int Row, int Col)> map, int perLane, int rows, int cols)
        {
            var seen = new int[rows, cols];
            for (int lane = 0; lane < MmaFragments.Lanes; lane++)
                for (int i = 0; i < perLane; i++)
                {
                    var (r, c) = map(lane, i);
                    Assert.InRange(r, 0, rows - 1);
                    Assert.InRange(c, 0, cols - 1);
                    seen[r, c]++;
                }
            foreach (int count in seen) Assert.Equal(1, count);
        }
        Covers(MmaFragments.A, 8, 16, 16);
        Covers(MmaFragments.B, 4, 16, 8);
        Covers(MmaFragments.C, 4, 16, 8);
        // Spot checks against the PTX ISA's figures: lane 5 is group 1, thread 1.
        Assert.Equal((1, 2), MmaFragments.A(5, 0));
        Assert.Equal((9, 11), MmaFragments.A(5, 7));
        Assert.Equal((10, 1), MmaFragments.B(5, 2));
        Assert.Equal((9, 3), MmaFragments.C(5, 3));
    }

    /// <summary>
    /// The register-level maps the kernels load with agree with the element maps (register j holds elements 2j and 2j + 1,
    /// the low one at the even column), and the inverse maps the emulation gathers with invert them.
    /// </summary>
    [Fact]
    public void RegisterAndInverseMapsAgreeWithTheElementMaps()
    {
        for (int lane = 0; lane < MmaFragments.Lanes; lane++)
        {
            for (int i = 0; i < 8; i++)
            {
                var (r, c) = MmaFragments.A(lane, i);
                Assert.Equal(r, MmaFragments.ARow(lane, i >> 1));
                Assert.Equal(c, 2 * MmaFragments.AWord(lane, i >> 1) + (i & 1));
                Assert.Equal(lane, MmaFragments.ALane(r, c));
                Assert.Equal(i, MmaFragments.AElement(r, c));
            }
            for (int i = 0; i < 4; i++)
            {
                var (k, n) = MmaFragments.B(lane, i);
                Assert.Equal(n, MmaFragments.BColumn(lane));
                Assert.Equal(k, 2 * MmaFragments.BWord(lane, i >> 1) + (i & 1));
                Assert.Equal(lane, MmaFragments.BLane(k, n));
                Assert.Equal(i, MmaFragments.BElement(k));
                Assert.Equal(MmaFragments.C(lane, i), (MmaFragments.CRow(lane, i), MmaFragments.CColumn(lane, i)));
            }
        }
    }

    /// <summary>One warp's D = A·B + C through the maps equals a plain matmul, for bf16-valued inputs.</summary>
    [Fact]
    public void AWarpsTileThroughTheMapsIsAPlainMatmul()
    {
        var rng = new Random(6);
        float Bf16() => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits((float)(rng.NextDouble() * 2 - 1)) & unchecked((int)0xFFFF0000));
        var a = Enumerable.Range(0, 256).Select(_ => Bf16()).ToArray();
        var b = Enumerable.Range(0, 128).Select(_ => Bf16()).ToArray();
        var c = Enumerable.Range(0, 128).Select(_ => (float)rng.NextDouble()).ToArray();
        var d = MmaFragments.Multiply(a, b, c);
        for (int r = 0; r < 16; r++)
            for (int n = 0; n < 8; n++)
            {
                double want = c[r * 8 + n];
                for (int k = 0; k < 16; k++) want += (double)a[r * 16 + k] * b[k * 8 + n];
                Assert.True(Math.Abs(want - d[r * 8 + n]) <= 1e-5, $"D[{r}, {n}] = {d[r * 8 + n]}, plain matmul {want}");
            }
    }
}

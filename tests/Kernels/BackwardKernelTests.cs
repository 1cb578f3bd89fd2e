using LeadEngine.Kernels;

namespace LeadEngine.Tests.Kernels;

/// <summary>
/// Finite-difference checks of every backward kernel: for L = Σ w ⊙ forward(x) with random w, the
/// analytic gradient from the backward kernel must match central differences of the forward kernel
/// at sampled coordinates (fp32 forward, so tolerance 1e-2 of the gradient's scale).
/// </summary>
public class BackwardKernelTests
{

    /// <summary>Compares <paramref name="analytic"/> with central differences of <paramref name="loss"/> at sampled coordinates of <paramref name="x"/>.</summary>
    internal static void FiniteDifference(string what, float[] x, Func<float[], double> loss, float[] analytic, int samples = 24, float eps = 1e-2f, double tolerance = 1e-2)
    {
        Assert.Equal(x.Length, analytic.Length);
        double scale = analytic.Max(v => Math.Abs((double)v));
        Assert.True(scale > 0, $"{what}: analytic gradient is all zero");
        var rng = new Random(what.GetHashCode(StringComparison.Ordinal));
        for (int s = 0; s < samples; s++)
        {
            int i = s < x.Length ? (x.Length <= samples ? s : rng.Next(x.Length)) : rng.Next(x.Length);
            float saved = x[i];
            x[i] = saved + eps;
            double plus = loss(x);
            x[i] = saved - eps;
            double minus = loss(x);
            x[i] = saved;
            double numeric = (plus - minus) / (2 * eps);
            Assert.True(Math.Abs(numeric - analytic[i]) <= tolerance * scale,
                $"{what}[{i}]: finite difference {numeric:G6} vs analytic {analytic[i]:G6} (scale {scale:G3})");
        }
    }

    private static double Dot(float[] w, float[] y)
    {
        double sum = 0;
        for (int i = 0; i < w.Length; i++) sum += (double)w[i] * y[i];
        return sum;
    }


    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void MatMulInputAndLoraGradients(string deviceName)
    {
        var device = KernelTestData.Device(deviceName);
        int m = 7, n = 11, k = 13, rank = 3;
        float scale = 1.5f;
        var x = KernelTestData.Random(m * k, 30);
        var w = KernelTestData.Random(n * k, 31).Select(v => new F32(v)).ToArray();
        var a = KernelTestData.Random(rank * k, 32);
        var b = KernelTestData.Random(n * rank, 33);
        var upstream = KernelTestData.Random(m * n, 34);
        using var wb = device.Accelerator.Allocate1D(w);
        float[] Forward(float[] xv, float[] av, float[] bv)
        {
            using var xb = device.Accelerator.Allocate1D(xv);
            using var ab = device.Accelerator.Allocate1D(av);
            using var bb = device.Accelerator.Allocate1D(bv);
            using var ub = device.Accelerator.Allocate1D<float>(m * rank);
            using var yb = device.Accelerator.Allocate1D<float>(m * n);
            MatMulKernels.LaunchForward<F32>(device, xb.View, wb.View, ArrayView<F32>.Empty, ab.View, yb.View, ub.View, m, n, k, rank);
            LoraKernels.LaunchAddUpProjection(device, yb.View, ub.View, bb.View, m, n, rank, scale);
            return yb.GetAsArray1D();
        }

        using var xb = device.Accelerator.Allocate1D(x);
        using var ab = device.Accelerator.Allocate1D(a);
        using var bb = device.Accelerator.Allocate1D(b);
        using var ub = device.Accelerator.Allocate1D<float>(m * rank);
        using var yb = device.Accelerator.Allocate1D<float>(m * n);
        using var dy = device.Accelerator.Allocate1D(upstream);
        using var du = device.Accelerator.Allocate1D<float>(m * rank);
        using var dx = device.Accelerator.Allocate1D<float>(m * k);
        using var dA = device.Accelerator.Allocate1D<float>(rank * k);
        using var dB = device.Accelerator.Allocate1D<float>(n * rank);
        dA.MemSetToZero();
        dB.MemSetToZero();
        MatMulKernels.LaunchForward<F32>(device, xb.View, wb.View, ArrayView<F32>.Empty, ab.View, yb.View, ub.View, m, n, k, rank);
        LoraKernels.LaunchBackwardUp(device, dy.View, ub.View, bb.View, du.View, dB.View, m, n, rank, scale);
        LoraKernels.LaunchBackwardDown(device, du.View, xb.View, dA.View, m, k, rank);
        MatMulKernels.LaunchBackwardInput<F32>(device, dy.View, du.View, wb.View, ab.View, dx.View, m, n, k, rank, accumulate: false);

        FiniteDifference("dx", x, xv => Dot(upstream, Forward(xv, a, b)), dx.GetAsArray1D());
        FiniteDifference("dA", a, av => Dot(upstream, Forward(x, av, b)), dA.GetAsArray1D());
        FiniteDifference("dB", b, bv => Dot(upstream, Forward(x, a, bv)), dB.GetAsArray1D());
    }

    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void MatMulBackwardInputAccumulatesWithBf16Weights(string deviceName)
    {
        var device = KernelTestData.Device(deviceName);
        int m = 9, n = 21, k = 17;
        var (w, wf) = KernelTestData.RandomBf16(n * k, 35);
        var dyv = KernelTestData.Random(m * n, 36);
        var initial = KernelTestData.Random(m * k, 37);
        using var wb = device.Accelerator.Allocate1D(w);
        using var dy = device.Accelerator.Allocate1D(dyv);
        using var dx = device.Accelerator.Allocate1D(initial);
        MatMulKernels.LaunchBackwardInput<Bf16>(device, dy.View, ArrayView<float>.Empty, wb.View, ArrayView<float>.Empty, dx.View, m, n, k, 0, accumulate: true);
        var expected = new float[m * k];
        for (int i = 0; i < m; i++)
            for (int c = 0; c < k; c++)
            {
                double s = initial[i * k + c];
                for (int o = 0; o < n; o++) s += (double)dyv[i * n + o] * wf[o * k + c];
                expected[i * k + c] = (float)s;
            }
        Close.Check(expected, dx.GetAsArray1D(), 1e-5, "dx += dy·W");
    }

    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void RmsNormBackward(string deviceName)
    {
        var device = KernelTestData.Device(deviceName);
        int rows = 5, h = 19;
        var x = KernelTestData.Random(rows * h, 40, 2f);
        var (w, _) = KernelTestData.RandomBf16(h, 41);
        var upstream = KernelTestData.Random(rows * h, 42);
        using var wb = device.Accelerator.Allocate1D(w);
        float[] Forward(float[] xv)
        {
            using var xb = device.Accelerator.Allocate1D(xv);
            using var yb = device.Accelerator.Allocate1D<float>(rows * h);
            RmsNormKernels.LaunchForward<Bf16>(device, xb.View, wb.View, yb.View, rows, h, 1e-6f);
            return yb.GetAsArray1D();
        }
        using var xb = device.Accelerator.Allocate1D(x);
        using var dy = device.Accelerator.Allocate1D(upstream);
        using var dx = device.Accelerator.Allocate1D<float>(rows * h);
        dx.MemSetToZero();
        RmsNormKernels.LaunchBackward<Bf16>(device, xb.View, wb.View, dy.View, dx.View, rows, h, 1e-6f);
        FiniteDifference("rmsnorm dx", x, xv => Dot(upstream, Forward(xv)), dx.GetAsArray1D());
    }

    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void SwiGluBackward(string deviceName)
    {
        var device = KernelTestData.Device(deviceName);
        int n = 37;
        var g = KernelTestData.Random(n, 43, 4f);
        var u = KernelTestData.Random(n, 44, 2f);
        var upstream = KernelTestData.Random(n, 45);
        float[] Forward(float[] gv, float[] uv)
        {
            using var gb = device.Accelerator.Allocate1D(gv);
            using var ub = device.Accelerator.Allocate1D(uv);
            using var yb = device.Accelerator.Allocate1D<float>(n);
            SwiGluKernels.LaunchForward(device, gb.View, ub.View, yb.View, n);
            return yb.GetAsArray1D();
        }
        using var gb = device.Accelerator.Allocate1D(g);
        using var ub = device.Accelerator.Allocate1D(u);
        using var dy = device.Accelerator.Allocate1D(upstream);
        using var dg = device.Accelerator.Allocate1D<float>(n);
        using var du = device.Accelerator.Allocate1D<float>(n);
        SwiGluKernels.LaunchBackward(device, gb.View, ub.View, dy.View, dg.View, du.View, n);
        FiniteDifference("swiglu dgate", g, gv => Dot(upstream, Forward(gv, u)), dg.GetAsArray1D(), eps: 1e-3f);
        FiniteDifference("swiglu dup", u, uv => Dot(upstream, Forward(g, uv)), du.GetAsArray1D(), eps: 1e-3f);
    }

    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void RopeBackward(string deviceName)
    {
        var device = KernelTestData.Device(deviceName);
        int batch = 2, seqLen = 4, heads = 2, d = 18, rows = batch * seqLen; // half = 9: a vector and a tail
        var x = KernelTestData.Random(rows * heads * d, 46);
        var upstream = KernelTestData.Random(rows * heads * d, 47);
        var (cos, sin) = RopeKernels.BuildTable(seqLen, d, 1e4);
        using var cb = device.Accelerator.Allocate1D(cos);
        using var sb = device.Accelerator.Allocate1D(sin);
        float[] Forward(float[] xv)
        {
            using var xb = device.Accelerator.Allocate1D(xv);
            RopeKernels.LaunchForward(device, xb.View, cb.View, sb.View, rows, seqLen, heads, d);
            return xb.GetAsArray1D();
        }
        using var dx = device.Accelerator.Allocate1D(upstream);
        RopeKernels.LaunchBackward(device, dx.View, cb.View, sb.View, rows, seqLen, heads, d);
        FiniteDifference("rope dx", x, xv => Dot(upstream, Forward(xv)), dx.GetAsArray1D());
    }

    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void AttentionBackwardGqa(string deviceName) => AttentionBackward(KernelTestData.Device(deviceName), [11, 4], 11, 4, 2, 6);

    /// <summary>Past the SIMD backend's 64-row query blocks (its blocked products are what this checks).</summary>
    [Fact]
    public void AttentionBackwardAcrossQueryBlocks() => AttentionBackward(KernelTestData.Device("simd"), [140, 70], 140, 2, 1, 4);

    /// <summary>Past one block of the SIMD backend's packed kᵀ, vᵀ and k, in keys and in the head dim (see the forward test).</summary>
    [Fact]
    public void AttentionBackwardPastOnePackedBlock() => AttentionBackward(KernelTestData.Device("simd"), [300, 257], 300, 2, 1, 72);

    private static void AttentionBackward(ComputeDevice device, int[] lengths, int seqLen, int heads, int kvHeads, int d)
    {
        int rows = lengths.Length * seqLen;
        var q = KernelTestData.Random(rows * heads * d, 48);
        var k = KernelTestData.Random(rows * kvHeads * d, 49);
        var v = KernelTestData.Random(rows * kvHeads * d, 50);
        var upstream = KernelTestData.Random(rows * heads * d, 51);
        // Rows past a sequence's length are padding: their outputs are defined as zero and carry no loss.
        for (int b = 0; b < lengths.Length; b++)
            for (int t = lengths[b]; t < seqLen; t++)
                Array.Clear(upstream, (b * seqLen + t) * heads * d, heads * d);
        using var lb = device.Accelerator.Allocate1D(lengths);
        float[] Forward(float[] qv, float[] kv, float[] vv)
        {
            using var qb = device.Accelerator.Allocate1D(qv);
            using var kb = device.Accelerator.Allocate1D(kv);
            using var vb = device.Accelerator.Allocate1D(vv);
            using var ob = device.Accelerator.Allocate1D<float>(rows * heads * d);
            AttentionKernels.LaunchForward(device, qb.View, kb.View, vb.View, lb.View, ob.View, ArrayView<float>.Empty, lengths.Length, seqLen, heads, kvHeads, d);
            return ob.GetAsArray1D();
        }
        using var qb = device.Accelerator.Allocate1D(q);
        using var kb = device.Accelerator.Allocate1D(k);
        using var vb = device.Accelerator.Allocate1D(v);
        using var ob = device.Accelerator.Allocate1D<float>(rows * heads * d);
        using var lse = device.Accelerator.Allocate1D<float>(rows * heads);
        using var dO = device.Accelerator.Allocate1D(upstream);
        using var dq = device.Accelerator.Allocate1D<float>(rows * heads * d);
        using var dk = device.Accelerator.Allocate1D<float>(rows * kvHeads * d);
        using var dv = device.Accelerator.Allocate1D<float>(rows * kvHeads * d);
        using var dot = device.Accelerator.Allocate1D<float>(rows * heads);
        AttentionKernels.LaunchForward(device, qb.View, kb.View, vb.View, lb.View, ob.View, lse.View, lengths.Length, seqLen, heads, kvHeads, d);
        AttentionKernels.LaunchBackward(device, qb.View, kb.View, vb.View, lb.View, ob.View, lse.View, dO.View, dq.View, dk.View, dv.View, dot.View,
            lengths.Length, seqLen, heads, kvHeads, d);
        FiniteDifference("attention dq", q, qv => Dot(upstream, Forward(qv, k, v)), dq.GetAsArray1D(), samples: 40);
        FiniteDifference("attention dk", k, kv => Dot(upstream, Forward(q, kv, v)), dk.GetAsArray1D(), samples: 40);
        FiniteDifference("attention dv", v, vv => Dot(upstream, Forward(q, k, vv)), dv.GetAsArray1D(), samples: 40);
    }

    public static IEnumerable<object[]> HeadCases() => KernelTestData.Devices().SelectMany(d => new[] { new[] { d[0], 0 }, new[] { d[0], 5 } });

    [Theory]
    [MemberData(nameof(HeadCases))]
    public void HeadBackward(string deviceName, int featureCount)
    {
        var device = KernelTestData.Device(deviceName);
        int batch = 3, h = 9, vocab = 14, f = featureCount;
        var hidden = KernelTestData.Random(batch * h, 52);
        var lm = KernelTestData.Random(vocab * h, 53).Select(v => new F32(v)).ToArray();
        var sw = KernelTestData.Random(2 * h, 54);
        var sb = KernelTestData.Random(2, 55);
        var upLogits = KernelTestData.Random(batch * vocab, 56);
        var upScores = KernelTestData.Random(batch * 2, 57);
        var x = KernelTestData.Random(batch * f, 58);
        var fw = KernelTestData.Random(2 * f, 59);
        using var lmb = device.Accelerator.Allocate1D(lm);
        using var xb = device.Accelerator.Allocate1D(f > 0 ? x : [0f]);
        ArrayView<float> xView = f > 0 ? xb.View : ArrayView<float>.Empty;
        double Loss(float[] hv, float[] swv, float[] sbv, float[] fwv)
        {
            using var hb = device.Accelerator.Allocate1D(hv);
            using var swb = device.Accelerator.Allocate1D(swv);
            using var sbb = device.Accelerator.Allocate1D(sbv);
            using var fwb = device.Accelerator.Allocate1D(f > 0 ? fwv : [0f]);
            using var logits = device.Accelerator.Allocate1D<float>(batch * vocab);
            using var scores = device.Accelerator.Allocate1D<float>(batch * 2);
            HeadKernels.LaunchForward<F32>(device, hb.View, lmb.View, ArrayView<int>.Empty, swb.View, sbb.View, xView, f > 0 ? (ArrayView<float>)fwb.View : ArrayView<float>.Empty,
                logits.View, scores.View, batch, h, vocab);
            return Dot(upLogits, logits.GetAsArray1D()) + Dot(upScores, scores.GetAsArray1D());
        }
        using var hb = device.Accelerator.Allocate1D(hidden);
        using var swb = device.Accelerator.Allocate1D(sw);
        using var dLogits = device.Accelerator.Allocate1D(upLogits);
        using var dScores = device.Accelerator.Allocate1D(upScores);
        using var dLm = device.Accelerator.Allocate1D<float>(batch * h);
        using var dHidden = device.Accelerator.Allocate1D<float>(batch * h);
        using var dSw = device.Accelerator.Allocate1D<float>(2 * h);
        using var dSb = device.Accelerator.Allocate1D<float>(2);
        using var dFw = device.Accelerator.Allocate1D<float>(Math.Max(1, 2 * f));
        dHidden.MemSet(0xFF); // Backward overwrites every row
        dSw.MemSetToZero();
        dSb.MemSetToZero();
        dFw.MemSetToZero();
        MatMulKernels.LaunchBackwardInput<F32>(device, dLogits.View, ArrayView<float>.Empty, lmb.View, ArrayView<float>.Empty, dLm.View, batch, vocab, h, 0, accumulate: false);
        HeadKernels.LaunchBackward(device, hb.View, dLm.View, swb.View, dScores.View, dHidden.View, dSw.View, dSb.View,
            xView, f > 0 ? (ArrayView<float>)dFw.View : ArrayView<float>.Empty, batch, h);
        var dh = dHidden.GetAsArray1D();
        FiniteDifference("head dhidden", hidden, hv => Loss(hv, sw, sb, fw), dh, samples: 45);
        FiniteDifference("head dWs", sw, swv => Loss(hidden, swv, sb, fw), dSw.GetAsArray1D());
        FiniteDifference("head dbs", sb, sbv => Loss(hidden, sw, sbv, fw), dSb.GetAsArray1D());
        if (f > 0) FiniteDifference("head dV (features)", fw, fwv => Loss(hidden, sw, sb, fwv), dFw.GetAsArray1D());
    }
}

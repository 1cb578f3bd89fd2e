using LeadEngine.Kernels;

namespace LeadEngine.Tests.Kernels;

/// <summary>RMSNorm, RoPE, embedding, SwiGLU and residual kernels against plain C#.</summary>
public class NormRopeKernelTests
{
    /// <summary>Reference RMSNorm (double statistics).</summary>
    public static float[] RmsNormReference(float[] x, float[] w, int rows, int h, float eps)
    {
        var y = new float[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double ss = 0;
            for (int i = 0; i < h; i++) ss += (double)x[r * h + i] * x[r * h + i];
            double inv = 1 / Math.Sqrt(ss / h + eps);
            for (int i = 0; i < h; i++) y[r * h + i] = (float)(x[r * h + i] * inv * w[i]);
        }
        return y;
    }

    /// <summary>Reference rotate-half RoPE (double angles), positions = index within the sequence.</summary>
    public static float[] RopeReference(float[] x, int rows, int seqLen, int heads, int d, double theta)
    {
        var y = (float[])x.Clone();
        int half = d / 2;
        for (int r = 0; r < rows; r++)
            for (int hd = 0; hd < heads; hd++)
                for (int i = 0; i < half; i++)
                {
                    double angle = (r % seqLen) * Math.Pow(theta, -2.0 * i / d);
                    int o = (r * heads + hd) * d + i;
                    double x1 = x[o], x2 = x[o + half];
                    y[o] = (float)(x1 * Math.Cos(angle) - x2 * Math.Sin(angle));
                    y[o + half] = (float)(x2 * Math.Cos(angle) + x1 * Math.Sin(angle));
                }
        return y;
    }

    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void RmsNormOddHidden(string deviceName)
    {
        var device = KernelTestData.Device(deviceName);
        int rows = 300, h = 37; // the SIMD backend splits these rows into two blocks
        var x = KernelTestData.Random(rows * h, 11, 3f);
        var (w, wf) = KernelTestData.RandomBf16(h, 12);
        using var xb = device.Accelerator.Allocate1D(x);
        using var wb = device.Accelerator.Allocate1D(w);
        using var yb = device.Accelerator.Allocate1D<float>(rows * h);
        RmsNormKernels.LaunchForward<Bf16>(device, xb.View, wb.View, yb.View, rows, h, 1e-6f);
        Close.Check(RmsNormReference(x, wf, rows, h, 1e-6f), yb.GetAsArray1D(), 1e-6, "rmsnorm");
    }

    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void RopeMatchesDoublePrecisionReference(string deviceName)
    {
        var device = KernelTestData.Device(deviceName);
        // half = 13: one 8-lane vector and a scalar tail per head; 150 rows are two SIMD blocks.
        int batch = 3, seqLen = 50, heads = 3, d = 26, rows = batch * seqLen;
        var x = KernelTestData.Random(rows * heads * d, 13);
        using var xb = device.Accelerator.Allocate1D(x);
        var (cos, sin) = RopeKernels.BuildTable(seqLen, d, 1e6);
        using var cb = device.Accelerator.Allocate1D(cos);
        using var sb = device.Accelerator.Allocate1D(sin);
        RopeKernels.LaunchForward(device, xb.View, cb.View, sb.View, rows, seqLen, heads, d);
        Close.Check(RopeReference(x, rows, seqLen, heads, d, 1e6), xb.GetAsArray1D(), 1e-5, "rope");
    }

    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void EmbeddingGathersRows(string deviceName)
    {
        var device = KernelTestData.Device(deviceName);
        int vocab = 17, h = 9;
        var (table, tableF) = KernelTestData.RandomBf16(vocab * h, 14);
        int[] ids = [3, 0, 16, 3, 7];
        using var ib = device.Accelerator.Allocate1D(ids);
        using var tb = device.Accelerator.Allocate1D(table);
        using var yb = device.Accelerator.Allocate1D<float>(ids.Length * h);
        EmbeddingKernels.LaunchForward<Bf16>(device, ib.View, tb.View, yb.View, ids.Length, h);
        var expected = ids.SelectMany(id => tableF.Skip(id * h).Take(h)).ToArray();
        Assert.Equal(expected, yb.GetAsArray1D());
    }

    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void GatherAndScatterRows(string deviceName)
    {
        var device = KernelTestData.Device(deviceName);
        int width = 11;
        var source = KernelTestData.Random(6 * width, 17);
        int[] rows = [5, 0, 2];
        using var ib = device.Accelerator.Allocate1D(rows);
        using var sb = device.Accelerator.Allocate1D(source);
        using var yb = device.Accelerator.Allocate1D<float>(rows.Length * width);
        EmbeddingKernels.LaunchGatherRows(device, ib.View, sb.View, yb.View, rows.Length, width);
        var gathered = yb.GetAsArray1D();
        Assert.Equal(rows.SelectMany(r => source.Skip(r * width).Take(width)).ToArray(), gathered);

        // The scatter puts them back and leaves the other rows alone.
        var target = Enumerable.Repeat(-1f, 6 * width).ToArray();
        using var tb = device.Accelerator.Allocate1D(target);
        EmbeddingKernels.LaunchScatterRows(device, ib.View, yb.View, tb.View, rows.Length, width);
        var scattered = tb.GetAsArray1D();
        for (int r = 0; r < 6; r++)
        {
            int at = Array.IndexOf(rows, r);
            var expected = at >= 0 ? gathered.AsSpan(at * width, width).ToArray() : Enumerable.Repeat(-1f, width).ToArray();
            Assert.Equal(expected, scattered.AsSpan(r * width, width).ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void SwiGluAndResidual(string deviceName)
    {
        var device = KernelTestData.Device(deviceName);
        int n = 101;
        var g = KernelTestData.Random(n, 15, 6f);
        var u = KernelTestData.Random(n, 16, 2f);
        using var gb = device.Accelerator.Allocate1D(g);
        using var ub = device.Accelerator.Allocate1D(u);
        using var yb = device.Accelerator.Allocate1D<float>(n);
        SwiGluKernels.LaunchForward(device, gb.View, ub.View, yb.View, n);
        var expected = g.Select((v, i) => (float)(v / (1 + Math.Exp(-v)) * u[i])).ToArray();
        Close.Check(expected, yb.GetAsArray1D(), 1e-6, "swiglu");
        ResidualKernels.LaunchForward(device, gb.View, ub.View, n);
        Close.Check(g.Select((v, i) => v + u[i]).ToArray(), gb.GetAsArray1D(), 1e-7, "residual");
    }

    /// <summary>
    /// SiLU at the ends of fp32's exp range (the SIMD backend's exp clamps its input to [−87.3, 88]):
    /// each value checked on its own scale, forward and backward, against the double-precision formula.
    /// </summary>
    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void SwiGluSaturates(string deviceName)
    {
        var device = KernelTestData.Device(deviceName);
        float[] g = [-200f, -100f, -88.5f, -87f, -30f, -1e-3f, 0f, 1e-3f, 30f, 87f, 88.5f, 100f, 200f, -5f, 5f, 0.5f, -0.5f];
        var u = g.Select((_, i) => 0.5f + i).ToArray();
        var dy = g.Select((_, i) => 1f - 0.1f * i).ToArray();
        int n = g.Length;
        using var gb = device.Accelerator.Allocate1D(g);
        using var ub = device.Accelerator.Allocate1D(u);
        using var dyb = device.Accelerator.Allocate1D(dy);
        using var yb = device.Accelerator.Allocate1D<float>(n);
        using var dgb = device.Accelerator.Allocate1D<float>(n);
        using var dub = device.Accelerator.Allocate1D<float>(n);
        SwiGluKernels.LaunchForward(device, gb.View, ub.View, yb.View, n);
        SwiGluKernels.LaunchBackward(device, gb.View, ub.View, dyb.View, dgb.View, dub.View, n);
        var (y, dg, du) = (yb.GetAsArray1D(), dgb.GetAsArray1D(), dub.GetAsArray1D());
        for (int i = 0; i < n; i++)
        {
            double sig = 1 / (1 + Math.Exp(-(double)g[i]));
            Near(g[i] * sig * u[i], y[i], $"swiglu({g[i]})");
            Near(dy[i] * g[i] * sig, du[i], $"dup({g[i]})");
            Near(dy[i] * u[i] * sig * (1 + g[i] * (1 - sig)), dg[i], $"dgate({g[i]})");
        }

        // Relative 1e-6, or absolutely below 1e-30 where the exact value is (nearly) 0.
        static void Near(double expected, float actual, string what) =>
            Assert.True(Math.Abs(actual - expected) <= 1e-6 * Math.Abs(expected) + 1e-30, $"{what}: expected {expected:E6}, got {actual:E6}");
    }
}

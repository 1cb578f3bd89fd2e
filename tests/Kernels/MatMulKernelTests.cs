using LeadEngine.Kernels;

namespace LeadEngine.Tests.Kernels;

/// <summary>Tiled matmul with bias and fused LoRA down path, plus the LoRA up projection.</summary>
public class MatMulKernelTests
{
    /// <summary>Plain C# reference: y = x·Wᵀ + bias + scale·(x·Aᵀ)·Bᵀ.</summary>
    public static float[] Reference(float[] x, float[] w, float[]? bias, float[]? a, float[]? b, float scale, int m, int n, int k, int rank)
    {
        var y = new float[m * n];
        for (int i = 0; i < m; i++)
        {
            var u = new double[rank];
            for (int j = 0; j < rank; j++)
                for (int c = 0; c < k; c++) u[j] += (double)x[i * k + c] * a![j * k + c];
            for (int o = 0; o < n; o++)
            {
                double s = bias?[o] ?? 0;
                for (int c = 0; c < k; c++) s += (double)x[i * k + c] * w[o * k + c];
                for (int j = 0; j < rank; j++) s += scale * u[j] * b![o * rank + j];
                y[i * n + o] = (float)s;
            }
        }
        return y;
    }

    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void Bf16WeightsWithBiasOddSizes(string deviceName)
    {
        var device = KernelTestData.Device(deviceName);
        int m = 37, n = 53, k = 29;
        var x = KernelTestData.Random(m * k, 1);
        var (w, wf) = KernelTestData.RandomBf16(n * k, 2);
        var (bias, biasF) = KernelTestData.RandomBf16(n, 3);
        using var xb = device.Accelerator.Allocate1D(x);
        using var wb = device.Accelerator.Allocate1D(w);
        using var bb = device.Accelerator.Allocate1D(bias);
        using var yb = device.Accelerator.Allocate1D<float>(m * n);
        MatMulKernels.LaunchForward<Bf16>(device, xb.View, wb.View, bb.View, ArrayView<float>.Empty, yb.View, ArrayView<float>.Empty, m, n, k, 0);
        Close.Check(Reference(x, wf, biasF, null, null, 0, m, n, k, 0), yb.GetAsArray1D(), 1e-5, "matmul bf16");
    }

    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void F32AndF16WeightsWithoutBias(string deviceName)
    {
        var device = KernelTestData.Device(deviceName);
        int m = 5, n = 70, k = 33;
        var x = KernelTestData.Random(m * k, 4);
        var wf = KernelTestData.Random(n * k, 5);
        using var xb = device.Accelerator.Allocate1D(x);
        using var w32 = device.Accelerator.Allocate1D(wf.Select(v => new F32(v)).ToArray());
        // Stored fp16 bits (System.Half rounding), widened by the kernel's F16 and by System.Half alike.
        var halves = wf.Select(v => (System.Half)v).ToArray();
        using var w16 = device.Accelerator.Allocate1D(System.Runtime.InteropServices.MemoryMarshal.Cast<System.Half, F16>(halves).ToArray());
        using var yb = device.Accelerator.Allocate1D<float>(m * n);
        MatMulKernels.LaunchForward(device, xb.View, w32.View, ArrayView<F32>.Empty, ArrayView<float>.Empty, yb.View, ArrayView<float>.Empty, m, n, k, 0);
        Close.Check(Reference(x, wf, null, null, null, 0, m, n, k, 0), yb.GetAsArray1D(), 1e-5, "matmul f32");
        var halfWidened = halves.Select(v => (float)v).ToArray();
        MatMulKernels.LaunchForward(device, xb.View, w16.View, ArrayView<F16>.Empty, ArrayView<float>.Empty, yb.View, ArrayView<float>.Empty, m, n, k, 0);
        Close.Check(Reference(x, halfWidened, null, null, null, 0, m, n, k, 0), yb.GetAsArray1D(), 1e-5, "matmul f16");
    }

    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void LoraPathFusedIntoTheSamePass(string deviceName)
    {
        var device = KernelTestData.Device(deviceName);
        int m = 19, n = 23, k = 41, rank = 3;
        float scale = 2.5f;
        var x = KernelTestData.Random(m * k, 6);
        var w = KernelTestData.Random(n * k, 7);
        var bias = KernelTestData.Random(n, 8);
        var a = KernelTestData.Random(rank * k, 9);
        var b = KernelTestData.Random(n * rank, 10);
        using var xb = device.Accelerator.Allocate1D(x);
        using var wb = device.Accelerator.Allocate1D(w.Select(v => new F32(v)).ToArray());
        using var bb = device.Accelerator.Allocate1D(bias.Select(v => new F32(v)).ToArray());
        using var ab = device.Accelerator.Allocate1D(a);
        using var bbLora = device.Accelerator.Allocate1D(b);
        using var ub = device.Accelerator.Allocate1D<float>(m * rank);
        using var yb = device.Accelerator.Allocate1D<float>(m * n);
        MatMulKernels.LaunchForward<F32>(device, xb.View, wb.View, bb.View, ab.View, yb.View, ub.View, m, n, k, rank);
        LoraKernels.LaunchAddUpProjection(device, yb.View, ub.View, bbLora.View, m, n, rank, scale);
        Close.Check(Reference(x, w, bias, a, b, scale, m, n, k, rank), yb.GetAsArray1D(), 1e-5, "matmul + LoRA");
    }

    /// <summary>A LoRA rank deeper than one panel (256): the up-projection runs as a second product into y.</summary>
    [Fact]
    public void LoraRankOverOnePanel()
    {
        var device = KernelTestData.Device("simd");
        int m = 7, n = 20, k = 30, rank = 260;
        var x = KernelTestData.Random(m * k, 31);
        var w = KernelTestData.Random(n * k, 32);
        var a = KernelTestData.Random(rank * k, 33);
        var b = KernelTestData.Random(n * rank, 34);
        using var xb = device.Accelerator.Allocate1D(x);
        using var wb = device.Accelerator.Allocate1D(w.Select(v => new F32(v)).ToArray());
        using var ab = device.Accelerator.Allocate1D(a);
        using var bb = device.Accelerator.Allocate1D(b);
        using var ub = device.Accelerator.Allocate1D<float>(m * rank);
        using var yb = device.Accelerator.Allocate1D<float>(m * n);
        MatMulKernels.LaunchForward<F32>(device, xb.View, wb.View, ArrayView<F32>.Empty, ab.View, yb.View, ub.View, m, n, k, rank,
            frozenWeights: false, bb.View, 0.25f);
        Close.Check(Reference(x, w, null, a, b, 0.25f, m, n, k, rank), yb.GetAsArray1D(), 1e-5, "rank 260 LoRA");
    }

    /// <summary>Shapes past one K block (256) and several 64-column blocks, with rows not a multiple of the 6-row tile.</summary>
    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void DeepAndWideShapesForwardAndInputGradient(string deviceName)
    {
        var device = KernelTestData.Device(deviceName);
        int m = 14, n = 150, k = 600, rank = 5;
        var x = KernelTestData.Random(m * k, 11);
        var (w, wf) = KernelTestData.RandomBf16(n * k, 12);
        var a = KernelTestData.Random(rank * k, 13);
        var dy = KernelTestData.Random(m * n, 14);
        var du = KernelTestData.Random(m * rank, 15);
        using var xb = device.Accelerator.Allocate1D(x);
        using var wb = device.Accelerator.Allocate1D(w);
        using var ab = device.Accelerator.Allocate1D(a);
        using var ub = device.Accelerator.Allocate1D<float>(m * rank);
        using var yb = device.Accelerator.Allocate1D<float>(m * n);
        MatMulKernels.LaunchForward<Bf16>(device, xb.View, wb.View, ArrayView<Bf16>.Empty, ab.View, yb.View, ub.View, m, n, k, rank);
        Close.Check(Reference(x, wf, null, null, null, 0, m, n, k, 0), yb.GetAsArray1D(), 1e-5, "deep matmul y");
        Close.Check(Reference(x, a, null, null, null, 0, m, rank, k, 0), ub.GetAsArray1D(), 1e-5, "deep matmul u");

        // With B given, the launch also adds the up-projection (fused on the SIMD backend).
        var loraB = KernelTestData.Random(n * rank, 16);
        using var loraBb = device.Accelerator.Allocate1D(loraB);
        MatMulKernels.LaunchForward<Bf16>(device, xb.View, wb.View, ArrayView<Bf16>.Empty, ab.View, yb.View, ub.View, m, n, k, rank,
            frozenWeights: false, loraBb.View, 1.5f);
        Close.Check(Reference(x, wf, null, a, loraB, 1.5f, m, n, k, rank), yb.GetAsArray1D(), 1e-5, "deep matmul + fused LoRA");

        var expected = new float[m * k];
        for (int i = 0; i < m; i++)
            for (int c = 0; c < k; c++)
            {
                double s = 1.0; // the launch accumulates onto ones
                for (int o = 0; o < n; o++) s += (double)dy[i * n + o] * wf[o * k + c];
                for (int j = 0; j < rank; j++) s += (double)du[i * rank + j] * a[j * k + c];
                expected[i * k + c] = (float)s;
            }
        using var dyb = device.Accelerator.Allocate1D(dy);
        using var dub = device.Accelerator.Allocate1D(du);
        using var dxb = device.Accelerator.Allocate1D(Enumerable.Repeat(1f, m * k).ToArray());
        MatMulKernels.LaunchBackwardInput<Bf16>(device, dyb.View, dub.View, wb.View, ab.View, dxb.View, m, n, k, rank, accumulate: true);
        Close.Check(expected, dxb.GetAsArray1D(), 1e-5, "deep matmul dx");
    }

    /// <summary>
    /// Frozen (packed once) weights with the up-projection fused: rows past the SIMD backend's 192-row
    /// block and not a multiple of the 6-row tile, columns ending mid-strip, two K blocks; and a rank
    /// too deep to fuse (over 256), which takes the separate accumulate pass.
    /// </summary>
    [Theory]
    [MemberData(nameof(KernelTestData.Devices), MemberType = typeof(KernelTestData))]
    public void FrozenWeightsPastOneRowBlockWithFusedAndDeepLora(string deviceName)
    {
        var device = KernelTestData.Device(deviceName);
        foreach (var (m, n, k, rank) in new[] { (200, 100, 300, 8), (13, 37, 70, 260) })
        {
            var x = KernelTestData.Random(m * k, 21);
            var (w, wf) = KernelTestData.RandomBf16(n * k, 22);
            var a = KernelTestData.Random(rank * k, 23);
            var b = KernelTestData.Random(n * rank, 24);
            using var xb = device.Accelerator.Allocate1D(x);
            using var wb = device.Accelerator.Allocate1D(w);
            using var ab = device.Accelerator.Allocate1D(a);
            using var bb = device.Accelerator.Allocate1D(b);
            using var ub = device.Accelerator.Allocate1D<float>(m * rank);
            using var yb = device.Accelerator.Allocate1D<float>(m * n);
            var expected = Reference(x, wf, null, a, b, 0.75f, m, n, k, rank);
            for (int call = 0; call < 2; call++) // the second call reuses the packed copy
            {
                MatMulKernels.LaunchForward<Bf16>(device, xb.View, wb.View, ArrayView<Bf16>.Empty, ab.View, yb.View, ub.View, m, n, k, rank,
                    frozenWeights: true, bb.View, 0.75f);
                Close.Check(expected, yb.GetAsArray1D(), 1e-5, $"frozen {m}x{n}x{k} rank {rank}, call {call}");
            }
            device.ReleasePackedWeights();
        }
    }
}

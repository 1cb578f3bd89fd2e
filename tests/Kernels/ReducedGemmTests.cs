using LeadEngine.Engine;
using LeadEngine.Kernels;

namespace LeadEngine.Tests.Kernels;

/// <summary>
/// The reduced-precision products of the SIMD backend (<see cref="Precision.Bf16"/>, <see cref="Precision.Int8"/>) against
/// the plain C# reference on operands rounded or quantized as they are (so only the fp32 summation order differs): the
/// assembled tiles where the CPU has the instruction (<c>vdpbf16ps</c>, <c>vpdpbusd</c>), and the managed tiles everywhere.
/// </summary>
public sealed class ReducedGemmTests(ITestOutputHelper output)
{
    /// <summary>
    /// Ragged rows (not a multiple of 6; with 1,201 rows each task's share spans two row blocks of 192), columns over two panels and an edge strip,
    /// a depth over two blocks that is not whole words.
    /// </summary>
    [Theory]
    [InlineData(Precision.Bf16, 13, 301, true)]
    [InlineData(Precision.Bf16, 13, 301, false)]
    [InlineData(Precision.Bf16, 1201, 301, true)]
    [InlineData(Precision.Int8, 13, 603, true)]
    [InlineData(Precision.Int8, 13, 603, false)]
    [InlineData(Precision.Int8, 1201, 603, true)]
    public void ProductMatchesTheReferenceOnReducedOperands(Precision precision, int m, int k, bool instruction)
    {
        if (instruction && !ReducedGemm.UsesInstruction(precision)) output.WriteLine($"no {precision} instruction here: both cases run the managed tile");
        const int n = 70;
        var a = GC.AllocateArray<float>(m * k, pinned: true);
        KernelTestData.Random(m * k, 51).CopyTo(a, 0);
        a[5] = 40f; // an outlier: its block's scale is coarse, the other block's is not
        var w = KernelTestData.Random(n * k, 52); // [n, k]: the product is a·wᵀ
        var stored = GC.AllocateArray<F32>(n * k, pinned: true);
        for (int i = 0; i < stored.Length; i++) stored[i] = new F32(w[i]);
        var packed = ReducedGemm.PackAll(Strided<F32>.Transposed(HostSpan<F32>.Pinned(stored), k), n, k, precision);
        GC.KeepAlive(stored); // read through a raw pointer: keep it until packed
        // 2 (bf16) or 4 (int8) values per 4-byte word: a half or a quarter of fp32 panels' footprint.
        Assert.Equal((n + 63) / 64 * 2 * 128 * 64, packed.Data.Length);
        var c = GC.AllocateArray<float>(m * n, pinned: true);
        ReducedGemm.Multiply(HostSpan<float>.Pinned(a), packed, HostSpan<float>.Pinned(c), m, n, k, instruction);
        var (ar, wr) = precision == Precision.Bf16
            ? (KernelTestData.RoundToBf16(a), KernelTestData.RoundToBf16(w))
            : (QuantizedInt8(a, m, k, 512), QuantizedInt8(w, n, k, 512));
        Close.Check(MatMulKernelTests.Reference(ar, wr, null, null, null, 0, m, n, k, 0), c, 1e-5, $"{precision} product");
        GC.KeepAlive(a);
        GC.KeepAlive(c);
    }

    /// <summary>
    /// Rows of <paramref name="values"/> ([rows, k]) as int8 dequantizes them: per block of <paramref name="block"/> values,
    /// q = round(v·127/max|v|) (ties to even) times max|v|/127.
    /// </summary>
    private static float[] QuantizedInt8(float[] values, int rows, int k, int block)
    {
        var result = new float[values.Length];
        for (int r = 0; r < rows; r++)
            for (int k0 = 0; k0 < k; k0 += block)
            {
                var part = values.AsSpan(r * k + k0, Math.Min(block, k - k0));
                float max = 0;
                foreach (var v in part) max = Math.Max(max, Math.Abs(v));
                float scale = max / 127f, inverse = max > 0 ? 127f / max : 0f;
                for (int i = 0; i < part.Length; i++) result[r * k + k0 + i] = MathF.Round(part[i] * inverse) * scale;
            }
        return result;
    }

    /// <summary>Through the op layer on a device set to a reduced precision: stored bf16 weights with a bias, and a frozen adapter folded in.</summary>
    [Theory]
    [InlineData(Precision.Bf16)]
    [InlineData(Precision.Int8)]
    public void FrozenProjectionsRunReducedWithBiasAndFoldedAdapter(Precision precision)
    {
        using var device = ComputeDevice.Open(DeviceKind.Cpu, precision: precision);
        int m = 9, n = 40, k = 48, rank = 4;
        float scale = 0.5f;
        var x = KernelTestData.Random(m * k, 53);
        var (w, wf) = KernelTestData.RandomBf16(n * k, 54);
        var (bias, biasF) = KernelTestData.RandomBf16(n, 55);
        var loraA = KernelTestData.Random(rank * k, 56);
        var loraB = KernelTestData.Random(n * rank, 57);
        using var xb = device.Accelerator.Allocate1D(x);
        using var wb = device.Accelerator.Allocate1D(w);
        using var bb = device.Accelerator.Allocate1D(bias);
        using var ab = device.Accelerator.Allocate1D(loraA);
        using var lb = device.Accelerator.Allocate1D(loraB);
        using var ub = device.Accelerator.Allocate1D<float>(m * rank);
        using var yb = device.Accelerator.Allocate1D<float>(m * n);
        // Operands as the packed copy and the per-call conversion hold them: rounded to bf16, or quantized per row of x and per output column of w, in 512-deep blocks.
        float[] Activations(float[] v) => precision == Precision.Bf16 ? KernelTestData.RoundToBf16(v) : QuantizedInt8(v, m, k, 512);
        float[] Weights(float[] v) => precision == Precision.Bf16 ? KernelTestData.RoundToBf16(v) : QuantizedInt8(v, n, k, 512);

        MatMulKernels.LaunchForward<Bf16>(device, xb.View, wb.View, bb.View, ArrayView<float>.Empty, yb.View, ArrayView<float>.Empty, m, n, k, 0, frozenWeights: true);
        Close.Check(MatMulKernelTests.Reference(Activations(x), Weights(wf), biasF, null, null, 0, m, n, k, 0), yb.GetAsArray1D(), 1e-5, $"{precision} projection");

        MatMulKernels.LaunchForward<Bf16>(device, xb.View, wb.View, bb.View, ab.View, yb.View, ub.View, m, n, k, rank,
            frozenWeights: true, loraB: lb.View, loraScale: scale, loraFoldId: 7);
        var merged = new float[n * k];
        for (int o = 0; o < n; o++)
            for (int c = 0; c < k; c++)
            {
                double sum = wf[o * k + c];
                for (int j = 0; j < rank; j++) sum += scale * (double)loraB[o * rank + j] * loraA[j * k + c];
                merged[o * k + c] = (float)sum;
            }
        // The folded weight is reduced once, as the packed copy holds it.
        Close.Check(MatMulKernelTests.Reference(Activations(x), Weights(merged), biasF, null, null, 0, m, n, k, 0), yb.GetAsArray1D(), 1e-5, $"{precision} projection with folded adapter");
    }

    /// <summary>The reference models' forward in each reduced precision: the golden last hidden state to that precision's accuracy.</summary>
    [Theory]
    [MemberData(nameof(ModelsAndPrecisions))]
    public void ReferenceModelsForwardWithinReducedAccuracyOfGolden(string model, Precision precision, double tolerance)
    {
        using var device = ComputeDevice.Open(DeviceKind.Cpu, precision: precision);
        double worst = KernelTestData.GoldenLastHiddenError(model, device, tolerance, $"in {precision}");
        output.WriteLine($"{model}: worst relative error {worst:E2} in {precision}");
    }

    /// <summary>
    /// A scoring-only device hands each frozen weight's stored copy back once packed: its results are those of a device
    /// that keeps them (bit for bit, twice over, the second time from the packed copies alone), and packing a released
    /// weight again, here for another precision, throws instead of reading the released pages.
    /// </summary>
    [Theory]
    [InlineData(Precision.F32)]
    [InlineData(Precision.Bf16)]
    [InlineData(Precision.Int8)]
    public void ScoringOnlyDevicesScoreAsOthersAndRefuseToRepack(Precision precision)
    {
        string model = Fixtures.Models.First();
        var sequences = Fixtures.Sequences(Fixtures.Golden(model));
        using var keeping = ComputeDevice.Open(DeviceKind.Cpu, precision: precision);
        using var kept = LeadEngine.Engine.QwenModel.Load(Fixtures.ModelDir(model), keeping);
        var expected = kept.Forward(sequences).LastHidden;
        using var device = ComputeDevice.Open(DeviceKind.Cpu, precision: precision);
        device.ScoringOnly = true;
        using var qwen = LeadEngine.Engine.QwenModel.Load(Fixtures.ModelDir(model), device);
        for (int pass = 0; pass < 2; pass++)
        {
            var hidden = qwen.Forward(sequences).LastHidden;
            for (int b = 0; b < expected.Length; b++) Assert.Equal(expected[b], hidden[b]);
        }
        device.Precision = precision == Precision.F32 ? Precision.Int8 : Precision.F32;
        var error = Assert.Throws<InvalidOperationException>(() => qwen.Forward(sequences));
        Assert.Contains("ScoringOnly", error.Message);
    }

    /// <summary>The reference models in bf16 (tolerance 2e-2) and int8 (5e-2).</summary>
    public static IEnumerable<object[]> ModelsAndPrecisions() =>
        Fixtures.Models.SelectMany(m => new[] { new object[] { m, Precision.Bf16, 2e-2 }, [m, Precision.Int8, 5e-2] });
}

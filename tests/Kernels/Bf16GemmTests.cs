using LeadEngine.Engine;
using LeadEngine.Kernels;

namespace LeadEngine.Tests.Kernels;

/// <summary>
/// The bf16 product of the SIMD backend (<see cref="Precision.Bf16"/>) against the plain C# reference on bf16-rounded
/// operands (so only the fp32 summation order differs): the assembled <c>vdpbf16ps</c> tile where the CPU has AVX-512
/// BF16, and the managed tile everywhere.
/// </summary>
public sealed class Bf16GemmTests(ITestOutputHelper output)
{
    /// <summary>Ragged rows (not a multiple of 6), columns over two panels and an edge strip, an odd depth over two pair blocks.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ProductMatchesTheReferenceOnRoundedOperands(bool instruction)
    {
        if (instruction && !Bf16Gemm.UsesInstruction) output.WriteLine("no AVX-512 BF16 here: both cases run the managed tile");
        int m = 13, n = 70, k = 301;
        var a = GC.AllocateArray<float>(m * k, pinned: true);
        KernelTestData.Random(m * k, 51).CopyTo(a, 0);
        var w = KernelTestData.Random(n * k, 52); // [n, k]: the product is a·wᵀ
        var stored = GC.AllocateArray<F32>(n * k, pinned: true);
        for (int i = 0; i < stored.Length; i++) stored[i] = new F32(w[i]);
        var packed = Bf16Gemm.PackAll(Strided<F32>.Transposed(HostSpan<F32>.Pinned(stored), k), n, k);
        GC.KeepAlive(stored); // read through a raw pointer: keep it until packed
        Assert.Equal((n + 63) / 64 * 2 * 128 * 64, packed.Data.Length); // half the 4-byte panels' footprint: pairs, not floats
        var c = GC.AllocateArray<float>(m * n, pinned: true);
        Bf16Gemm.Multiply(HostSpan<float>.Pinned(a), packed, HostSpan<float>.Pinned(c), m, n, k, instruction);
        Close.Check(MatMulKernelTests.Reference(KernelTestData.RoundToBf16(a), KernelTestData.RoundToBf16(w), null, null, null, 0, m, n, k, 0), c, 1e-5, "bf16 product");
    }

    /// <summary>Through the op layer on a device set to bf16: stored bf16 weights with a bias, and a frozen adapter folded in.</summary>
    [Fact]
    public void FrozenProjectionsRunInBf16WithBiasAndFoldedAdapter()
    {
        using var device = ComputeDevice.Open(DeviceKind.Cpu, precision: Precision.Bf16);
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
        var xr = KernelTestData.RoundToBf16(x);

        MatMulKernels.LaunchForward<Bf16>(device, xb.View, wb.View, bb.View, ArrayView<float>.Empty, yb.View, ArrayView<float>.Empty, m, n, k, 0, frozenWeights: true);
        Close.Check(MatMulKernelTests.Reference(xr, wf, biasF, null, null, 0, m, n, k, 0), yb.GetAsArray1D(), 1e-5, "bf16 projection");

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
        // The folded weight is rounded to bf16 once, as the packed copy holds it.
        Close.Check(MatMulKernelTests.Reference(xr, KernelTestData.RoundToBf16(merged), biasF, null, null, 0, m, n, k, 0), yb.GetAsArray1D(), 1e-5, "bf16 projection with folded adapter");
    }

    /// <summary>The reference models' forward in bf16: the golden last hidden state to bf16 accuracy.</summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void ReferenceModelsForwardWithinBf16OfGolden(string model)
    {
        using var device = ComputeDevice.Open(DeviceKind.Cpu, precision: Precision.Bf16);
        double worst = KernelTestData.GoldenLastHiddenError(model, device, 2e-2, "in bf16");
        output.WriteLine($"{model}: worst relative error {worst:E2} in bf16");
    }

    /// <summary>The reference models.</summary>
    public static IEnumerable<object[]> Models() => Fixtures.Models.Select(m => new object[] { m });
}

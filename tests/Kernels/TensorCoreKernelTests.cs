using LeadEngine.Engine;
using LeadEngine.Kernels;

namespace LeadEngine.Tests.Kernels;

/// <summary>
/// The BF16 tensor-core kernels against the plain C# references: on ILGPU's CPU accelerator with the instruction
/// emulated through the fragment maps (always), and with the instruction itself on CUDA when the test devices include
/// cuda (the GPU script). Operands are rounded to bf16 before the reference sees them, so the projection matches it to
/// f32 summation order; attention also rounds P to bf16 (2⁻⁹ relative per weight: 1.3e-3 of the output's scale measured, 4e-3 allowed).
/// </summary>
public sealed class TensorCoreKernelTests
{
    /// <summary>The emulation, and CUDA's tensor cores where the GPU script runs the tests.</summary>
    public static IEnumerable<object[]> Devices()
    {
        yield return ["ilgpu-tensor-cores"];
        if (Fixtures.TestDevices.Contains("cuda")) yield return ["cuda-tensor-cores"];
    }

    /// <summary>Two blocks each way with ragged edges, a bias, and LoRA rows: y and the down projection u both checked.</summary>
    [Theory]
    [MemberData(nameof(Devices))]
    public void ProjectionWithBiasAndLoraRowsOverRaggedBlocks(string deviceName)
    {
        var device = Fixtures.Backend(deviceName);
        int m = 70, n = 75, k = 45, rank = 3;
        var x = KernelTestData.Random(m * k, 31);
        var (w, wf) = KernelTestData.RandomBf16(n * k, 32);
        var (bias, biasF) = KernelTestData.RandomBf16(n, 33);
        var loraA = KernelTestData.Random(rank * k, 34);
        using var xb = device.Accelerator.Allocate1D(x);
        using var wb = device.Accelerator.Allocate1D(w);
        using var bb = device.Accelerator.Allocate1D(bias);
        using var ab = device.Accelerator.Allocate1D(loraA);
        using var yb = device.Accelerator.Allocate1D<float>(m * n);
        using var ub = device.Accelerator.Allocate1D<float>(m * rank);
        MatMulKernels.LaunchForward<Bf16>(device, xb.View, wb.View, bb.View, ab.View, yb.View, ub.View, m, n, k, rank);

        var xr = KernelTestData.RoundToBf16(x);
        Close.Check(MatMulKernelTests.Reference(xr, wf, biasF, null, null, 0, m, n, k, 0), yb.GetAsArray1D(), 1e-5, "tensor-core projection");
        Close.Check(MatMulKernelTests.Reference(xr, KernelTestData.RoundToBf16(loraA), null, null, null, 0, m, rank, k, 0), ub.GetAsArray1D(), 1e-5, "tensor-core LoRA down projection");
    }

    /// <summary>Causal GQA over two query blocks and two key blocks, a sequence ending inside a block, rows past the length zero.</summary>
    [Theory]
    [MemberData(nameof(Devices))]
    public void AttentionCausalGqaOverSeveralBlocks(string deviceName) => RunAttention(Fixtures.Backend(deviceName), [45, 20], 45, 4, 2, 32, 41);

    /// <summary>One k16 step per score tile (head dimension 16) and large scores, where the running max moves.</summary>
    [Theory]
    [MemberData(nameof(Devices))]
    public void AttentionSmallHeadLargeScores(string deviceName) => RunAttention(Fixtures.Backend(deviceName), [33], 33, 2, 1, 16, 42, scale: 4f);

    /// <summary>
    /// Every projection and attention of the reference models (head dimension 16) on the tensor-core kernels: the golden last
    /// hidden state to bf16 accuracy (activations are rounded at every projection: 3.5e-3 and 7.9e-3 measured, 2e-2 allowed).
    /// </summary>
    [Theory]
    [MemberData(nameof(ModelCases))]
    public void ReferenceModelsForwardWithinBf16OfGolden(string model, string deviceName)
        => KernelTestData.GoldenLastHiddenError(model, Fixtures.Backend(deviceName), 2e-2, "on tensor cores");

    /// <summary>The reference models on each tensor-core device.</summary>
    public static IEnumerable<object[]> ModelCases() => Devices().SelectMany(d => Fixtures.Models.Select(m => new object[] { m, d[0] }));

    private static void RunAttention(ComputeDevice device, int[] lengths, int seqLen, int heads, int kvHeads, int d, int seed, float scale = 1f)
    {
        var run = AttentionKernelTests.Launch(device, lengths, seqLen, heads, kvHeads, d, seed, scale);
        var lse = new float[lengths.Length * seqLen * heads];
        var expected = AttentionKernelTests.Reference(KernelTestData.RoundToBf16(run.Q), KernelTestData.RoundToBf16(run.K), KernelTestData.RoundToBf16(run.V), lengths, seqLen, heads, kvHeads, d, lse);
        Close.Check(expected, run.O, 4e-3, "tensor-core attention");
        Close.Check(lse, run.Lse, 1e-5, "tensor-core attention log-sum-exp");
    }
}

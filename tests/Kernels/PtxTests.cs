using System.Text.RegularExpressions;
using LeadEngine.Kernels;

namespace LeadEngine.Tests.Kernels;

/// <summary>The CUDA backend's code generation, checked without a GPU: every kernel the ILGPU backend launches compiles to PTX (ISA 7.8, for sm_90).</summary>
public sealed class PtxTests
{
    [Fact]
    public void EveryKernelCompilesToPtxForSm90()
    {
        var kernels = IlgpuPtx.Generate();
        // 23 entry points; the seven generic over the weight type come in F32, Bf16 and F16.
        Assert.Equal(23 + 7 * 2, kernels.Count);
        Assert.Equal(kernels.Count, kernels.Select(k => k.Name).Distinct().Count());
        Assert.All(kernels, k =>
        {
            // PTX ISA 7.8 (what CUDA 11.8's ptxas reads); ILGPU 1.5.3 names sm_80 as its target, and ptxas assembles it for sm_90.
            Assert.Contains(".version 7.8", k.Ptx);
            Assert.Contains(".target sm_80", k.Ptx);
            Assert.Contains(".entry ", k.Ptx);
        });
        var matmul = kernels.Single(k => k.Name == "IlgpuMatMulKernels.Forward.Bf16");
        Assert.Equal(256, matmul.GroupThreads);
        Assert.True(matmul.DynamicSharedBytes > 0);
        Assert.Equal(0, kernels.Single(k => k.Name == "IlgpuRopeKernels.Rotate").GroupThreads);
        // The tensor-core kernels carry the instruction itself (the emulation is for the CPU accelerator only).
        Assert.All(kernels.Where(k => k.Name.StartsWith("IlgpuTensorCoreKernels.", StringComparison.Ordinal)),
            k => Assert.Contains("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32", k.Ptx));
    }

    /// <summary>The generator's list is the backend's: every kernel method the backend's sources load is in it.</summary>
    [Fact]
    public void TheListHoldsEveryKernelTheBackendLoads()
    {
        string dir = Path.Combine(Fixtures.RepoRoot, "src", "Kernels", "Backends", "Ilgpu");
        var loaded = Directory.GetFiles(dir, "*.cs")
            .SelectMany(f => Regex.Matches(File.ReadAllText(f), @"Load\w*Kernel<[^(]*>\(\s*(Ilgpu\w+Kernels)\.(\w+)(?:<[^>]*>)?\)", RegexOptions.Singleline))
            .Select(m => $"{m.Groups[1].Value}.{m.Groups[2].Value}").ToHashSet();
        var listed = IlgpuPtx.EntryPoints.Select(e => $"{e.Type.Name}.{e.Method}").ToHashSet();
        Assert.Equal(23, loaded.Count);
        Assert.Equal(loaded.Order(), listed.Order());
    }
}

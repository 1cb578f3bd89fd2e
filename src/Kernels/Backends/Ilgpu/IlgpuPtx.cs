using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using System.Reflection;

namespace LeadEngine.Kernels;

/// <summary>
/// Every kernel the ILGPU backend launches, compiled to PTX by ILGPU's PTX backend without a GPU: the same code
/// generation a CUDA accelerator runs when it loads them, for an architecture given here instead of read from a
/// device. <c>scripts/ptx-check.sh</c> assembles the result with NVIDIA's <c>ptxas</c>, so code-generation faults and
/// spills show on a CPU machine before a GPU run. Generic kernels are compiled for every weight type.
/// </summary>
public static class IlgpuPtx
{
    private static readonly Type[] WeightTypes = [typeof(F32), typeof(Bf16), typeof(F16)];

    /// <summary>
    /// The entry points the backend loads (<c>LoadStreamKernel</c>: explicitly grouped, with its group at the GPU shapes;
    /// <c>LoadAutoGroupedStreamKernel</c>: implicitly grouped). A kernel added to the backend is added here too; a test
    /// checks every <c>Ilgpu*Kernels</c> entry point named in the backend's sources is listed.
    /// </summary>
    internal static readonly (Type Type, string Method, Func<LaunchShapes, int>? Group, Func<LaunchShapes, int>? SharedFloats)[] EntryPoints =
    [
        (typeof(IlgpuAttentionKernels), nameof(IlgpuAttentionKernels.Forward), s => s.AttentionQueryBlock,
            s => IlgpuAttentionKernels.SharedFloats(s.AttentionKeyBlock, HeadDim)),
        (typeof(IlgpuAttentionKernels), nameof(IlgpuAttentionKernels.BackwardQuery), s => s.AttentionQueryBlock,
            s => IlgpuAttentionKernels.SharedFloats(s.AttentionKeyBlock, HeadDim)),
        (typeof(IlgpuAttentionKernels), nameof(IlgpuAttentionKernels.BackwardKeyValue), s => s.AttentionQueryBlock,
            s => IlgpuAttentionKernels.SharedFloats(s.AttentionKeyBlock, HeadDim, keyValueBackward: true)),
        (typeof(IlgpuCrossEntropyKernels), nameof(IlgpuCrossEntropyKernels.ForwardBackward), s => s.ReduceGroup, null),
        (typeof(IlgpuMatMulKernels), nameof(IlgpuMatMulKernels.Forward), s => s.MatMulGroupX * s.MatMulGroupY, IlgpuMatMulKernels.SharedFloats),
        (typeof(IlgpuMatMulKernels), nameof(IlgpuMatMulKernels.BackwardInput), s => s.MatMulGroupX * s.MatMulGroupY, IlgpuMatMulKernels.SharedFloats),
        (typeof(IlgpuOptimizerKernels), nameof(IlgpuOptimizerKernels.SumOfSquares), s => s.ReduceGroup, null),
        (typeof(IlgpuRmsNormKernels), nameof(IlgpuRmsNormKernels.Forward), s => s.ReduceGroup, null),
        (typeof(IlgpuRmsNormKernels), nameof(IlgpuRmsNormKernels.Backward), s => s.ReduceGroup, null),
        (typeof(IlgpuEmbeddingKernels), nameof(IlgpuEmbeddingKernels.Forward), null, null),
        (typeof(IlgpuEmbeddingKernels), nameof(IlgpuEmbeddingKernels.ScatterRows), null, null),
        (typeof(IlgpuHeadKernels), nameof(IlgpuHeadKernels.Forward), null, null),
        (typeof(IlgpuHeadKernels), nameof(IlgpuHeadKernels.Backward), null, null),
        (typeof(IlgpuLoraKernels), nameof(IlgpuLoraKernels.AddUpProjection), null, null),
        (typeof(IlgpuLoraKernels), nameof(IlgpuLoraKernels.BackwardUp), null, null),
        (typeof(IlgpuLoraKernels), nameof(IlgpuLoraKernels.BackwardDown), null, null),
        (typeof(IlgpuOptimizerKernels), nameof(IlgpuOptimizerKernels.AdamW), null, null),
        (typeof(IlgpuResidualKernels), nameof(IlgpuResidualKernels.Forward), null, null),
        (typeof(IlgpuRopeKernels), nameof(IlgpuRopeKernels.Rotate), null, null),
        (typeof(IlgpuSwiGluKernels), nameof(IlgpuSwiGluKernels.Forward), null, null),
        (typeof(IlgpuSwiGluKernels), nameof(IlgpuSwiGluKernels.Backward), null, null),
        (typeof(IlgpuTensorCoreKernels), nameof(IlgpuTensorCoreKernels.MatMulForward), _ => IlgpuTensorCoreKernels.MatMulGroup,
            _ => IlgpuTensorCoreKernels.MatMulSharedWords(default(PtxMma).ScratchWordsPerWarp)),
        (typeof(IlgpuTensorCoreKernels), nameof(IlgpuTensorCoreKernels.AttentionForward), _ => IlgpuTensorCoreKernels.AttentionGroup,
            _ => IlgpuTensorCoreKernels.AttentionSharedWords(HeadDim, default(PtxMma).ScratchWordsPerWarp)),
    ];

    /// <summary>The head dimension the attention kernels' shared memory is reported at: Qwen2.5-1.5B's (1,536 / 12), the larger of the two shapes (0.5B: 64).</summary>
    public const int HeadDim = 128;

    /// <summary>
    /// The PTX of every entry point for <paramref name="architecture"/> and <paramref name="instructionSet"/> (default sm_90,
    /// PTX ISA 7.8: the newest CUDA 11.8's <c>ptxas</c> reads). ILGPU 1.5.3 writes <c>.target sm_80</c> at ISA 7.8;
    /// <c>ptxas -arch=sm_90</c> assembles that for the H200.
    /// </summary>
    public static IReadOnlyList<KernelPtx> Generate(CudaArchitecture? architecture = null, CudaInstructionSet? instructionSet = null)
    {
        var arch = architecture ?? CudaArchitecture.SM_90;
        // The context every device compiles in, so the code is the code a GPU would get.
        using var context = ComputeDevice.CreateContext();
        using var backend = new PTXBackend(context, new CudaCapabilityContext(arch), arch, instructionSet ?? CudaInstructionSet.ISA_78, null);
        var kernels = new List<KernelPtx>();
        foreach (var (type, name, group, shared) in EntryPoints)
        {
            var method = type.GetMethod(name, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
                ?? throw new MissingMethodException(type.Name, name);
            foreach (var (instance, suffix) in Instances(method))
            {
                var entry = group is null ? EntryPointDescription.FromImplicitlyGroupedKernel(instance) : EntryPointDescription.FromExplicitlyGroupedKernel(instance);
                var compiled = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
                kernels.Add(new KernelPtx($"{type.Name}.{name}{suffix}", group?.Invoke(LaunchShapes.Gpu) ?? 0,
                    sizeof(float) * (shared?.Invoke(LaunchShapes.Gpu) ?? 0), compiled.PTXAssembly));
            }
        }
        return kernels;
    }

    /// <summary>
    /// The specialisations of an entry point the backend launches: a weight type parameter (<c>TW</c>) takes every
    /// weight type, and an <see cref="IWarpMma"/> parameter the tensor-core instruction itself (<see cref="PtxMma"/>).
    /// </summary>
    private static IEnumerable<(MethodInfo Method, string Suffix)> Instances(MethodInfo method)
    {
        if (!method.IsGenericMethodDefinition)
        {
            yield return (method, "");
            yield break;
        }
        var parameters = method.GetGenericArguments();
        Type[] weights = parameters.Any(p => p.Name == "TW") ? WeightTypes : [typeof(F32)];
        foreach (var weight in weights)
        {
            var arguments = parameters.Select(p => p.Name == "TW" ? weight
                : p.GetGenericParameterConstraints().Contains(typeof(IWarpMma)) ? typeof(PtxMma)
                : throw new NotSupportedException($"{method.DeclaringType?.Name}.{method.Name}: no specialisation for type parameter {p.Name}")).ToArray();
            yield return (method.MakeGenericMethod(arguments), parameters.Any(p => p.Name == "TW") ? $".{weight.Name}" : "");
        }
    }
}

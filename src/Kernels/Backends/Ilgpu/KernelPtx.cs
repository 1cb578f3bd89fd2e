namespace LeadEngine.Kernels;

/// <summary>One kernel's PTX, as the CUDA backend would load it.</summary>
/// <param name="Name">Kernel and weight type, e.g. <c>IlgpuMatMulKernels.Forward.Bf16</c>.</param>
/// <param name="GroupThreads">Threads per group at the GPU launch shapes (<see cref="LaunchShapes.Gpu"/>); 0 for implicitly grouped kernels, whose group ILGPU picks on the device.</param>
/// <param name="DynamicSharedBytes">Dynamic shared memory a group asks for at those shapes (attention at head dimension <see cref="IlgpuPtx.HeadDim"/>).</param>
/// <param name="Ptx">The PTX assembly.</param>
public sealed record KernelPtx(string Name, int GroupThreads, int DynamicSharedBytes, string Ptx);

namespace LeadEngine.Kernels;

/// <summary>
/// The ILGPU kernels (this folder: one file per op, the kernel beside its launch): CUDA, OpenCL or ILGPU's
/// CPU accelerator run the same code, with group shapes from <see cref="ComputeDevice.Shapes"/>.
/// </summary>
internal sealed partial class IlgpuBackend(ComputeDevice device) : IKernelBackend
{
    private readonly ComputeDevice _device = device;

    /// <summary>The kernels read the weights where they are: no packed copy to fold an adapter into.</summary>
    public bool FoldsFrozenAdapters => false;

    /// <summary>Nothing to drop: the kernels read the weights where they are.</summary>
    public void ReleasePackedWeights(long? foldId) { }
}

namespace LeadEngine.Kernels;

/// <summary>
/// Group shapes per backend. On ILGPU's CPU accelerator every group barrier costs about 8 µs
/// per thread in the group (threads are OS threads), so groups are small there; GPUs get large
/// groups. Kernels read their shape from the launch, so one code path serves both.
/// </summary>
/// <param name="ReduceGroup">Threads per row for row reductions (power of two).</param>
/// <param name="MatMulGroupX">Matmul threads along the output columns.</param>
/// <param name="MatMulGroupY">Matmul threads along the output rows.</param>
/// <param name="AttentionQueryBlock">Query rows per attention group (one thread each).</param>
/// <param name="AttentionKeyBlock">Key rows staged in shared memory per attention step.</param>
/// <param name="ElementwiseGroup">Threads per group for elementwise kernels.</param>
public sealed record LaunchShapes(
    int ReduceGroup, int MatMulGroupX, int MatMulGroupY,
    int AttentionQueryBlock, int AttentionKeyBlock, int ElementwiseGroup)
{
    /// <summary>Small groups: cheap barriers on the CPU accelerator.</summary>
    public static LaunchShapes Cpu { get; } = new(4, 4, 4, 8, 16, 16);

    /// <summary>Large groups for GPUs.</summary>
    public static LaunchShapes Gpu { get; } = new(256, 16, 16, 64, 32, 256);
}

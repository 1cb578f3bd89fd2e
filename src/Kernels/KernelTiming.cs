namespace LeadEngine.Kernels;

/// <summary>Accumulated time of one kernel (or host phase) under a <see cref="KernelProfiler"/>.</summary>
/// <param name="Name">Kernel name, e.g. <c>matmul.forward</c>; host phases start with <c>host.</c>.</param>
/// <param name="Calls">Launches timed.</param>
/// <param name="Milliseconds">Total wall time of those launches.</param>
/// <param name="Flops">Floating-point operations they did (model count, not measured).</param>
/// <param name="Bytes">Bytes they had to move at least (model count, not measured).</param>
public sealed record KernelTiming(string Name, int Calls, double Milliseconds, double Flops, double Bytes)
{
    /// <summary>Achieved GFLOP/s.</summary>
    public double GflopsPerSecond => Milliseconds > 0 ? Flops / Milliseconds / 1e6 : 0;

    /// <summary>Achieved GB/s.</summary>
    public double GigabytesPerSecond => Milliseconds > 0 ? Bytes / Milliseconds / 1e6 : 0;
}

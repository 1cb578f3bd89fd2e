namespace LeadEngine.Bench;

/// <summary>A benchmark's problem size and the work one invocation does, for throughput columns.</summary>
/// <param name="Name">Shown in the table.</param>
/// <param name="Dims">Sizes the benchmark reads (meaning per benchmark).</param>
/// <param name="Flops">Floating-point operations per invocation.</param>
/// <param name="Bytes">Bytes that must move to or from device memory per invocation (lower bound).</param>
public sealed record KernelShape(string Name, int[] Dims, double Flops, double Bytes)
{
    /// <inheritdoc />
    public override string ToString() => Name;
}

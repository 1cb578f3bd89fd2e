using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>Residual stream update: <c>x += y</c> (launcher in Ops/).</summary>
internal static class IlgpuResidualKernels
{
    /// <summary>Kernel: elementwise.</summary>
    public static void Forward(Index1D index, ArrayView<float> x, ArrayView<float> y) => x[index] += y[index];
}

internal sealed partial class IlgpuBackend
{
    public void Residual(ArrayView<float> x, ArrayView<float> y, long count)
    {
        var kernel = _device.GetKernel("residual.fwd", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(IlgpuResidualKernels.Forward));
        kernel((int)count, x, y);
    }
}

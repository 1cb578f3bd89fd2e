using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>AdamW update and the squared-norm reduction used for global-norm clipping.</summary>
internal static class IlgpuOptimizerKernels
{
    /// <summary>Kernel: <see cref="AdamWArgs.Step"/> per element.</summary>
    public static void AdamW(Index1D i, ArrayView<float> p, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, AdamWArgs a)
    {
        float mi = m[i], vi = v[i];
        p[i] = a.Step(p[i], grad[i], ref mi, ref vi);
        m[i] = mi;
        v[i] = vi;
    }

    /// <summary>Kernel: adds Σ x² over the view into <paramref name="result"/>[0] (group tree reduction, one atomic per group).</summary>
    public static void SumOfSquares(ArrayView<float> x, ArrayView<float> result)
    {
        var partial = SharedMemory.Allocate<float>(IlgpuRmsNormKernels.MaxGroup);
        int tid = Group.IdxX;
        float sum = 0f;
        for (long i = Grid.GlobalIndex.X; i < x.Length; i += (long)Grid.DimX * Group.DimX)
            sum += x[i] * x[i];
        partial[tid] = sum;
        Group.Barrier();
        for (int stride = Group.DimX / 2; stride > 0; stride /= 2)
        {
            if (tid < stride) partial[tid] += partial[tid + stride];
            Group.Barrier();
        }
        if (tid == 0) Atomic.Add(ref result[0], partial[0]);
    }
}

internal sealed partial class IlgpuBackend
{
    public void AdamW(ArrayView<float> p, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, AdamWArgs args)
    {
        var kernel = _device.GetKernel("optimizer.adamw", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamWArgs>(IlgpuOptimizerKernels.AdamW));
        kernel((int)p.Length, p, grad, m, v, args);
    }

    public void SumOfSquares(ArrayView<float> x, ArrayView<float> result)
    {
        var kernel = _device.GetKernel("optimizer.sumsq", acc =>
            acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>>(IlgpuOptimizerKernels.SumOfSquares));
        int group = _device.Shapes.ReduceGroup;
        int groups = (int)Math.Clamp((x.Length + group - 1) / group, 1, 1024);
        kernel(new KernelConfig(groups, group), x, result);
    }
}

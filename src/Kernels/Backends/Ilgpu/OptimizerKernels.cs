using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>Hyper-parameters of one AdamW update.</summary>
public struct AdamWArgs
{
    /// <summary>Learning rate of this step (schedule and group applied).</summary>
    public float LearningRate;
    /// <summary>First-moment decay β1.</summary>
    public float Beta1;
    /// <summary>Second-moment decay β2.</summary>
    public float Beta2;
    /// <summary>Denominator epsilon.</summary>
    public float Eps;
    /// <summary>Decoupled weight decay.</summary>
    public float WeightDecay;
    /// <summary>1 − β1^t.</summary>
    public float BiasCorrection1;
    /// <summary>√(1 − β2^t).</summary>
    public float BiasCorrection2Sqrt;
    /// <summary>Multiplier on the raw gradient (clipping and 1/accumulation).</summary>
    public float GradientScale;
}

/// <summary>AdamW update and the squared-norm reduction used for global-norm clipping.</summary>
public static partial class OptimizerKernels
{
    /// <summary>
    /// Kernel, AdamW as torch.optim.AdamW: p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
    /// p ← p − (lr/(1−β1^t))·m / (√v/√(1−β2^t) + eps), with g = scale·grad.
    /// </summary>
    public static void AdamW(Index1D i, ArrayView<float> p, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, AdamWArgs a)
    {
        float g = grad[i] * a.GradientScale;
        float param = p[i] * (1f - a.LearningRate * a.WeightDecay);
        float mi = a.Beta1 * m[i] + (1f - a.Beta1) * g;
        float vi = a.Beta2 * v[i] + (1f - a.Beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        p[i] = param - a.LearningRate / a.BiasCorrection1 * mi / (MathF.Sqrt(vi) / a.BiasCorrection2Sqrt + a.Eps);
    }

    /// <summary>Kernel: adds Σ x² over the view into <paramref name="result"/>[0] (group tree reduction, one atomic per group).</summary>
    public static void SumOfSquares(ArrayView<float> x, ArrayView<float> result)
    {
        var partial = SharedMemory.Allocate<float>(RmsNormKernels.MaxGroup);
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
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamWArgs>(OptimizerKernels.AdamW));
        kernel((int)p.Length, p, grad, m, v, args);
    }

    public void SumOfSquares(ArrayView<float> x, ArrayView<float> result)
    {
        var kernel = _device.GetKernel("optimizer.sumsq", acc =>
            acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>>(OptimizerKernels.SumOfSquares));
        int group = _device.Shapes.ReduceGroup;
        int groups = (int)Math.Clamp((x.Length + group - 1) / group, 1, 1024);
        kernel(new KernelConfig(groups, group), x, result);
    }
}

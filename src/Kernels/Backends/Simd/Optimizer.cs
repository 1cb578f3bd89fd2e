using ILGPU;

namespace LeadEngine.Kernels;

internal sealed partial class SimdBackend
{
    /// <summary>The kernel's own code per element, on the host.</summary>
    public void AdamW(ArrayView<float> p, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, AdamWArgs args) =>
        Simd.ForEach(p.Length, i => OptimizerKernels.AdamW(new Index1D((int)i), p, grad, m, v, args));

    public void SumOfSquares(ArrayView<float> x, ArrayView<float> result)
    {
        var (xh, rh) = (Host(x), Host(result));
        double sum = 0;
        for (long start = 0; start < x.Length; start += Simd.Chunk)
            sum += System.Numerics.Tensors.TensorPrimitives.SumOfSquares(xh.Slice(start, (int)Math.Min(Simd.Chunk, x.Length - start)));
        rh[0] += (float)sum;
    }
}

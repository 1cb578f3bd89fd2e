using ILGPU;

namespace LeadEngine.Kernels;

internal sealed partial class SimdBackend
{
    /// <summary>The update's one definition (<see cref="AdamWArgs.Step"/>) per element, on the host.</summary>
    public void AdamW(ArrayView<float> p, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, AdamWArgs args)
    {
        var (ph, gh, mh, vh) = (Host(p), Host(grad), Host(m), Host(v));
        Simd.ForEach(p.Length, i => ph[i] = args.Step(ph[i], gh[i], ref mh[i], ref vh[i]));
    }

    public void SumOfSquares(ArrayView<float> x, ArrayView<float> result)
    {
        var (xh, rh) = (Host(x), Host(result));
        double sum = 0;
        for (long start = 0; start < x.Length; start += Simd.Chunk)
            sum += System.Numerics.Tensors.TensorPrimitives.SumOfSquares(xh.Slice(start, (int)Math.Min(Simd.Chunk, x.Length - start)));
        rh[0] += (float)sum;
    }
}

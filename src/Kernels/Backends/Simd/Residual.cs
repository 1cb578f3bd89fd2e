using ILGPU;

namespace LeadEngine.Kernels;

internal sealed partial class SimdBackend
{
    public void Residual(ArrayView<float> x, ArrayView<float> y, long count)
    {
        var (xh, yh) = (Host(x), Host(y));
        Simd.ForChunks(count, (start, length) =>
            System.Numerics.Tensors.TensorPrimitives.Add(xh.Slice(start, (int)length), yh.Slice(start, (int)length), xh.Slice(start, (int)length)));
    }
}

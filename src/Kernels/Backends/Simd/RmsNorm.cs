using System.Numerics.Tensors;
using ILGPU;

namespace LeadEngine.Kernels;

internal sealed partial class SimdBackend
{
    public void RmsNormForward<TW>(ArrayView<float> x, ArrayView<TW> weight, ArrayView<float> y, int rows, int hidden, float eps) where TW : unmanaged, IWeight
    {
        var (xh, wh, yh) = (Host(x), Host(weight), Host(y));
        Simd.ForRows(rows, hidden, (first, count) =>
        {
            Span<float> w = stackalloc float[hidden];
            WeightRows.Widen(wh, 0, w);
            for (int row = first; row < first + count; row++)
            {
                Span<float> xr = xh.Slice((long)row * hidden, hidden), yr = yh.Slice((long)row * hidden, hidden);
                float inv = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(xr) / hidden + eps);
                TensorPrimitives.Multiply(xr, inv, yr);
                TensorPrimitives.Multiply(yr, w, yr);
            }
        });
    }

    public void RmsNormBackward<TW>(ArrayView<float> x, ArrayView<TW> weight, ArrayView<float> dy, ArrayView<float> dx, int rows, int hidden, float eps) where TW : unmanaged, IWeight
    {
        var (xh, wh, dyh, dxh) = (Host(x), Host(weight), Host(dy), Host(dx));
        Simd.ForRows(rows, hidden, (first, count) =>
        {
            Span<float> w = stackalloc float[hidden], wdy = stackalloc float[hidden];
            WeightRows.Widen(wh, 0, w);
            for (int row = first; row < first + count; row++)
            {
                long o = (long)row * hidden;
                Span<float> xr = xh.Slice(o, hidden), dyr = dyh.Slice(o, hidden), dxr = dxh.Slice(o, hidden);
                float r = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(xr) / hidden + eps);
                TensorPrimitives.Multiply(w, dyr, wdy);
                float coefficient = r * r * r * TensorPrimitives.Dot(wdy, xr) / hidden;
                TensorPrimitives.MultiplyAdd(wdy, r, dxr, dxr);          // dx += r·w·dy
                TensorPrimitives.MultiplyAdd(xr, -coefficient, dxr, dxr); //    − x·r³·(w·dy·x)/n
            }
        });
    }
}

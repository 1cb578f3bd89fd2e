using ILGPU;

namespace LeadEngine.Kernels;

internal sealed partial class SimdBackend
{
    public void GatherRows<TW>(ArrayView<int> ids, ArrayView<TW> table, ArrayView<float> y, int rows, int width) where TW : unmanaged, IWeight
    {
        var (ih, th, yh) = (Host(ids), Host(table), Host(y));
        Simd.ForRows(rows, width, (first, count) =>
        {
            for (int row = first; row < first + count; row++) WeightRows.Widen(th, (long)ih[row] * width, yh.Slice((long)row * width, width));
        });
    }

    public void ScatterRows(ArrayView<int> rowIndices, ArrayView<float> source, ArrayView<float> y, int rows, int width)
    {
        var (ih, sh, yh) = (Host(rowIndices), Host(source), Host(y));
        for (int row = 0; row < rows; row++) sh.Slice((long)row * width, width).CopyTo(yh.Slice((long)ih[row] * width, width));
    }
}

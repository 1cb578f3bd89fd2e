using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;


/// <summary>
/// Row gathers: the token embedding (widened to fp32; ids are validated against the vocabulary on the host)
/// and picking activation rows (the last real token of each sequence), with its backward, the scatter.
/// </summary>
internal static class IlgpuEmbeddingKernels
{
    /// <summary>Kernel: one thread per output element of y[rows, hidden].</summary>
    public static void Forward<TW>(Index1D index, ArrayView<int> ids, ArrayView<TW> table, ArrayView<float> y, int hidden)
        where TW : unmanaged, IWeight
    {
        long row = index / hidden, col = index - row * hidden;
        y[index] = table[(long)ids[row] * hidden + col].ToFloat();
    }

    /// <summary>Kernel: y[rowIndices[r]] = source[r], one thread per element of source [rows, width].</summary>
    public static void ScatterRows(Index1D index, ArrayView<int> rowIndices, ArrayView<float> source, ArrayView<float> y, int width)
    {
        long row = index / width, col = index - row * width;
        y[(long)rowIndices[row] * width + col] = source[index];
    }
}

internal sealed partial class IlgpuBackend
{
    public void GatherRows<TW>(ArrayView<int> ids, ArrayView<TW> table, ArrayView<float> y, int rows, int width) where TW : unmanaged, IWeight
    {
        var kernel = _device.GetKernel($"embedding.fwd.{typeof(TW).Name}", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<TW>, ArrayView<float>, int>(IlgpuEmbeddingKernels.Forward));
        kernel(rows * width, ids, table, y, width);
    }

    public void ScatterRows(ArrayView<int> rowIndices, ArrayView<float> source, ArrayView<float> y, int rows, int width)
    {
        var kernel = _device.GetKernel("rows.scatter", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<float>, ArrayView<float>, int>(IlgpuEmbeddingKernels.ScatterRows));
        kernel(rows * width, rowIndices, source, y, width);
    }
}

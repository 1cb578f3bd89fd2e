using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>
/// Row gathers: the token embedding (widened to fp32; ids are validated against the vocabulary on the host)
/// and picking activation rows (the last real token of each sequence), with its backward, the scatter.
/// </summary>
public static class EmbeddingKernels
{
    /// <summary>Kernel: one thread per output element of y[rows, hidden].</summary>
    public static void Forward<TW>(Index1D index, ArrayView<int> ids, ArrayView<TW> table, ArrayView<float> y, int hidden)
        where TW : unmanaged, IWeight
    {
        long row = index / hidden, col = index - row * hidden;
        y[index] = table[(long)ids[row] * hidden + col].ToFloat();
    }

    /// <summary>Launches <see cref="Forward{TW}"/>: y[r] = table[ids[r]] widened to fp32.</summary>
    public static void LaunchForward<TW>(ComputeDevice device, ArrayView<int> ids, ArrayView<TW> table, ArrayView<float> y, int rows, int hidden)
        where TW : unmanaged, IWeight =>
        Launch(device, "embedding.forward", ids, table, y, rows, hidden);

    /// <summary>y[r] = source[rowIndices[r]]: picks rows of an activation (the same gather over fp32 rows).</summary>
    public static void LaunchGatherRows(ComputeDevice device, ArrayView<int> rowIndices, ArrayView<float> source, ArrayView<float> y, int rows, int width) =>
        Launch(device, "gather.rows", rowIndices, source.Cast<F32>(), y, rows, width);

    /// <summary>Kernel: y[rowIndices[r]] = source[r], one thread per element of source [rows, width].</summary>
    public static void ScatterRows(Index1D index, ArrayView<int> rowIndices, ArrayView<float> source, ArrayView<float> y, int width)
    {
        long row = index / width, col = index - row * width;
        y[(long)rowIndices[row] * width + col] = source[index];
    }

    /// <summary>
    /// y[rowIndices[r]] = source[r]: puts rows back where <see cref="LaunchGatherRows"/> took them from (the
    /// backward of the gather; the other rows of y are left as they are, and the indices must be distinct).
    /// </summary>
    public static void LaunchScatterRows(ComputeDevice device, ArrayView<int> rowIndices, ArrayView<float> source, ArrayView<float> y, int rows, int width)
    {
        using var timer = device.Time("scatter.rows", 0, 12.0 * rows * width);
        if (device.UsesSimd)
        {
            var (ih, sh, yh) = (device.Host(rowIndices), device.Host(source), device.Host(y));
            for (int row = 0; row < rows; row++) sh.Slice((long)row * width, width).CopyTo(yh.Slice((long)ih[row] * width, width));
            return;
        }
        var kernel = device.GetKernel("rows.scatter", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<float>, ArrayView<float>, int>(ScatterRows));
        kernel(rows * width, rowIndices, source, y, width);
    }

    private static void Launch<TW>(ComputeDevice device, string label, ArrayView<int> ids, ArrayView<TW> table, ArrayView<float> y, int rows, int hidden)
        where TW : unmanaged, IWeight
    {
        using var timer = device.Time(label, 0, (4.0 + Unsafe.SizeOf<TW>()) * rows * hidden);
        if (device.UsesSimd)
        {
            var (ih, th, yh) = (device.Host(ids), device.Host(table), device.Host(y));
            Simd.ForRows(rows, hidden, (first, count) =>
            {
                for (int row = first; row < first + count; row++) WeightRows.Widen(th, (long)ih[row] * hidden, yh.Slice((long)row * hidden, hidden));
            });
            return;
        }
        var kernel = device.GetKernel($"embedding.fwd.{typeof(TW).Name}", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<TW>, ArrayView<float>, int>(Forward));
        kernel(rows * hidden, ids, table, y, hidden);
    }
}

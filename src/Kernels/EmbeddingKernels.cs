using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>
/// Row gathers: the token embedding (widened to fp32; ids are validated against the vocabulary on the host)
/// and picking activation rows (the last real token of each sequence).
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

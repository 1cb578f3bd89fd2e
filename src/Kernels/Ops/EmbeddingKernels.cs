using System.Runtime.CompilerServices;
using ILGPU;

namespace LeadEngine.Kernels;

/// <summary>
/// Row gathers: the token embedding (widened to fp32; ids are validated against the vocabulary on the host)
/// and picking activation rows (the last real token of each sequence), with its backward, the scatter.
/// </summary>
public static class EmbeddingKernels
{
    /// <summary>Runs the forward pass: y[r] = table[ids[r]] widened to fp32.</summary>
    public static void LaunchForward<TW>(ComputeDevice device, ArrayView<int> ids, ArrayView<TW> table, ArrayView<float> y, int rows, int hidden)
        where TW : unmanaged, IWeight =>
        Launch(device, "embedding.forward", ids, table, y, rows, hidden);

    /// <summary>y[r] = source[rowIndices[r]]: picks rows of an activation (the same gather over fp32 rows).</summary>
    public static void LaunchGatherRows(ComputeDevice device, ArrayView<int> rowIndices, ArrayView<float> source, ArrayView<float> y, int rows, int width) =>
        Launch(device, "gather.rows", rowIndices, source.Cast<F32>(), y, rows, width);

    /// <summary>
    /// y[rowIndices[r]] = source[r]: puts rows back where <see cref="LaunchGatherRows"/> took them from (the
    /// backward of the gather; the other rows of y are left as they are, and the indices must be distinct).
    /// </summary>
    public static void LaunchScatterRows(ComputeDevice device, ArrayView<int> rowIndices, ArrayView<float> source, ArrayView<float> y, int rows, int width)
    {
        using var timer = device.Time("scatter.rows", 0, 12.0 * rows * width);
        device.Backend.ScatterRows(rowIndices, source, y, rows, width);
    }

    private static void Launch<TW>(ComputeDevice device, string label, ArrayView<int> ids, ArrayView<TW> table, ArrayView<float> y, int rows, int hidden)
        where TW : unmanaged, IWeight
    {
        using var timer = device.Time(label, 0, (4.0 + Unsafe.SizeOf<TW>()) * rows * hidden);
        device.Backend.GatherRows(ids, table, y, rows, hidden);
    }
}

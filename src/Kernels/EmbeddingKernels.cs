using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>Token embedding gather, widened to fp32. Ids are validated against the vocabulary on the host.</summary>
public static class EmbeddingKernels
{
    /// <summary>Kernel: one thread per output element of y[rows, hidden].</summary>
    public static void Forward<TW>(Index1D index, ArrayView<int> ids, ArrayView<TW> table, ArrayView<float> y, int hidden)
        where TW : unmanaged, IWeight
    {
        long row = index / hidden, col = index - row * hidden;
        y[index] = table[(long)ids[row] * hidden + col].ToFloat();
    }

    /// <summary>Launches <see cref="Forward{TW}"/>.</summary>
    public static void LaunchForward<TW>(ComputeDevice device, ArrayView<int> ids, ArrayView<TW> table, ArrayView<float> y, int rows, int hidden)
        where TW : unmanaged, IWeight
    {
        using var timer = device.Time("embedding.forward", 0, (4.0 + Unsafe.SizeOf<TW>()) * rows * hidden);
        if (device.UsesSimd)
        {
            var (ih, th, yh) = (device.Host(ids), device.Host(table), device.Host(y));
            CoreTeam.For(rows, row => WeightRows.Widen(th, (long)ih[row] * hidden, yh.Slice((long)row * hidden, hidden)));
            return;
        }
        var kernel = device.GetKernel($"embedding.fwd.{typeof(TW).Name}", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<TW>, ArrayView<float>, int>(Forward));
        kernel(rows * hidden, ids, table, y, hidden);
    }
}

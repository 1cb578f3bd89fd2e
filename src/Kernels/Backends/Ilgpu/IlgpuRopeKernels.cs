using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>
/// Rotate-half rotary position embedding, in place, for a right-padded batch (position = index
/// in the sequence). cos/sin come from a [positions, headDim/2] table built once on the host.
/// </summary>
internal static class IlgpuRopeKernels
{
    /// <summary>
    /// Kernel: one thread per (row, head, pair i &lt; headDim/2); x is [rows, heads·headDim]. Rotates by
    /// +angle (forward) or −angle (<paramref name="sinSign"/> −1: the transpose, i.e. the backward pass).
    /// </summary>
    public static void Rotate(Index1D index, ArrayView<float> x, ArrayView<float> cos, ArrayView<float> sin, int seqLen, int heads, int headDim, float sinSign)
    {
        int half = headDim / 2;
        long rest = index / half;
        int i = (int)(index - rest * half);
        long row = rest / heads;
        int head = (int)(rest - row * heads);
        int pos = (int)(row % seqLen);
        long b = (row * heads + head) * headDim + i;
        float c = cos[pos * half + i], s = sinSign * sin[pos * half + i];
        float x1 = x[b], x2 = x[b + half];
        x[b] = x1 * c - x2 * s;
        x[b + half] = x2 * c + x1 * s;
    }
}

internal sealed partial class IlgpuBackend
{
    public void Rope(ArrayView<float> x, ArrayView<float> cos, ArrayView<float> sin, int rows, int seqLen, int heads, int headDim, float sinSign)
    {
        var kernel = _device.GetKernel("rope.rotate", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, float>(IlgpuRopeKernels.Rotate));
        kernel(rows * heads * (headDim / 2), x, cos, sin, seqLen, heads, headDim, sinSign);
    }
}

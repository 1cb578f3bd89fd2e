using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>
/// Rotate-half rotary position embedding, in place, for a right-padded batch (position = index
/// in the sequence). cos/sin come from a [positions, headDim/2] table built once on the host.
/// </summary>
public static class RopeKernels
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

    /// <summary>Forward: rotates q or k in place.</summary>
    public static void LaunchForward(ComputeDevice device, ArrayView<float> x, ArrayView<float> cos, ArrayView<float> sin, int rows, int seqLen, int heads, int headDim) =>
        Launch(device, x, cos, sin, rows, seqLen, heads, headDim, 1f);

    /// <summary>Backward: turns dL/d(rotated) into dL/d(input) in place (the inverse rotation).</summary>
    public static void LaunchBackward(ComputeDevice device, ArrayView<float> dx, ArrayView<float> cos, ArrayView<float> sin, int rows, int seqLen, int heads, int headDim) =>
        Launch(device, dx, cos, sin, rows, seqLen, heads, headDim, -1f);

    private static void Launch(ComputeDevice device, ArrayView<float> x, ArrayView<float> cos, ArrayView<float> sin, int rows, int seqLen, int heads, int headDim, float sinSign)
    {
        using var timer = device.Time(sinSign > 0 ? "rope.forward" : "rope.backward", 6.0 * rows * heads * headDim / 2, 16.0 * rows * heads * headDim / 2);
        if (device.UsesSimd)
        {
            var (xh, ch, sh) = (device.Host(x), device.Host(cos), device.Host(sin));
            int half = headDim / 2, vectorEnd = half - half % Vector256<float>.Count;
            Simd.ForRows(rows, heads * headDim, (first, count) =>
            {
                for (int row = first; row < first + count; row++)
                {
                    long pos = row % seqLen;
                    Span<float> xRow = xh.Slice((long)row * heads * headDim, heads * headDim), c = ch.Slice(pos * half, half), s = sh.Slice(pos * half, half);
                    // Each cos/sin vector is loaded once and applied to every head of the row.
                    for (int i = 0; i < vectorEnd; i += Vector256<float>.Count)
                    {
                        var (cv, sv) = (Vector256.Create<float>(c[i..]), sinSign * Vector256.Create<float>(s[i..]));
                        for (int h = i; h < xRow.Length; h += headDim)
                        {
                            var (lo, hi) = (Vector256.Create<float>(xRow[h..]), Vector256.Create<float>(xRow[(h + half)..]));
                            (lo * cv - hi * sv).CopyTo(xRow[h..]);
                            (hi * cv + lo * sv).CopyTo(xRow[(h + half)..]);
                        }
                    }
                    for (int i = vectorEnd; i < half; i++)
                        for (int head = 0; head < heads; head++)
                            Rotate(new Index1D((int)(((long)row * heads + head) * half + i)), x, cos, sin, seqLen, heads, headDim, sinSign);   // the tail runs the kernel's own code
                }
            });
            return;
        }
        var kernel = device.GetKernel("rope.rotate", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, float>(Rotate));
        kernel(rows * heads * (headDim / 2), x, cos, sin, seqLen, heads, headDim, sinSign);
    }

    /// <summary>Host table: cos and sin of pos·θ^(−2i/d) for pos &lt; positions, i &lt; d/2 (row-major).</summary>
    public static (float[] Cos, float[] Sin) BuildTable(int positions, int headDim, double theta)
    {
        int half = headDim / 2;
        var cos = new float[positions * half];
        var sin = new float[positions * half];
        for (int i = 0; i < half; i++)
        {
            // inv_freq in fp32 as transformers computes it; the angle product in fp32 too.
            float invFreq = (float)(1.0 / Math.Pow(theta, 2.0 * i / headDim));
            for (int p = 0; p < positions; p++)
            {
                float angle = p * invFreq;
                cos[p * half + i] = MathF.Cos(angle);
                sin[p * half + i] = MathF.Sin(angle);
            }
        }
        return (cos, sin);
    }
}

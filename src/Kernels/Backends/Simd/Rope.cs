using System.Runtime.Intrinsics;
using ILGPU;

namespace LeadEngine.Kernels;

internal sealed partial class SimdBackend
{
    public void Rope(ArrayView<float> x, ArrayView<float> cos, ArrayView<float> sin, int rows, int seqLen, int heads, int headDim, float sinSign)
    {
        var (xh, ch, sh) = (Host(x), Host(cos), Host(sin));
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
                    for (int h = i; h < xRow.Length; h += headDim)
                    {
                        float lo = xRow[h], hi = xRow[h + half], si = sinSign * s[i];
                        xRow[h] = lo * c[i] - hi * si;
                        xRow[h + half] = hi * c[i] + lo * si;
                    }
            }
        });
    }
}

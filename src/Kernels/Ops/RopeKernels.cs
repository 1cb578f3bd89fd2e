using ILGPU;

namespace LeadEngine.Kernels;

/// <summary>
/// Rotate-half rotary position embedding, in place, for a right-padded batch (position = index
/// in the sequence). cos/sin come from a [positions, headDim/2] table built once on the host (<see cref="BuildTable"/>).
/// </summary>
public static class RopeKernels
{
    /// <summary>Forward: rotates q or k in place.</summary>
    public static void LaunchForward(ComputeDevice device, ArrayView<float> x, ArrayView<float> cos, ArrayView<float> sin, int rows, int seqLen, int heads, int headDim) =>
        Launch(device, x, cos, sin, rows, seqLen, heads, headDim, 1f);

    /// <summary>Backward: turns dL/d(rotated) into dL/d(input) in place (the inverse rotation).</summary>
    public static void LaunchBackward(ComputeDevice device, ArrayView<float> dx, ArrayView<float> cos, ArrayView<float> sin, int rows, int seqLen, int heads, int headDim) =>
        Launch(device, dx, cos, sin, rows, seqLen, heads, headDim, -1f);

    private static void Launch(ComputeDevice device, ArrayView<float> x, ArrayView<float> cos, ArrayView<float> sin, int rows, int seqLen, int heads, int headDim, float sinSign)
    {
        using var timer = device.Time(sinSign > 0 ? "rope.forward" : "rope.backward", 6.0 * rows * heads * headDim / 2, 16.0 * rows * heads * headDim / 2);
        device.Backend.Rope(x, cos, sin, rows, seqLen, heads, headDim, sinSign);
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

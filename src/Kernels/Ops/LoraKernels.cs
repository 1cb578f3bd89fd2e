using ILGPU;

namespace LeadEngine.Kernels;

public static partial class LoraKernels
{
    /// <summary>
    /// Merges an adapter into its base weight on the host: <c>W[out, in] += scale·B·A</c> (A [rank, in],
    /// B [out, rank]), row by row, term by term. The ONNX export's merged weights and the SIMD backend's
    /// folded frozen adapters both come from here, so they are the same numbers.
    /// </summary>
    public static void MergeIntoWeight(float[] weight, float[] a, float[] b, int outDim, int inDim, int rank, float scale) =>
        CoreTeam.For(outDim, o =>
        {
            var row = weight.AsSpan((int)((long)o * inDim), inDim);
            for (int j = 0; j < rank; j++)
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(a.AsSpan(j * inDim, inDim), scale * b[o * rank + j], row, row);
        });

    /// <summary>Launches <see cref="AddUpProjection"/> over the m×n outputs.</summary>
    public static void LaunchAddUpProjection(ComputeDevice device, ArrayView<float> y, ArrayView<float> u, ArrayView<float> b, int m, int n, int rank, float scale)
    {
        using var timer = device.Time("lora.up", 2.0 * m * n * rank, 8.0 * m * n);
        device.Backend.LoraAddUpProjection(y, u, b, m, n, rank, scale);
    }

    /// <summary>Launches <see cref="BackwardUp"/>: du (written) and dB (accumulated).</summary>
    public static void LaunchBackwardUp(ComputeDevice device, ArrayView<float> dy, ArrayView<float> u, ArrayView<float> b,
        ArrayView<float> du, ArrayView<float> dB, int m, int n, int rank, float scale)
    {
        using var timer = device.Time("lora.backward_up", 4.0 * m * n * rank, 4.0 * m * n);
        device.Backend.LoraBackwardUp(dy, u, b, du, dB, m, n, rank, scale);
    }

    /// <summary>Launches <see cref="BackwardDown"/>: dA (accumulated).</summary>
    public static void LaunchBackwardDown(ComputeDevice device, ArrayView<float> du, ArrayView<float> x, ArrayView<float> dA, int m, int k, int rank)
    {
        using var timer = device.Time("lora.backward_down", 2.0 * m * k * rank, 4.0 * m * k);
        device.Backend.LoraBackwardDown(du, x, dA, m, k, rank);
    }
}

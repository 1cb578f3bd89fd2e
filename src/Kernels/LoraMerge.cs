namespace LeadEngine.Kernels;

/// <summary>
/// Merges a LoRA adapter into its base weight on the host: <c>W[out, in] += scale·B·A</c> (A [rank, in],
/// B [out, rank]), row by row, term by term. The ONNX export's merged weights and the SIMD backend's
/// folded frozen adapters both come from here, so they are the same numbers. A leaf: it calls neither the
/// op layer nor a backend, so every layer may use it.
/// </summary>
public static class LoraMerge
{
    /// <summary>Adds scale·B·A into <paramref name="weight"/> ([outDim, inDim], row-major).</summary>
    public static void IntoWeight(float[] weight, float[] a, float[] b, int outDim, int inDim, int rank, float scale) =>
        Parallel.For(0, outDim, o =>
        {
            var row = weight.AsSpan((int)((long)o * inDim), inDim);
            for (int j = 0; j < rank; j++)
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(a.AsSpan(j * inDim, inDim), scale * b[o * rank + j], row, row);
        });
}

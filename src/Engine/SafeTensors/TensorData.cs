namespace LeadEngine.Engine.SafeTensors;

/// <summary>One tensor to write.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="DType">Element type of <paramref name="Data"/>.</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="Data">Raw little-endian bytes.</param>
public sealed record TensorData(string Name, TensorDType DType, long[] Shape, byte[] Data)
{
    /// <summary>An fp32 tensor from values.</summary>
    public static TensorData FromFloats(string name, long[] shape, ReadOnlySpan<float> values) =>
        new(name, TensorDType.F32, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).ToArray());
}

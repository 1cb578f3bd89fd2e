using LeadEngine.Kernels;

namespace LeadEngine.Tests.Kernels;

/// <summary>Seeded random data and device handles for kernel tests.</summary>
public static class KernelTestData
{
    private static readonly Lazy<ComputeDevice> OddShapes = new(() =>
        ComputeDevice.Open(DeviceKind.IlgpuCpu, new LaunchShapes(ReduceGroup: 8, MatMulGroupX: 2, MatMulGroupY: 8, AttentionQueryBlock: 5, AttentionKeyBlock: 3, ElementwiseGroup: 16)));

    /// <summary>The ILGPU kernels on the CPU accelerator with default and with unusual group shapes, and the SIMD backend.</summary>
    public static IEnumerable<object[]> Devices() => [["ilgpu"], ["ilgpu-odd-shapes"], ["simd"]];

    /// <summary>The device named by <see cref="Devices"/>.</summary>
    public static ComputeDevice Device(string name) => name switch
    {
        "ilgpu" => Fixtures.Kernels,
        "simd" => Fixtures.Simd,
        _ => OddShapes.Value,
    };

    /// <summary>Uniform values in [-scale, scale).</summary>
    public static float[] Random(int count, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return values;
    }

    /// <summary><see cref="Random"/> values in a pinned array (what a SIMD host span may point at).</summary>
    public static float[] RandomPinned(int count, int seed)
    {
        var values = GC.AllocateArray<float>(count, pinned: true);
        Random(count, seed).CopyTo(values, 0);
        return values;
    }

    /// <summary>Values rounded to bf16, as stored weights, and their fp32 widening.</summary>
    public static (Bf16[] Stored, float[] Widened) RandomBf16(int count, int seed, float scale = 1f)
    {
        var stored = Random(count, seed, scale).Select(Bf16.FromFloat).ToArray();
        return (stored, stored.Select(b => b.ToFloat()).ToArray());
    }
}

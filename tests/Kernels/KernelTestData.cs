using LeadEngine.Kernels;

namespace LeadEngine.Tests.Kernels;

/// <summary>Seeded random data and device handles for kernel tests.</summary>
public static class KernelTestData
{
    /// <summary>Every test device (<see cref="Fixtures.TestDevices"/>): each op runs on each against the same reference.</summary>
    public static IEnumerable<object[]> Devices() => Fixtures.TestDevices.Select(d => new object[] { d });

    /// <summary>The device named by <see cref="Devices"/>.</summary>
    public static ComputeDevice Device(string name) => Fixtures.Backend(name);

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

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

    /// <summary>Each value rounded to bf16 and widened back: what a bf16 path computes with.</summary>
    public static float[] RoundToBf16(float[] values) => values.Select(v => Bf16.FromFloat(v).ToFloat()).ToArray();

    /// <summary>
    /// The reference model <paramref name="model"/>'s forward on <paramref name="device"/>: the last hidden state of each
    /// golden sequence against golden.json within <paramref name="tolerance"/> (relative); returns the worst error.
    /// </summary>
    public static double GoldenLastHiddenError(string model, ComputeDevice device, double tolerance, string what)
    {
        var golden = Fixtures.Golden(model);
        using var qwen = LeadEngine.Engine.QwenModel.Load(Fixtures.ModelDir(model), device);
        var result = qwen.Forward(Fixtures.Sequences(golden));
        var hidden = Fixtures.Rows(golden.GetProperty("base").GetProperty("last_hidden"));
        double worst = 0;
        for (int b = 0; b < hidden.Length; b++) worst = Math.Max(worst, Close.Check(hidden[b], result.LastHidden[b], tolerance, $"{model} last_hidden[{b}] {what}"));
        return worst;
    }

    /// <summary>Values rounded to bf16, as stored weights, and their fp32 widening.</summary>
    public static (Bf16[] Stored, float[] Widened) RandomBf16(int count, int seed, float scale = 1f)
    {
        var stored = Random(count, seed, scale).Select(Bf16.FromFloat).ToArray();
        return (stored, stored.Select(b => b.ToFloat()).ToArray());
    }
}

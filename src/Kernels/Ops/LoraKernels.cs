using ILGPU;

namespace LeadEngine.Kernels;

/// <summary>LoRA: the up projection <c>y += scale·u·Bᵀ</c> (u = x·Aᵀ from <see cref="MatMulKernels"/>), its backward, and the host-side merge into a base weight.</summary>
public static class LoraKernels
{
    /// <summary>Runs the up projection over the m×n outputs.</summary>
    public static void LaunchAddUpProjection(ComputeDevice device, ArrayView<float> y, ArrayView<float> u, ArrayView<float> b, int m, int n, int rank, float scale)
    {
        using var timer = device.Time("lora.up", 2.0 * m * n * rank, 8.0 * m * n);
        device.Backend.LoraAddUpProjection(y, u, b, m, n, rank, scale);
    }

    /// <summary>Runs the up projection backward: du (written) and dB (accumulated).</summary>
    public static void LaunchBackwardUp(ComputeDevice device, ArrayView<float> dy, ArrayView<float> u, ArrayView<float> b,
        ArrayView<float> du, ArrayView<float> dB, int m, int n, int rank, float scale)
    {
        using var timer = device.Time("lora.backward_up", 4.0 * m * n * rank, 4.0 * m * n);
        device.Backend.LoraBackwardUp(dy, u, b, du, dB, m, n, rank, scale);
    }

    /// <summary>Runs the down projection backward: dA (accumulated).</summary>
    public static void LaunchBackwardDown(ComputeDevice device, ArrayView<float> du, ArrayView<float> x, ArrayView<float> dA, int m, int k, int rank)
    {
        using var timer = device.Time("lora.backward_down", 2.0 * m * k * rank, 4.0 * m * k);
        device.Backend.LoraBackwardDown(du, x, dA, m, k, rank);
    }
}

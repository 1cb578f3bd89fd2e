using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>An fp32 device buffer rented from <see cref="ComputeDevice.Rent"/>; disposing it returns it to the pool.</summary>
public sealed class PooledBuffer : IDisposable
{
    private readonly ComputeDevice _device;
    private MemoryBuffer1D<float, Stride1D.Dense>? _buffer;

    internal PooledBuffer(ComputeDevice device, MemoryBuffer1D<float, Stride1D.Dense> buffer) => (_device, _buffer) = (device, buffer);

    /// <summary>The whole buffer.</summary>
    public ArrayView1D<float, Stride1D.Dense> View => (_buffer ?? throw new ObjectDisposedException(nameof(PooledBuffer))).View;

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer) _device.Return(buffer);
    }
}

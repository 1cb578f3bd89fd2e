using System.Diagnostics;

namespace LeadEngine.Kernels;

/// <summary>
/// Scope of one profiled launch, from <see cref="ComputeDevice.Time"/>; a no-op (default value)
/// when no profiler is attached.
/// </summary>
public readonly struct KernelTimer : IDisposable
{
    private readonly ComputeDevice? _device;
    private readonly string _name;
    private readonly double _flops, _bytes;
    private readonly long _start;

    internal KernelTimer(ComputeDevice device, string name, double flops, double bytes)
    {
        device.Synchronize();
        (_device, _name, _flops, _bytes) = (device, name, flops, bytes);
        _start = Stopwatch.GetTimestamp();
    }

    /// <summary>Waits for the launch and records it.</summary>
    public void Dispose()
    {
        if (_device?.Profiler is not { } profiler) return;
        _device.Synchronize();
        profiler.Record(_name, Stopwatch.GetTimestamp() - _start, _flops, _bytes);
    }
}

using System.Diagnostics;

namespace LeadEngine.Kernels;

/// <summary>Accumulated time of one kernel (or host phase) under a <see cref="KernelProfiler"/>.</summary>
/// <param name="Name">Kernel name, e.g. <c>matmul.forward</c>; host phases start with <c>host.</c>.</param>
/// <param name="Calls">Launches timed.</param>
/// <param name="Milliseconds">Total wall time of those launches.</param>
/// <param name="Flops">Floating-point operations they did (model count, not measured).</param>
/// <param name="Bytes">Bytes they had to move at least (model count, not measured).</param>
public sealed record KernelTiming(string Name, int Calls, double Milliseconds, double Flops, double Bytes)
{
    /// <summary>Achieved GFLOP/s.</summary>
    public double GflopsPerSecond => Milliseconds > 0 ? Flops / Milliseconds / 1e6 : 0;

    /// <summary>Achieved GB/s.</summary>
    public double GigabytesPerSecond => Milliseconds > 0 ? Bytes / Milliseconds / 1e6 : 0;
}

/// <summary>
/// Per-kernel timing for performance work. While a profiler is attached to a
/// <see cref="ComputeDevice"/>, every launcher synchronizes the device before and after its launch
/// and records the elapsed time with the operation's FLOP and byte counts. Synchronizing serializes
/// the queue, so a profiled step runs somewhat slower than an unprofiled one; totals still show
/// where time goes. Thread-safe.
/// </summary>
public sealed class KernelProfiler
{
    private readonly Dictionary<string, (int Calls, long Ticks, double Flops, double Bytes)> _entries = [];

    /// <summary>Adds one timed launch.</summary>
    public void Record(string name, long stopwatchTicks, double flops, double bytes)
    {
        lock (_entries)
        {
            var e = _entries.GetValueOrDefault(name);
            _entries[name] = (e.Calls + 1, e.Ticks + stopwatchTicks, e.Flops + flops, e.Bytes + bytes);
        }
    }

    /// <summary>Forgets everything recorded (e.g. after a warm-up step).</summary>
    public void Reset()
    {
        lock (_entries) _entries.Clear();
    }

    /// <summary>Timings so far, slowest first.</summary>
    public IReadOnlyList<KernelTiming> Timings
    {
        get
        {
            lock (_entries)
            {
                return _entries.Select(e => new KernelTiming(e.Key, e.Value.Calls, e.Value.Ticks * 1000.0 / Stopwatch.Frequency, e.Value.Flops, e.Value.Bytes))
                    .OrderByDescending(t => t.Milliseconds).ToList();
            }
        }
    }
}

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

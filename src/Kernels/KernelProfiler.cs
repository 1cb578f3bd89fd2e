using System.Diagnostics;

namespace LeadEngine.Kernels;

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

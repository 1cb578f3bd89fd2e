using System.Diagnostics;

namespace LeadEngine.Bench;

/// <summary>
/// Measured memory bandwidth of the host CPU for the SIMD backend's "% peak" columns (no datasheet figure fits
/// every VM), from a parallel copy of buffers far larger than the caches; the arithmetic peaks are
/// <see cref="InstructionPeak"/>'s.
/// </summary>
public static class CpuPeak
{
    /// <summary>Memory bandwidth in bytes/s (read + write) copying 256 MiB per core-share, best of three.</summary>
    public static double Bytes()
    {
        const int Length = 64 << 20;
        var source = new float[Length];
        var target = new float[Length];
        source.AsSpan().Fill(1f);
        target.AsSpan().Clear();
        int chunks = Environment.ProcessorCount * 4, chunk = Length / chunks;
        double best = double.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            var clock = Stopwatch.StartNew();
            Parallel.For(0, chunks, c => source.AsSpan(c * chunk, chunk).CopyTo(target.AsSpan(c * chunk, chunk)));
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * Length * sizeof(float) / best;
    }
}

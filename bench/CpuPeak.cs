using System.Diagnostics;
using System.Runtime.Intrinsics;

namespace LeadEngine.Bench;

/// <summary>
/// Measured peaks of the host CPU for the SIMD backend's "% peak" columns (no datasheet figure fits
/// every VM): FP32 from independent Vector256 FMA chains on every core, bandwidth from a parallel copy
/// of buffers far larger than the caches.
/// </summary>
public static class CpuPeak
{
    /// <summary>
    /// FP32 FLOP/s: 12 independent FMA chains per core (enough to cover FMA latency on two pipes), best of
    /// five rounds. One timed round read 223 GFLOP/s on the 2-core VM where the GEMM's register tile
    /// alone, in L1, ran at 232: a round that includes thread start-up or a neighbour's burst reads low.
    /// </summary>
    public static double Flops()
    {
        const long Iterations = 5_000_000;
        int cores = Environment.ProcessorCount;
        var sums = new float[cores];
        double best = double.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            var clock = Stopwatch.StartNew();
            Parallel.For(0, cores, new ParallelOptions { MaxDegreeOfParallelism = cores }, core =>
            {
                var x = Vector256.Create(1.000001f);
                var y = Vector256.Create(0.999999f);
                Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
                for (long i = 0; i < Iterations; i++)
                {
                    a0 = Vector256.FusedMultiplyAdd(x, y, a0); a1 = Vector256.FusedMultiplyAdd(x, y, a1); a2 = Vector256.FusedMultiplyAdd(x, y, a2);
                    a3 = Vector256.FusedMultiplyAdd(x, y, a3); a4 = Vector256.FusedMultiplyAdd(x, y, a4); a5 = Vector256.FusedMultiplyAdd(x, y, a5);
                    a6 = Vector256.FusedMultiplyAdd(x, y, a6); a7 = Vector256.FusedMultiplyAdd(x, y, a7); a8 = Vector256.FusedMultiplyAdd(x, y, a8);
                    a9 = Vector256.FusedMultiplyAdd(x, y, a9); a10 = Vector256.FusedMultiplyAdd(x, y, a10); a11 = Vector256.FusedMultiplyAdd(x, y, a11);
                }
                sums[core] = Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
            });
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        GC.KeepAlive(sums);
        return cores * Iterations * 12.0 * Vector256<float>.Count * 2 / best;
    }

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

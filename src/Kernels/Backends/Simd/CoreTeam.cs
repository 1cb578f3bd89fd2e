using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace LeadEngine.Kernels;

/// <summary>
/// The SIMD backend's parallel loop: the calling thread plus one resident worker per further core, the
/// workers spinning for a while after each loop so the next one starts at once. <c>Parallel.For</c>
/// queued each loop to thread-pool workers that had often gone to sleep: on the 2-core VM the second
/// core joined a matmul ~80–160 µs after the caller, and unbounded it let three threads share two
/// cores. A forward pass runs hundreds of loops back to back, so that was several percent of it.
/// </summary>
internal static class CoreTeam
{
    /// <summary>How long an idle worker spins before it sleeps (until the next loop wakes it).</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 500; // 2 ms

    private static readonly int WorkerCount = Environment.ProcessorCount - 1;
    private static readonly object Sleep = new();
    private static Job? s_job;
    private static int s_busy, s_sleepers, s_started;

    /// <summary>One loop: its body, the next unclaimed index, and the workers inside it.</summary>
    private sealed class Job(int count, Action<int> body)
    {
        public readonly int Count = count;
        public readonly Action<int> Body = body;
        public int Next, Active;
        public Exception? Error;

        /// <summary>Claims and runs indices until none are left (or one has thrown).</summary>
        public void Work()
        {
            for (int i = Interlocked.Increment(ref Next) - 1; i < Count; i = Interlocked.Increment(ref Next) - 1)
            {
                try
                {
                    Body(i);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref Error, e, null);
                    Volatile.Write(ref Next, Count);
                }
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/>(i) for i in [0, <paramref name="count"/>) across the cores and returns
    /// when all have finished; rethrows the first exception a body threw. A loop started while another
    /// holds the team (a concurrent caller, or a body's own loop) runs on its calling thread alone.
    /// </summary>
    public static void For(int count, Action<int> body)
    {
        if (count <= 0) return;
        if (count == 1 || WorkerCount == 0 || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        try
        {
            if (Volatile.Read(ref s_started) == 0) Start();
            var job = new Job(count, body);
            Interlocked.Exchange(ref s_job, job); // a full fence: a worker going to sleep after this sees the job
            if (Volatile.Read(ref s_sleepers) > 0)
                lock (Sleep) Monitor.PulseAll(Sleep);
            job.Work();
            var spin = new SpinWait();
            while (Volatile.Read(ref job.Active) > 0) spin.SpinOnce(sleep1Threshold: -1);
            if (job.Error is { } error) ExceptionDispatchInfo.Throw(error);
        }
        finally
        {
            Volatile.Write(ref s_busy, 0);
        }
    }

    private static void Start()
    {
        lock (Sleep)
        {
            if (s_started != 0) return;
            for (int w = 0; w < WorkerCount; w++)
                new Thread(WorkerLoop) { IsBackground = true, Name = $"LeadEngine SIMD worker {w + 1}" }.Start();
            Volatile.Write(ref s_started, 1);
        }
    }

    private static void WorkerLoop()
    {
        Job? done = null;
        long idleSince = Stopwatch.GetTimestamp();
        while (true)
        {
            var job = Volatile.Read(ref s_job);
            if (job != done && job is not null)
            {
                // Counted in before claiming, so a caller that sees no active worker knows every claimed index has finished.
                Interlocked.Increment(ref job.Active);
                job.Work();
                Interlocked.Decrement(ref job.Active);
                done = job;
                idleSince = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetTimestamp() - idleSince < SpinTicks)
            {
                Thread.SpinWait(16);
            }
            else
            {
                lock (Sleep)
                {
                    Interlocked.Increment(ref s_sleepers);
                    while (Volatile.Read(ref s_job) == done) Monitor.Wait(Sleep);
                    Interlocked.Decrement(ref s_sleepers);
                }
                idleSince = Stopwatch.GetTimestamp();
            }
        }
    }
}

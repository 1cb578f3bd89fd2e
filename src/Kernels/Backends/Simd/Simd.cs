namespace LeadEngine.Kernels;

/// <summary>Work splitting for the SIMD CPU backend.</summary>
internal static class Simd
{
    /// <summary>
    /// Elements per parallel chunk of elementwise work: large enough to amortise scheduling, small
    /// enough that a chunk's fp32 scratch (32 KB) stays off the large-object heap and in L1/L2.
    /// </summary>
    public const int Chunk = 1 << 13;

    /// <summary>Runs <paramref name="body"/>(start, length) over [0, count) in parallel chunks (one chunk runs inline).</summary>
    public static void ForChunks(long count, Action<long, long> body) =>
        CoreTeam.For(checked((int)((count + Chunk - 1) / Chunk)), c => body((long)c * Chunk, Math.Min(Chunk, count - (long)c * Chunk)));

    /// <summary>
    /// Runs <paramref name="body"/>(firstRow, rowCount) over [0, <paramref name="rows"/>) in parallel blocks of
    /// whole rows of about <see cref="Chunk"/> elements. Claiming a loop index is an atomic on a line both
    /// cores write: one index per 64-float row (the tiny model's RMSNorm) spent more time there than on the row.
    /// </summary>
    public static void ForRows(int rows, int rowLength, Action<int, int> body)
    {
        int block = Math.Max(1, Chunk / Math.Max(1, rowLength));
        CoreTeam.For((rows + block - 1) / block, c => body(c * block, Math.Min(block, rows - c * block)));
    }

    /// <summary>Runs <paramref name="body"/>(i) over [0, count) on the host, in parallel chunks.</summary>
    public static void ForEach(long count, Action<long> body) =>
        ForChunks(count, (start, length) =>
        {
            for (long i = start; i < start + length; i++) body(i);
        });

    // Per-thread scratch buffers, see Scratch.
    [ThreadStatic] private static float[]?[]? t_scratch;

    /// <summary>
    /// The calling thread's pinned scratch buffer number <paramref name="slot"/> (0–4), at least
    /// <paramref name="length"/> floats, contents undefined, valid until the thread asks for the same slot
    /// again. Reused because every allocation on the pinned heap counts towards a full (gen2) collection:
    /// allocating per call cost a 1–2.5 ms collection every call or two of the tiny model's forward.
    /// </summary>
    public static float[] Scratch(int slot, int length)
    {
        var slots = t_scratch ??= new float[]?[5];
        var buffer = slots[slot];
        if (buffer is null || buffer.Length < length)
            slots[slot] = buffer = GC.AllocateUninitializedArray<float>(Math.Max(length, 2 * (buffer?.Length ?? 0)), pinned: true);
        return buffer;
    }
}

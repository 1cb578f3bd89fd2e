using System.Security.Cryptography;
using System.Text;

namespace LeadEngine.LeadScoring;

/// <summary>
/// Which of N shards a lead belongs to, by a hash of its id: stable across machines, processes and runs (unlike
/// <see cref="string.GetHashCode()"/>), so N batch-scoring workers (a Kubernetes Indexed Job) split a lead file without
/// talking to each other and every lead is scored exactly once.
/// </summary>
public static class LeadShard
{
    /// <summary>The shard, 0..<paramref name="shards"/>−1, of the lead <paramref name="leadId"/>: the first 8 bytes of SHA-256(id) modulo N.</summary>
    public static int Of(string leadId, int shards)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        return (int)(Hash(leadId) % (ulong)shards);
    }

    /// <summary>
    /// The lead's place in [0, 1) by the same hash (its top 53 bits): uniform over ids, the same everywhere, so the feedback
    /// store can sample open leads by it (a window of places from a random start) with known inclusion probabilities.
    /// </summary>
    public static double Position(string leadId) => (Hash(leadId) >> 11) * (1.0 / (1UL << 53));

    private static ulong Hash(string leadId)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(leadId), hash);
        return BitConverter.ToUInt64(hash);
    }

    /// <summary>Parses <c>I/N</c> (0 ≤ I &lt; N), as <c>score --shard</c> takes it; throws <see cref="ArgumentException"/> naming the text.</summary>
    public static (int Index, int Count) Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int index) || !int.TryParse(parts[1], out int count) || count < 1 || index < 0 || index >= count)
            throw new ArgumentException($"--shard '{text}': expected I/N with 0 ≤ I < N, e.g. 0/4 (a Kubernetes Indexed Job's JOB_COMPLETION_INDEX/completions)");
        return (index, count);
    }
}

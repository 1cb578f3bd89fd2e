using System.Security.Cryptography;
using System.Text;

namespace LeadEngine.Feedback;

/// <summary>One adapter version in the store's model history.</summary>
/// <param name="Id">v0001, v0002, …</param>
/// <param name="Parent">The version it was warm-started from; null for an imported one.</param>
/// <param name="CreatedAt">When it was made.</param>
/// <param name="Status">promoted (it served, or serves now) or rejected (it never served).</param>
/// <param name="TrainedUntil">The latest outcome time it was trained on (outcomes after it are new to it); null: none of the store's.</param>
/// <param name="Note">Why it was promoted or rejected, with the numbers.</param>
/// <param name="ContentHash">SHA-256 of its files (<see cref="ModelFile.HashOf"/>): every host checks what it unpacks against it.</param>
/// <param name="Host">The machine that made it.</param>
public sealed record ModelVersion(string Id, string? Parent, DateTimeOffset CreatedAt, string Status, DateTimeOffset? TrainedUntil, string Note,
    string ContentHash, string Host)
{
    /// <summary>The status of a version that served.</summary>
    public const string Promoted = "promoted";
    /// <summary>The status of a version that never served.</summary>
    public const string Rejected = "rejected";
}

/// <summary>One change of the version that serves: which version, when, why, and from which host.</summary>
/// <param name="Sequence">Order of the changes; the highest is the one in force.</param>
/// <param name="VersionId">The version that serves from then on.</param>
/// <param name="At">When.</param>
/// <param name="Action">import (the first version), promote (an update) or rollback.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="Host">The machine that made the change.</param>
public sealed record ModelPromotion(long Sequence, string VersionId, DateTimeOffset At, string Action, string Reason, string Host);

/// <summary>Every version a store has had and every change of the one that serves, oldest first.</summary>
/// <param name="Versions">Every version, by id.</param>
/// <param name="Promotions">Every change, in order.</param>
public sealed record ModelHistory(IReadOnlyList<ModelVersion> Versions, IReadOnlyList<ModelPromotion> Promotions)
{
    /// <summary>The change in force (null for a store without a history).</summary>
    public ModelPromotion? Current => Promotions.Count == 0 ? null : Promotions[^1];
}

/// <summary>One file of a version's adapter folder, as the store keeps it.</summary>
/// <param name="Name">Its path inside the adapter folder, with '/' between folders.</param>
/// <param name="Content">Its bytes.</param>
public sealed record ModelFile(string Name, byte[] Content)
{
    /// <summary>
    /// The hex SHA-256 over the files in name order, each as its name, a zero byte, its length and its bytes, so
    /// that a renamed or truncated file changes it.
    /// </summary>
    public static string HashOf(IEnumerable<ModelFile> files)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(file.Name));
            sha.AppendData([0]);
            sha.AppendData(BitConverter.GetBytes((long)file.Content.Length));
            sha.AppendData(file.Content);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}

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

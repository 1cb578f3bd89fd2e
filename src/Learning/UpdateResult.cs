namespace LeadEngine.Learning;

/// <summary>What an update did.</summary>
/// <param name="Version">The candidate's version id; null when there was nothing new to learn from.</param>
/// <param name="Promoted">Whether the candidate became current.</param>
/// <param name="Reason">Why, with the numbers.</param>
/// <param name="NewOutcomes">Leads with outcomes newer than the current version's training, trained on.</param>
/// <param name="Replay">Older outcomes replayed.</param>
/// <param name="Holdout">Leads in the temporal hold-out.</param>
/// <param name="Current">The current version on the hold-out.</param>
/// <param name="Candidate">The candidate on the hold-out.</param>
/// <param name="OffPolicyDifference">Doubly robust reward per call list, candidate minus current, on the logged lists (null with too few).</param>
/// <param name="Lists">Logged call lists with settled outcomes used for it.</param>
/// <param name="UnsupportedShare">The share of where the two models' lists differ that the logs give too little chance to weigh.</param>
public sealed record UpdateResult(string? Version, bool Promoted, string Reason, int NewOutcomes, int Replay, int Holdout, HoldoutMetrics? Current,
    HoldoutMetrics? Candidate, PolicyEstimate? OffPolicyDifference, int Lists, double UnsupportedShare = 0);

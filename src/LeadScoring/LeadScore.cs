namespace LeadEngine.LeadScoring;

/// <summary>A lead's score.</summary>
/// <param name="LeadId">The lead.</param>
/// <param name="Probability">
/// Calibrated conversion probability: the adapter's chosen model, either σ(pointwise head) or the
/// stacked tree model over the columns, the dialogue and the heads' outputs. Score, grade and every
/// reported metric come from it.
/// </param>
/// <param name="RankingScore">The pairwise head's score (higher ranks first).</param>
/// <param name="Score">0–100: the probability's percentile among the training leads.</param>
/// <param name="Grade">A–D by that percentile: A top 5%, B next 15%, C next 30%, D the rest.</param>
/// <param name="YesProbability">The LM head's P(Yes) against P(No).</param>
/// <param name="HeadProbability">σ(pointwise head) alone (equal to <paramref name="Probability"/> without a stacked model).</param>
public sealed record LeadScore(string LeadId, double Probability, double RankingScore, int Score, char Grade, double YesProbability, double HeadProbability);

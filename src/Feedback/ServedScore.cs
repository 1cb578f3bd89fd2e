namespace LeadEngine.Feedback;

/// <summary>A score as served, for the store.</summary>
/// <param name="LeadId">The lead.</param>
/// <param name="ModelVersion">The weights that produced it.</param>
/// <param name="Probability">Conversion probability.</param>
/// <param name="RankingScore">Pairwise head's score.</param>
/// <param name="Score">0–100.</param>
/// <param name="Grade">A–D.</param>
public sealed record ServedScore(string LeadId, string ModelVersion, double Probability, double RankingScore, int Score, char Grade);
